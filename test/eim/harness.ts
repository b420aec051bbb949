// The eIM under test: a store on a fresh SQLite file or PostgreSQL schema, a context with its own signing key and CIs.
import type { KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createEimServer, type EimServer, type EimServerOptions } from '../../src/eim/server.js';
import type { EimOptions } from '../../src/eim/context.js';
import type { HttpsClientOptions } from '../../src/ipa/httpsClient.js';
import { certificateToPem } from '../../src/pki/certificate.js';
import { issueTestPki } from '../../src/pki/testPki.js';
import { eimContext, type EimContext } from '../../src/eim/context.js';
import { generateKeyPair, type EcCurve } from '../../src/crypto/ecdsa.js';
import { openDatabase, type Database, type DatabaseConfig } from '../../src/store/database.js';
import { EimStore } from '../../src/store/eimStore.js';
import { freshDatabase, type Engine } from '../auc/harness.js';

export { ENGINES, type Engine } from '../auc/harness.js';

export interface TestEimServer {
  readonly db: Database;
  readonly store: EimStore;
  readonly ctx: EimContext;
  readonly publicKey: KeyObject;
  /** The database, for a second connection (another eIM process). */
  readonly config: DatabaseConfig;
  close(): Promise<void>;
}

export async function openTestEim(engine: Engine, trustedCis: readonly Buffer[], o: { curve?: EcCurve; eimId?: string } = {}): Promise<TestEimServer> {
  const fresh = freshDatabase(engine);
  const db = await openDatabase(fresh.config);
  const store = new EimStore(db);
  const { privateKey, publicKey } = generateKeyPair(o.curve ?? 'P-256');
  const ctx = eimContext({ eimId: o.eimId ?? 'eim.example.com', signingKey: privateKey, trustedCis, store });
  return {
    db,
    store,
    ctx,
    publicKey,
    config: fresh.config,
    async close() {
      await db.destroy();
      await fresh.drop();
    },
  };
}

/** An eIM serving ESipa over HTTPS on loopback, its TLS certificate (for `eim.example.com`) issued by its own test CI. */
export interface RunningEim {
  readonly server: EimServer;
  readonly port: number;
  /** The IPA's HTTPS options towards it: the TLS CI as trust anchor, connecting to the loopback port. */
  readonly http: HttpsClientOptions;
  readonly url: string;
  /** The typed errors of refused requests, in order. */
  readonly refusals: { code: string; fn: string }[];
  /** Its TLS credentials (PEM; also a TLS client certificate: TransferEimPackage pushes) and their CI (the IPAd's trust anchor for the eIM). */
  readonly tls: { readonly key: string; readonly cert: string; readonly ca: string };
  close(): Promise<void>;
}

export const EIM_HOST = 'eim.example.com';

export async function startEimServer(o: EimOptions & Pick<EimServerOptions, 'onRelayed'>): Promise<RunningEim> {
  const tlsPki = issueTestPki({ smdpAddress: EIM_HOST });
  const refusals: { code: string; fn: string }[] = [];
  const tls = { key: tlsPki.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert: certificateToPem(tlsPki.dpTls.der), ca: certificateToPem(tlsPki.ci.der) };
  const server = createEimServer({
    ...o,
    tls: { key: tls.key, cert: tls.cert },
    onRefusal: (e, fn) => refusals.push({ code: e.code, fn }),
    onInternalError: (e) => {
      throw e;
    },
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (server.app.server.address() as AddressInfo).port;
  return {
    server,
    port,
    http: { ca: [certificateToPem(tlsPki.ci.der)], connect: { host: '127.0.0.1', port } },
    url: `https://${EIM_HOST}`,
    refusals,
    tls,
    close: () => server.app.close(),
  };
}
