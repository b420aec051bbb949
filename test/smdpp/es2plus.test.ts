// ES2+ (SGP.22 5.3) on SQLite and PostgreSQL: operators identified by pinned TLS client certificates, every function's
// transitions and refusals with the spec's subject/reason codes, tenants isolated, the progress outbox delivered once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { ES2PLUS_PATH } from '../../src/http/es2plusFunctions.js';
import { postJson, type JsonResponse } from '../../src/http/jsonClient.js';
import { certificateToPem } from '../../src/pki/certificate.js';
import { makeEid } from '../../src/pki/eid.js';
import { addProfileType } from '../../src/smdpp/addProfileType.js';
import { DEFAULT_ORDER_LIMITS, type Es2plusContext } from '../../src/smdpp/es2plus/context.js';
import { deliverDueProgress, NOTIFICATION_POINT } from '../../src/smdpp/es2plus/handleDownloadProgressInfo.js';
import { createEs2plusServer } from '../../src/smdpp/es2plusServer.js';
import { generateStock } from '../../src/smdpp/generateProfiles.js';
import type { DatabaseConfig } from '../../src/store/database.js';
import { OperatorProfiles } from '../../src/store/operatorProfiles.js';
import { OperatorTenants } from '../../src/store/operatorTenants.js';
import { ProfileStock } from '../../src/store/profileStock.js';
import { SecretBox } from '../../src/store/secretBox.js';
import { readFixture } from '../helpers/fixtures.js';
import { loopbackIdentity } from '../helpers/loopbackIdentity.js';
import { PG_URL, dropSchema } from '../helpers/postgres.js';
import { SMDP_ADDRESS, startHarness, type Harness } from './harness.js';
import type { FastifyInstance } from 'fastify';
import type { TestPki } from '../../src/pki/testPki.js';

const OP = '63bfa50ee6523365ff14c1f45f88737d';
const TEMPLATE = readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
const EID = makeEid('89049032', '3000000000000000000000000003');
const OTHER_EID = makeEid('89049032', '4000000000000000000000000004');
const pgSchema = `mcim_es2_${process.pid}_${randomBytes(4).toString('hex')}`;

after(() => dropSchema(pgSchema));

interface Identity {
  readonly cert: string;
  readonly key: string;
  readonly der: Buffer;
}

function identity(entity: { der: Buffer; privateKey?: import('node:crypto').KeyObject }): Identity {
  return { cert: certificateToPem(entity.der), key: entity.privateKey!.export({ type: 'pkcs8', format: 'pem' }) as string, der: entity.der };
}

const fingerprint = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

function status(r: JsonResponse): { status?: string; subjectCode?: string; reasonCode?: string; message?: string } {
  const s = (r.body as { header?: { functionExecutionStatus?: { status?: string; statusCodeData?: { subjectCode: string; reasonCode: string; message?: string } } } })?.header?.functionExecutionStatus;
  return { status: s?.status, ...s?.statusCodeData };
}

function assertFailed(r: JsonResponse, subjectCode: string, reasonCode: string): void {
  assert.equal(r.status, 200);
  const s = status(r);
  assert.deepEqual([s.status, s.subjectCode, s.reasonCode], ['Failed', subjectCode, reasonCode], s.message);
}

function assertOk(r: JsonResponse): Record<string, unknown> {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(status(r).status, 'Executed-Success', JSON.stringify(r.body));
  return r.body as Record<string, unknown>;
}

const ENGINES: readonly { name: string; config: () => DatabaseConfig | undefined }[] = [
  { name: 'SQLite', config: () => undefined },
  { name: 'PostgreSQL', config: () => ({ engine: 'postgres', connectionString: PG_URL, schema: pgSchema }) },
];

for (const engine of ENGINES) {
  describe(`ES2+ on ${engine.name}`, () => {
    let h: Harness;
    let es2: FastifyInstance;
    let port = 0;
    let pki: TestPki;
    let opA: Identity;
    let opB: Identity;
    let stranger: Identity;
    let ctx: Es2plusContext;
    let stock: ProfileStock;
    let profiles: OperatorProfiles;
    let tenants: OperatorTenants;
    const kek = new SecretBox(randomBytes(32));

    before(async () => {
      const config = engine.config();
      h = await startHarness(config === undefined ? {} : { database: config });
      pki = h.p256;
      opA = identity(pki.dpAuth);
      opB = identity(pki.dpPb);
      stranger = identity(pki.eum);
      const db = h.store.db;
      stock = new ProfileStock(db, kek);
      profiles = new OperatorProfiles(db, h.store.orders, stock);
      tenants = new OperatorTenants(db);
      for (const [name, who] of [['op-a', opA], ['op-b', opB]] as const) {
        await tenants.add({ operator: name, functionRequesterIdentifier: `${name}-id`, callbackUrl: 'https://127.0.0.1:1' }, h.now);
        await tenants.addCertificate(name, { fingerprint: fingerprint(who.der), subject: name, notBefore: 0, notAfter: h.now + 365 * 86_400_000 }, h.now);
      }
      await addProfileType(stock, { name: 'iot-a', operator: 'op-a', template: TEMPLATE, rules: { op: OP, iccidPrefix: '8988', imsiPrefix: '00101' } }, h.now);
      await addProfileType(stock, { name: 'iot-b', operator: 'op-b', template: TEMPLATE, rules: { op: OP, iccidPrefix: '8988', imsiPrefix: '00102' } }, h.now);
      await generateStock(stock, 'iot-a', { count: 6, iccidStart: '898800000000000100', imsiStart: '001010000000100' }, h.now);
      await generateStock(stock, 'iot-b', { count: 1, iccidStart: '898800000000000900', imsiStart: '001020000000900' }, h.now);
      ctx = { address: SMDP_ADDRESS, tenants, profiles, limits: DEFAULT_ORDER_LIMITS, now: () => h.now };
      es2 = createEs2plusServer({ tls: { key: pki.dpTls.privateKey!.export({ type: 'pkcs8', format: 'pem' }), cert: certificateToPem(pki.dpTls.der) }, context: ctx, onInternalError: (e) => assert.fail(String(e)) });
      await es2.listen({ host: '127.0.0.1', port: 0 });
      port = (es2.server.address() as AddressInfo).port;
    });

    after(async () => {
      await es2.close();
      await h.close();
    });

    const call = (fn: string, body: Record<string, unknown>, who: Identity | null = opA, requester = who === opB ? 'op-b-id' : 'op-a-id'): Promise<JsonResponse> =>
      postJson(`https://127.0.0.1:${port}${ES2PLUS_PATH}/${fn}`, { header: { functionRequesterIdentifier: requester, functionCallIdentifier: randomBytes(4).toString('hex') }, ...body }, {
        ca: certificateToPem(pki.ci.der),
        servername: SMDP_ADDRESS,
        ...(who === null ? {} : { cert: who.cert, key: who.key }),
      });

    const iccids = async (operator: string): Promise<string[]> => {
      const all: string[] = [];
      for await (const s of stock.subscribers(operator)) all.push(s.iccid);
      return all;
    };

    it('refuses hostile bodies before any lookup: oversized (HTTP 413), fields of the wrong type or length (2.1), nothing written', async () => {
      const before = await stock.counts();
      const big = await call('downloadOrder', { profileType: 'iot-a', padding: 'x'.repeat(64 * 1024) }, null);
      assert.equal(big.status, 413);
      assert.deepEqual([status(big).subjectCode, status(big).reasonCode], ['1.1', '2.1']);
      assertFailed(await call('downloadOrder', { profileType: 'p'.repeat(65) }), '8.2.5', '2.1');
      assertFailed(await call('confirmOrder', { iccid: '8988000000000001006', releaseFlag: 'yes' }), '1.6', '2.1');
      assertFailed(await call('cancelOrder', { iccid: ['8988000000000001006'], finalProfileStatusIndicator: 'Available' }), '8.2.1', '2.1');
      assert.deepEqual(await stock.counts(), before);
    });

    it('identifies the operator by its pinned client certificate and its functionRequesterIdentifier (1.1 / 1.1 otherwise)', async () => {
      assertFailed(await call('downloadOrder', { profileType: 'iot-a' }, null), '1.1', '1.1');
      assertFailed(await call('downloadOrder', { profileType: 'iot-a' }, stranger), '1.1', '1.1');
      assertFailed(await call('downloadOrder', { profileType: 'iot-a' }, opA, 'op-b-id'), '1.1', '1.1');
      const r = await call('downloadOrder', { profileType: 'iot-a' });
      assert.deepEqual(await profiles.get('op-a', assertOk(r)['iccid'] as string).then((p) => p?.state), 'allocated');
    });

    it('DownloadOrder: by ICCID or profile type, allocated or linked, and every refusal of Table 24', async () => {
      const [a0, a1, a2] = await iccids('op-a');
      const [b0] = await iccids('op-b');
      assertFailed(await call('downloadOrder', { iccid: a0 }), '8.2.1', '3.3');
      const linked = assertOk(await call('downloadOrder', { iccid: `${a1}F`, eid: EID }));
      assert.equal(linked['iccid'], a1, 'a 19-digit ICCID with its F padding is the same profile');
      assert.equal((await profiles.get('op-a', a1!))?.state, 'linked');
      assertFailed(await call('downloadOrder', { iccid: b0 }), '8.2.1', '3.9');
      assertFailed(await call('downloadOrder', { iccid: '8988000000000099999' }), '8.2.1', '3.9');
      assertFailed(await call('downloadOrder', { profileType: 'iot-b' }), '8.2.5', '3.9');
      assertFailed(await call('downloadOrder', { profileType: 'nope' }), '8.2.5', '3.9');
      assertFailed(await call('downloadOrder', { iccid: a2, profileType: 'iot-b' }), '8.2.5', '3.8');
      assertFailed(await call('downloadOrder', {}), '8.2.1', '2.3');
      assertFailed(await call('downloadOrder', { profileType: 'iot-a', eid: '1234' }), '8.1.1', '2.1');
      assertFailed(await call('downloadOrder', { iccid: '12ab' }), '8.2.1', '2.1');
      assertOk(await call('downloadOrder', { profileType: 'iot-b' }, opB));
      assertFailed(await call('downloadOrder', { profileType: 'iot-b' }, opB), '8.2.5', '3.7');
    });

    it('ConfirmOrder: confirmed or released with the order limits; matching ID, EID and state refusals of Table 27', async () => {
      const [a0, a1, a2, a3] = await iccids('op-a');
      // a0 allocated (first test), a1 linked to EID.
      assertFailed(await call('confirmOrder', { iccid: a1, eid: OTHER_EID, releaseFlag: true }), '8.1.1', '3.10');
      assertFailed(await call('confirmOrder', { iccid: a2, releaseFlag: true }), '8.2.1', '3.5');
      assertFailed(await call('confirmOrder', { iccid: a0, matchingId: 'SHORT-1', releaseFlag: true }), '8.2.6', '3.8');
      assertFailed(await call('confirmOrder', { iccid: a0, matchingId: 'lower-case-is-not-allowed-here', releaseFlag: true }), '8.2.6', '2.1');
      assertFailed(await call('confirmOrder', { iccid: a0, matchingId: '', releaseFlag: true }), '8.1.1', '2.2');
      assertFailed(await call('confirmOrder', { iccid: a0, eid: EID, smdsAddress: 'smds.example.com', releaseFlag: true }), '8.9', '5.1');
      assertFailed(await call('confirmOrder', { iccid: a0 }), '1.6', '2.2');
      const confirmed = assertOk(await call('confirmOrder', { iccid: a0, confirmationCode: '1234', releaseFlag: false }));
      const matchingId = confirmed['matchingId'] as string;
      assert.match(matchingId, /^[A-Z0-9]{25}$/);
      assert.equal(confirmed['smdpAddress'], SMDP_ADDRESS);
      const order = await h.store.orders.getByMatchingId(matchingId);
      assert.equal(order?.state, 'confirmed');
      assert.equal(order?.operator, 'op-a');
      assert.equal(order?.profileType, 'iot-a');
      assert.equal(order?.maxDownloadAttempts, DEFAULT_ORDER_LIMITS.maxDownloadAttempts);
      assert.equal(order?.expiresAt, h.now + DEFAULT_ORDER_LIMITS.validityMs);
      assert.ok(order?.ccHash !== undefined);
      assertFailed(await call('confirmOrder', { iccid: a0, releaseFlag: true }), '8.2.1', '3.3');
      // The linked profile: EID repeated or omitted, a chosen matching ID; then the same matching ID is in use.
      const linked = assertOk(await call('confirmOrder', { iccid: a1, matchingId: 'OP-A-CHOSEN-0001', releaseFlag: true }));
      assert.deepEqual([linked['eid'], linked['matchingId']], [EID, 'OP-A-CHOSEN-0001']);
      assert.equal((await profiles.get('op-a', a1!))?.state, 'released');
      assertOk(await call('downloadOrder', { iccid: a3 }));
      assertFailed(await call('confirmOrder', { iccid: a3, eid: OTHER_EID, matchingId: 'OP-A-CHOSEN-0001', releaseFlag: true }), '8.2.6', '3.3');
      assert.equal((await profiles.get('op-a', a3!))?.state, 'allocated', 'a refused confirmation changes nothing');
      // The default SM-DP+: an empty matching ID and an EID: found by the EID alone.
      const byEid = assertOk(await call('confirmOrder', { iccid: a3, eid: OTHER_EID, matchingId: '', releaseFlag: true }));
      assert.equal(byEid['matchingId'], '');
      assert.equal((await h.store.orders.getEidOnly(OTHER_EID))?.iccid, a3);
      // Another operator's ICCID is unknown.
      assertFailed(await call('confirmOrder', { iccid: a0, releaseFlag: true }, opB), '8.2.1', '3.9');
    });

    it('ReleaseProfile: confirmed -> released, released again is a success, anything else 3.5, unknown 3.9', async () => {
      const [a0, , a2] = await iccids('op-a');
      assertFailed(await call('releaseProfile', { iccid: a0 }, opB), '8.2.1', '3.9');
      assertOk(await call('releaseProfile', { iccid: a0 }));
      assert.equal((await profiles.get('op-a', a0!))?.state, 'released');
      assertOk(await call('releaseProfile', { iccid: a0 }));
      assertFailed(await call('releaseProfile', { iccid: a2 }), '8.2.1', '3.5');
      assertFailed(await call('releaseProfile', { iccid: '8988000000000099999' }), '8.2.1', '3.9');
    });

    it('CancelOrder: the order disappears and the profile goes back to stock or out of it; Table 30 refusals', async () => {
      const [a0, a1, a2, a3] = await iccids('op-a');
      const order = (await profiles.get('op-a', a1!))!;
      assertFailed(await call('cancelOrder', { iccid: a1, eid: EID, matchingId: order.matchingId, finalProfileStatusIndicator: 'Maybe' }), '1.6', '2.1');
      assertFailed(await call('cancelOrder', { iccid: a1, matchingId: order.matchingId, finalProfileStatusIndicator: 'Available' }), '8.1.1', '2.3');
      assertFailed(await call('cancelOrder', { iccid: a1, eid: OTHER_EID, matchingId: order.matchingId, finalProfileStatusIndicator: 'Available' }), '8.2.1', '3.10');
      assertFailed(await call('cancelOrder', { iccid: a1, eid: EID, finalProfileStatusIndicator: 'Available' }), '8.2.6', '2.3');
      assertFailed(await call('cancelOrder', { iccid: a1, eid: EID, matchingId: 'OTHER-MATCHING-ID-00001', finalProfileStatusIndicator: 'Available' }), '8.2.6', '3.10');
      assertFailed(await call('cancelOrder', { iccid: a2, finalProfileStatusIndicator: 'Available' }), '8.2.1', '3.5');
      assertFailed(await call('cancelOrder', { iccid: a1, eid: EID, matchingId: order.matchingId, finalProfileStatusIndicator: 'Available' }, opB), '8.2.1', '3.9');
      assertOk(await call('cancelOrder', { iccid: a1, eid: EID, matchingId: order.matchingId, finalProfileStatusIndicator: 'Available' }));
      assert.equal(await h.store.orders.getByMatchingId(order.matchingId!), undefined, 'the order is gone: no eUICC can download it');
      assert.deepEqual(await profiles.get('op-a', a1!), { iccid: a1, profileType: 'iot-a', state: 'available', eid: undefined, orderKey: undefined, matchingId: undefined });
      assertOk(await call('downloadOrder', { iccid: a1 }));
      // The EID-only order of the default SM-DP+: cancelled with its EID (and an empty matching ID), for good.
      assertOk(await call('cancelOrder', { iccid: a3, eid: OTHER_EID, matchingId: '', finalProfileStatusIndicator: 'Unavailable' }));
      assert.equal((await profiles.get('op-a', a3!))?.state, 'unavailable');
      assert.equal(await h.store.orders.getEidOnly(OTHER_EID), undefined);
      assertFailed(await call('downloadOrder', { iccid: a3 }), '8.2.1', '3.3');
      // A downloaded profile cannot be cancelled (3.3).
      const released = (await profiles.get('op-a', a0!))!;
      await h.store.db.updateTable('smdp_orders').set({ state: 'downloaded' }).where('matching_id', '=', released.orderKey!).execute();
      assertFailed(await call('cancelOrder', { iccid: a0, matchingId: released.matchingId, finalProfileStatusIndicator: 'Available' }), '8.2.1', '3.3');
      // A download that ended in error (attempts spent, installation failed): CancelOrder puts the profile back.
      await h.store.db.updateTable('smdp_orders').set({ state: 'error' }).where('matching_id', '=', released.orderKey!).execute();
      assert.equal((await profiles.get('op-a', a0!))?.state, 'error');
      assertFailed(await call('releaseProfile', { iccid: a0 }), '8.2.1', '3.5');
      assertFailed(await call('confirmOrder', { iccid: a0, releaseFlag: true }), '8.2.1', '3.3');
      assertOk(await call('cancelOrder', { iccid: a0, matchingId: released.matchingId, finalProfileStatusIndicator: 'Available' }));
      assert.equal((await profiles.get('op-a', a0!))?.state, 'available');
    });

    describe('HandleDownloadProgressInfo from the outbox', () => {
      let endpoint: Server;
      let received: Array<{ body: Record<string, unknown>; adminProtocol: string | undefined }> = [];
      let answer = 204;
      const callbackTls = loopbackIdentity('operator-callback');

      before(async () => {
        endpoint = createServer({ key: callbackTls.key, cert: callbackTls.cert }, (req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            if (req.url !== `${ES2PLUS_PATH}/handleDownloadProgressInfo`) {
              res.writeHead(404).end();
              return;
            }
            received.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, adminProtocol: req.headers['x-admin-protocol'] as string | undefined });
            res.writeHead(answer).end();
          });
        });
        await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
      });

      after(() => new Promise<void>((resolve) => endpoint.close(() => resolve())));

      it('is delivered once accepted, retried with backoff until then, never after, and only to the order\'s operator', async () => {
        const [a0] = await iccids('op-a');
        const order = { iccid: a0!, operator: 'op-a', profileType: 'iot-a' } as never;
        const endpointPort = (endpoint.address() as AddressInfo).port;
        await h.store.db.withTables<{ es2_operators: { operator: string; callback_url: string | null; callback_ca: string | null } }>()
          .updateTable('es2_operators').set({ callback_url: `https://127.0.0.1:${endpointPort}`, callback_ca: callbackTls.cert }).where('operator', '=', 'op-a').execute();
        const fresh = new OperatorTenants(h.store.db);
        await h.store.orders.reportProgress(order, EID, { notificationPointId: NOTIFICATION_POINT.bppDownload, status: 'Executed-Success' }, h.now);
        const options = {
          outbox: h.store.outbox,
          tenants: fresh,
          requesterIdentifier: '2.999.10',
          tls: { cert: opB.cert, key: opB.key },
          now: () => h.now,
          initialBackoffMs: 1000,
        };
        answer = 500;
        received = [];
        assert.equal(await deliverDueProgress(options), 0);
        const [failed] = await h.store.outbox.list('op-a', 10);
        assert.equal(failed?.state, 'pending');
        assert.equal(failed?.attempts, 1);
        assert.ok(failed!.nextAttemptAt >= h.now + 1000, 'retried after the backoff');
        assert.equal(await deliverDueProgress(options), 0, 'not due yet');
        h.now += 1300;
        answer = 204;
        assert.equal(await deliverDueProgress(options), 1);
        h.now += 10 * 3_600_000;
        assert.equal(await deliverDueProgress(options), 0, 'never delivered twice');
        const bodies = received.filter((r) => r.body['notificationPointId'] === NOTIFICATION_POINT.bppDownload);
        assert.ok(bodies.length >= 1);
        const last = bodies.at(-1)!.body;
        assert.equal(bodies.at(-1)!.adminProtocol, 'gsma/rsp/v2.5.0');
        assert.deepEqual(
          { ...last, header: undefined, timestamp: undefined },
          { header: undefined, timestamp: undefined, eid: EID, iccid: a0, profileType: 'iot-a', notificationPointId: 3, notificationPointStatus: { status: 'Executed-Success' } },
        );
        assert.match(last['timestamp'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.equal((last['header'] as Record<string, string>)['functionRequesterIdentifier'], '2.999.10');
        assert.equal((await h.store.outbox.list('op-a', 10, 'delivered')).length, 1);
      });

      it('an operator is called back only at the notification points it asked for; the others are settled without a call', async () => {
        received = [];
        answer = 204;
        const endpointPort = (endpoint.address() as AddressInfo).port;
        await tenants.add({ operator: 'op-c', functionRequesterIdentifier: 'op-c-id', callbackUrl: `https://127.0.0.1:${endpointPort}`, callbackCa: callbackTls.cert, notificationPoints: [4, 100] }, h.now);
        await assert.rejects(tenants.add({ operator: 'op-d', functionRequesterIdentifier: 'x', notificationPoints: [] }, h.now), (e: unknown) => e instanceof Error && /notification points/.test(e.message));
        const order = { iccid: '8988000000000077777', operator: 'op-c', profileType: 'iot-c' } as never;
        for (const point of [1, 3, 4, 100]) await h.store.orders.reportProgress(order, EID, { notificationPointId: point, status: 'Executed-Success' }, h.now);
        const options = { outbox: h.store.outbox, tenants: new OperatorTenants(h.store.db), requesterIdentifier: '2.999.10', tls: { cert: opB.cert, key: opB.key }, now: () => h.now };
        while ((await deliverDueProgress(options)) > 0);
        assert.deepEqual(received.map((r) => r.body['notificationPointId']), [4, 100]);
        const settled = await h.store.outbox.list('op-c', 10);
        assert.deepEqual(settled.map((e) => [e.payload['notificationPointId'], e.state]).reverse(), [[1, 'skipped'], [3, 'skipped'], [4, 'delivered'], [100, 'delivered']]);
      });

      it('two deliverers lease different entries: each entry reaches the operator once', async () => {
        const [, a1] = await iccids('op-a');
        received = [];
        answer = 204;
        const order = { iccid: a1!, operator: 'op-a', profileType: 'iot-a' } as never;
        for (let i = 0; i < 6; i++) await h.store.orders.reportProgress(order, undefined, { notificationPointId: 100 + (i % 3), status: 'Executed-Success' }, h.now);
        const options = { outbox: h.store.outbox, tenants: new OperatorTenants(h.store.db), requesterIdentifier: '2.999.10', tls: { cert: opB.cert, key: opB.key }, now: () => h.now, batch: 1 };
        let total = 0;
        for (let round = 0; round < 8; round++) {
          const counts = await Promise.all([deliverDueProgress(options), deliverDueProgress(options)]);
          total += counts[0] + counts[1];
        }
        assert.equal(total, 6);
        assert.equal(received.length, 6);
        assert.deepEqual(received.map((r) => r.body['notificationPointId']), [100, 101, 102, 100, 101, 102], 'one ICCID\'s entries in order');
      });
    });
  });
}
