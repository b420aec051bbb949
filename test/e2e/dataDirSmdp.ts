// The SM-DP+ of the end-to-end tests: a fresh data directory (test PKI on both curves), served over HTTPS on loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpOptions } from '../../src/cli/commands/device.js';
import { initSmdpDataDir, openSmdpStore, type SmdpDataDir } from '../../src/smdpp/dataDir.js';
import type { NotificationResult } from '../../src/smdpp/es9plus/handleNotification.js';
import { createSmdpServer, type SmdpServer } from '../../src/smdpp/server.js';
import type { SmdpStore } from '../../src/store/smdpStore.js';

export interface DataDirSmdp {
  /** A temporary directory for the test's files; the data directory is `tmp/smdp`. */
  readonly tmp: string;
  readonly data: SmdpDataDir;
  readonly store: SmdpStore;
  readonly server: SmdpServer;
  readonly port: number;
  /** The IPA's HTTPS options: the data directory's CI as trust anchor, connecting to the loopback port. */
  readonly http: ReturnType<typeof httpOptions>;
  close(): Promise<void>;
}

/** Starts it; an internal error of the server fails the test that caused it. */
export async function startDataDirSmdp(prefix: string, address: string, onNotification?: (n: NotificationResult) => void): Promise<DataDirSmdp> {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const data = initSmdpDataDir(join(tmp, 'smdp'), address);
  const store = await openSmdpStore(data);
  const server = createSmdpServer({
    address: data.address,
    oid: data.oid,
    credentials: data.credentials,
    store,
    tls: data.tls,
    ...(onNotification === undefined ? {} : { onNotification }),
    onInternalError: (e) => {
      throw e;
    },
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (server.app.server.address() as AddressInfo).port;
  return {
    tmp,
    data,
    store,
    server,
    port,
    http: httpOptions({ ca: [data.ciCertificateFiles.p256!], connect: `127.0.0.1:${port}` }),
    async close() {
      await server.app.close();
      await store.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
