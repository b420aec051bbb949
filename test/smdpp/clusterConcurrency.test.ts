// `mcim serve --workers 2` on one SQLite database, and on one PostgreSQL database (--db), under concurrent downloads and
// notifications (issue 8): every call is answered (no HTTP 500 "database is locked"), every PIR and notification
// recorded once. Each call opens its own connection, so calls spread over both workers.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotificationEvent } from '../../src/asn1/definitions/rsp.js';
import { encodeIccid } from '../../src/asn1/definitions/saip.js';
import { initSmdpDataDir, openSmdpStore } from '../../src/smdpp/dataDir.js';
import { importProfile } from '../../src/smdpp/importProfile.js';
import { postgresConfig, type DatabaseConfig } from '../../src/store/database.js';
import { fixturePath } from '../helpers/fixtures.js';
import { PG_URL, dropSchema } from '../helpers/postgres.js';
import { es9Post, startServe, type Es9Answer, type ServeProcess } from '../helpers/serveProcess.js';
import { EuiccSimulator, type AuthenticateClientOk, type InitiateAuthenticationOk } from './euiccSimulator.js';
import { pkiFromDir } from './harness.js';

const PROFILE = readFileSync(fixturePath('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der'));
const dir = mkdtempSync(join(tmpdir(), 'mcim-cluster-db-'));
const pgSchema = `mcim_cluster_${process.pid}_${randomBytes(3).toString('hex')}`;
let server: ServeProcess | undefined;
const IN_FLIGHT = 40;

after(async () => {
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
  await dropSchema(pgSchema);
});

async function startServer(data: string, db: readonly string[]): Promise<number> {
  server = await startServe(['--data', data, '--listen', '127.0.0.1', '--port', '0', '--workers', '2', ...db], [/https:\/\/127\.0\.0\.1:(\d+)\/[\s\S]*\(2 worker processes\)/], 20_000);
  return server.port;
}

const ENGINES: readonly { name: string; db: readonly string[]; config: DatabaseConfig | undefined }[] = [
  { name: 'SQLite', db: [], config: undefined },
  { name: 'PostgreSQL', db: ['--db', `${PG_URL}?schema=${pgSchema}`], config: postgresConfig(`${PG_URL}?schema=${pgSchema}`) },
];

for (const engine of ENGINES) describe(`mcim serve --workers 2 on one ${engine.name} database`, () => {
  it('answers concurrent downloads and notifications without an HTTP 500', { timeout: 90_000 }, async () => {
    const data = join(dir, engine.name);
    const port = await startServer(data, engine.db);
    const pki = initSmdpDataDir(data);
    const ca = readFileSync(pki.ciCertificateFiles.p256!);
    const devicePki = pkiFromDir(pki, 'p256');
    const statuses: number[] = [];
    const post = async (fn: string, body: unknown): Promise<Es9Answer> => {
      const answer = await es9Post(port, ca, fn, body);
      statuses.push(answer.status);
      return answer;
    };
    const b64 = (b: Buffer): string => b.toString('base64');

    /** A whole download with its PIR; returns the ICCID delivered. */
    const download = async (matchingId: string): Promise<Buffer> => {
      const euicc = new EuiccSimulator(devicePki);
      const init = (await post('initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: pki.address })).body as unknown as InitiateAuthenticationOk;
      assert.equal(typeof init.transactionId, 'string', JSON.stringify(init));
      const auth = (await post('authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)) })).body as unknown as AuthenticateClientOk;
      assert.equal(auth.transactionId, init.transactionId, JSON.stringify(auth));
      const bpp = await post('getBoundProfilePackage', { transactionId: init.transactionId, prepareDownloadResponse: b64(euicc.prepareDownload(auth)) });
      const unwrapped = euicc.loadBoundProfilePackage(Buffer.from(bpp.body.boundProfilePackage as string, 'base64'));
      assert.ok(unwrapped.profilePackage.equals(PROFILE));
      const iccid = encodeIccid(await iccidOf(matchingId));
      assert.equal((await post('handleNotification', { pendingNotification: b64(euicc.installationResult(pki.oid, pki.address, iccid, true)) })).status, 204);
      return iccid;
    };

    const store = await openSmdpStore(pki, engine.config);
    const iccidOf = async (matchingId: string): Promise<string> => (await store.orders.get(matchingId))!.iccid;
    try {
      const ids = await Promise.all(
        Array.from({ length: 16 }, async (_, i) => (await importProfile(store, PROFILE, { matchingId: `CLUSTER-${engine.name.toUpperCase()}-${i}-${Date.now()}` }, Date.now())).matchingId!),
      );
      const first = await Promise.all(ids.slice(0, 4).map(download));
      // Downloads and a stream of signed notifications about the delivered profiles, all at once.
      // At most IN_FLIGHT at a time: the server caps connections per address (64 per worker by default).
      const notifier = new EuiccSimulator(devicePki);
      const tasks: (() => Promise<unknown>)[] = [
        ...ids.slice(4).map((id) => () => download(id)),
        ...Array.from({ length: 120 }, (_, i) => () =>
          post('handleNotification', { pendingNotification: b64(notifier.otherNotification(i % 2 === 0 ? NotificationEvent.notificationEnable : NotificationEvent.notificationDisable, pki.address, first[i % first.length]!)) }),
        ),
      ];
      tasks.sort(() => Math.random() - 0.5);
      let next = 0;
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (next < tasks.length) await tasks[next++]!();
      }));

      assert.deepEqual(
        statuses.filter((s) => s !== 200 && s !== 204),
        [],
        'every call answered 200 or 204',
      );
      for (const id of ids) assert.equal((await store.orders.get(id))?.state, 'installed', `${id} installed (its PIR recorded)`);
      const recorded = await store.db.selectFrom('smdp_notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('operation', '!=', 'install').executeTakeFirstOrThrow();
      assert.equal(Number(recorded.n), 120, 'every notification recorded once');
    } finally {
      await store.close();
    }
    server!.child.kill('SIGTERM');
  });
});
