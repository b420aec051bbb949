// Issue 9, PostgreSQL for production: two `mcim serve` processes (data directories copied from one, each with its own
// ES9+ and ES2+ port) on one PostgreSQL schema, started at once on the new schema. Concurrent DownloadOrders by profile
// type over both never allocate a profile twice; ConfirmOrders of one ICCID on both confirm it once; downloads whose
// steps alternate between the processes complete, a session contested by both is served by one; every
// HandleDownloadProgressInfo is accepted once and in order per profile, with both processes delivering the outbox.
// The AuC's counters (SQN from two processes on one database) are covered by test/auc/aucStore.test.ts ("two AuC
// processes ... no SQN twice").
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { encodeIccid } from '../../src/asn1/definitions/saip.js';
import { listenForDownloadProgress, type DownloadProgressInfo, type ProgressListener } from '../../src/operator/handleDownloadProgressInfo.js';
import { confirmOrder } from '../../src/operator/confirmOrder.js';
import { downloadOrder } from '../../src/operator/downloadOrder.js';
import { Es2PlusFailure } from '../../src/operator/errors.js';
import { Es2PlusClient } from '../../src/operator/es2plusClient.js';
import { addProfileType } from '../../src/smdpp/addProfileType.js';
import { initSmdpDataDir, openSmdpStore, type SmdpDataDir } from '../../src/smdpp/dataDir.js';
import { generateStock } from '../../src/smdpp/generateProfiles.js';
import { postgresConfig } from '../../src/store/database.js';
import { OperatorTenants } from '../../src/store/operatorTenants.js';
import { ProfileStock } from '../../src/store/profileStock.js';
import type { SmdpStore } from '../../src/store/smdpStore.js';
import { readFixture } from '../helpers/fixtures.js';
import { PG_URL, dropSchema } from '../helpers/postgres.js';
import { es9Post, startServe, type Es9Answer, type ServeProcess } from '../helpers/serveProcess.js';
import { EuiccSimulator, type AuthenticateClientOk, type InitiateAuthenticationOk } from '../smdpp/euiccSimulator.js';
import { pkiFromDir } from '../smdpp/harness.js';
import { loopbackIdentity } from '../helpers/loopbackIdentity.js';

const OP = '63bfa50ee6523365ff14c1f45f88737d';
const STOCK = 10;
const ORDERS = 16;
/** Downloads whose steps alternate between the processes; one more order is the contested session's. */
const DOWNLOADS = 6;
const tmp = mkdtempSync(join(tmpdir(), 'mcim-two-pg-'));
const schema = `mcim_two_${process.pid}_${randomBytes(3).toString('hex')}`;
const dbUrl = `${PG_URL}?schema=${schema}`;


interface Served {
  readonly process: ServeProcess;
  readonly es9: number;
  readonly es2: number;
}

/** SIGTERM (the server closes its store and stops its delivery), SIGKILL if it has not exited after 5 s. */
async function stop(p: ServeProcess): Promise<void> {
  const { child } = p;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(p.kill, 5_000);
  await exited;
  clearTimeout(timer);
}

/** The (iccid, point) of each delivery a process logged. */
function deliveriesLogged(p: ServeProcess): string[] {
  return p
    .stdout()
    .split('\n')
    .filter((line) => line.includes('HandleDownloadProgressInfo delivered'))
    .map((line) => {
      const entry = JSON.parse(line) as { iccid: string; point: number };
      return `${entry.iccid}/${entry.point}`;
    });
}

/** The status code data of a Failed ES9+ answer, e.g. '8.10.1/3.9'; 'ok' when it did not fail. */
function failureOf(answer: Es9Answer): string {
  const status = (answer.body['header'] as { functionExecutionStatus?: { status?: string; statusCodeData?: { subjectCode: string; reasonCode: string } } } | undefined)?.functionExecutionStatus;
  if (status?.status !== 'Failed') return 'ok';
  return `${status.statusCodeData?.subjectCode}/${status.statusCodeData?.reasonCode}`;
}

describe('two mcim serve processes on one PostgreSQL schema (issue 9)', () => {
  let data: SmdpDataDir;
  let store: SmdpStore;
  let listener: ProgressListener;
  const servers: Served[] = [];
  const operator = loopbackIdentity('operator-one');
  /** Accepted notifications per `${iccid}/${point}`, and the accepted points of each ICCID in arrival order. */
  const accepted = new Map<string, number>();
  const pointsOf = new Map<string, number[]>();
  /** The (iccid, point) whose first delivery the operator refuses (HTTP 500): it must come again, once accepted. */
  let refuseOnce: string | undefined;
  let refuseOnceCalls = 0;

  before(async () => {
    data = initSmdpDataDir(join(tmp, 'a'));
    cpSync(join(tmp, 'a'), join(tmp, 'b'), { recursive: true });
    // Both start at once on the new schema: each creates it and runs the migrations (one at a time, under a lock).
    const started = await Promise.all(
      ['a', 'b'].map((dir) =>
        startServe(
          ['--data', join(tmp, dir), '--db', dbUrl, '--listen', '127.0.0.1', '--port', '0', '--workers', '1', '--es2plus-port', '0'],
          [/serving ES9\+ on https:\/\/127\.0\.0\.1:(\d+)\//, /ES2\+ for operators .* on https:\/\/127\.0\.0\.1:(\d+)\//],
          30_000,
        ),
      ),
    );
    for (const p of started) servers.push({ process: p, es9: p.port, es2: Number(p.matches[1]![1]) });

    listener = await listenForDownloadProgress(
      {
        cert: operator.cert,
        key: operator.key,
        smdpCertificateFingerprints: [new X509Certificate(data.tls.cert).fingerprint256],
        onProgress: (info: DownloadProgressInfo) => {
          const key = `${info.iccid}/${info.notificationPointId}`;
          if (key === refuseOnce && refuseOnceCalls++ === 0) throw new Error('the operator is not ready yet');
          accepted.set(key, (accepted.get(key) ?? 0) + 1);
          pointsOf.set(info.iccid, [...(pointsOf.get(info.iccid) ?? []), info.notificationPointId]);
        },
      },
      0,
      '127.0.0.1',
    );

    store = await openSmdpStore(data, postgresConfig(dbUrl));
    const stock = new ProfileStock(store.db, data.atRestKey.box());
    await addProfileType(stock, { name: 'iot-milenage', operator: 'op1', template: readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der'), rules: { op: OP, iccidPrefix: '8988', imsiPrefix: '00101' } }, Date.now());
    await generateStock(stock, 'iot-milenage', { count: STOCK, iccidStart: '898800000000000700', imsiStart: '001010000000700' }, Date.now());
    const tenants = new OperatorTenants(store.db);
    await tenants.add({ operator: 'op1', functionRequesterIdentifier: 'op1', callbackUrl: `https://127.0.0.1:${listener.port}`, callbackCa: operator.cert }, Date.now());
    await tenants.addCertificate('op1', { fingerprint: createHash('sha256').update(operator.der).digest('hex'), subject: 'CN=operator one', notBefore: 0, notAfter: Date.now() + 3_600_000 }, Date.now());
  });

  after(async () => {
    await Promise.all(servers.map((s) => stop(s.process)));
    await listener?.close();
    await store?.close();
    await dropSchema(schema);
    rmSync(tmp, { recursive: true, force: true });
  });

  const client = (s: Served): Es2PlusClient =>
    new Es2PlusClient({
      smdpUrl: `https://127.0.0.1:${s.es2}`,
      functionRequesterIdentifier: 'op1',
      cert: operator.cert,
      key: operator.key,
      ca: readFileSync(data.ciCertificateFiles.p256!),
      servername: 'localhost',
    });
  const es2Failure = (e: unknown): string => {
    if (!(e instanceof Es2PlusFailure)) throw e;
    return `${e.subjectCode}/${e.reasonCode}`;
  };

  it('orders, downloads and callbacks spread over both processes: nothing allocated, served or accepted twice', { timeout: 90_000 }, async (t) => {
    const [one, two] = servers as [Served, Served];
    const ca = readFileSync(data.ciCertificateFiles.p256!);
    const es9 = (s: Served, fn: string, body: unknown): Promise<Es9Answer> => es9Post(s.es9, ca, fn, body);
    const b64 = (b: Buffer): string => b.toString('base64');

    // DownloadOrder by profile type, half on each process, all at once: the stock's count succeed, each a distinct ICCID.
    const orders = await Promise.all(
      Array.from({ length: ORDERS }, (_, i) =>
        downloadOrder(client(servers[i % 2]!), { profileType: 'iot-milenage' }).then(
          (r) => r.iccid,
          (e: unknown) => es2Failure(e),
        ),
      ),
    );
    const iccids = orders.filter((o) => /^\d{19,20}$/.test(o));
    assert.equal(iccids.length, STOCK, `${STOCK} orders succeed: ${orders.join(', ')}`);
    assert.equal(new Set(iccids).size, STOCK, 'no ICCID allocated twice');
    assert.deepEqual(
      orders.filter((o) => !iccids.includes(o)),
      Array.from({ length: ORDERS - STOCK }, () => '8.2.5/3.7'),
      'the rest: no more profiles of the type',
    );
    const { rows } = await sql<{ state: string }>`SELECT state FROM stock_profiles`.execute(store.db);
    assert.deepEqual(
      rows.map((r) => r.state),
      Array.from({ length: STOCK }, () => 'allocated'),
      'the whole stock allocated, nothing more',
    );

    // ConfirmOrder of every ICCID, each on both processes at once: one confirms it, the other finds it taken (8.2.1/3.3).
    const confirmed = await Promise.all(
      iccids.map(async (iccid) => {
        const outcomes = await Promise.all(
          servers.map((s) =>
            confirmOrder(client(s), { iccid, releaseFlag: true }).then(
              (r) => r.matchingId,
              (e: unknown) => es2Failure(e),
            ),
          ),
        );
        const won = outcomes.filter((o) => o !== '8.2.1/3.3');
        assert.equal(won.length, 1, `${iccid} confirmed once: ${outcomes.join(', ')}`);
        return { iccid, matchingId: won[0]! };
      }),
    );
    assert.equal(new Set(confirmed.map((c) => c.matchingId)).size, STOCK, 'a matching ID per order');

    const devicePki = pkiFromDir(data, 'p256');
    const transactionIds: string[] = [];
    const initiate = async (euicc: EuiccSimulator, s: Served): Promise<InitiateAuthenticationOk> => {
      const init = (await es9(s, 'initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: data.address })).body as unknown as InitiateAuthenticationOk;
      assert.equal(typeof init.transactionId, 'string', JSON.stringify(init));
      transactionIds.push(init.transactionId);
      return init;
    };
    const install = async (euicc: EuiccSimulator, s: Served, iccid: string): Promise<void> => {
      const pir = await es9(s, 'handleNotification', { pendingNotification: b64(euicc.installationResult(data.oid, data.address, encodeIccid(iccid), true)) });
      assert.equal(pir.status, 204);
    };

    /** A download whose every step goes to the other process than the step before. */
    const alternating = async ({ iccid, matchingId }: { iccid: string; matchingId: string }, first: number): Promise<void> => {
      const at = (step: number): Served => servers[(first + step) % 2]!;
      const euicc = new EuiccSimulator(devicePki);
      const init = await initiate(euicc, at(0));
      const auth = (await es9(at(1), 'authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)) })).body as unknown as AuthenticateClientOk;
      assert.equal(auth.transactionId, init.transactionId, JSON.stringify(auth));
      const bpp = await es9(at(2), 'getBoundProfilePackage', { transactionId: init.transactionId, prepareDownloadResponse: b64(euicc.prepareDownload(auth)) });
      assert.equal(failureOf(bpp), 'ok', JSON.stringify(bpp.body));
      euicc.loadBoundProfilePackage(Buffer.from(bpp.body['boundProfilePackage'] as string, 'base64'));
      await install(euicc, at(3), iccid);
    };

    /** A session whose AuthenticateClient and GetBoundProfilePackage each go to both processes at once: one serves each. */
    const contested = async ({ iccid, matchingId }: { iccid: string; matchingId: string }): Promise<void> => {
      const euicc = new EuiccSimulator(devicePki);
      const init = await initiate(euicc, one);
      const signed = b64(euicc.authenticateServer(init, matchingId));
      const auths = await Promise.all([one, two].map((s) => es9(s, 'authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: signed })));
      assert.deepEqual(auths.map(failureOf).sort(), ['8.10.1/3.9', 'ok'], 'AuthenticateClient served by one process');
      const auth = auths.find((a) => failureOf(a) === 'ok')!.body as unknown as AuthenticateClientOk;
      const prepared = b64(euicc.prepareDownload(auth));
      const bpps = await Promise.all([one, two].map((s) => es9(s, 'getBoundProfilePackage', { transactionId: init.transactionId, prepareDownloadResponse: prepared })));
      assert.deepEqual(bpps.map(failureOf).sort(), ['8.2/3.7', 'ok'], 'the bound profile package delivered by one process');
      euicc.loadBoundProfilePackage(Buffer.from(bpps.find((b) => failureOf(b) === 'ok')!.body['boundProfilePackage'] as string, 'base64'));
      await install(euicc, two, iccid);
    };

    const downloaded = confirmed.slice(0, DOWNLOADS + 1);
    // The first point of the first download is refused once: its retry (after the backoff) may come from either process.
    refuseOnce = `${downloaded[0]!.iccid}/1`;
    await Promise.all([...downloaded.slice(0, DOWNLOADS).map((o, i) => alternating(o, i % 2)), contested(downloaded[DOWNLOADS]!)]);
    assert.equal(new Set(transactionIds).size, transactionIds.length, 'every transaction ID unique');
    for (const { iccid } of downloaded) {
      const profile = await store.db.selectFrom('smdp_orders').select('state').where('iccid', '=', iccid).executeTakeFirst();
      assert.equal(profile?.state, 'installed', `${iccid} installed`);
    }

    // Both processes deliver the outbox; wait until nothing is pending (the refused entry waits for its backoff, 5-6 s).
    const expected = downloaded.flatMap(({ iccid }) => [1, 3, 4].map((point) => `${iccid}/${point}`)).sort();
    const deadline = Date.now() + 40_000;
    while ((await store.outbox.list('op1', 100, 'pending')).length > 0) {
      assert.ok(Date.now() < deadline, `outbox still pending: ${JSON.stringify(await store.outbox.list('op1', 100, 'pending'))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // A second more: a duplicate sent after acceptance would arrive now.
    await new Promise((r) => setTimeout(r, 1_500));

    assert.deepEqual([...accepted.keys()].sort(), expected, 'every (ICCID, point) accepted');
    assert.deepEqual([...accepted.entries()].filter(([, n]) => n !== 1), [], 'none accepted twice');
    assert.equal(refuseOnceCalls, 2, 'the refused notification was sent again, once');
    for (const { iccid } of downloaded) assert.deepEqual(pointsOf.get(iccid), [1, 3, 4], `${iccid}: its points in order`);
    const entries = await store.outbox.list('op1', 100);
    assert.equal(entries.length, expected.length);
    assert.deepEqual(
      entries.filter((e) => e.attempts > 0).map((e) => `${e.iccid}/${String(e.payload['notificationPointId'])} ${e.attempts}`),
      [`${refuseOnce} 1`],
      'only the refused entry was attempted more than once',
    );
    // Each delivery logged by exactly one process (the split between them varies from run to run).
    const logged = servers.map((s) => deliveriesLogged(s.process));
    assert.deepEqual([...logged[0]!, ...logged[1]!].sort(), expected, 'each delivery logged once, by one process');
    t.diagnostic(`deliveries by process: ${logged[0]!.length} and ${logged[1]!.length}`);
  });
});
