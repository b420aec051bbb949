// The operator's story end to end (issue 9): generated stock, an order over ES2+ (mutual TLS) for a device's EID, the
// download through the SM-DP+ with the operator called back at each point, then the delivered USIM authenticates on
// the operator's AuC loaded from the same stock; a replayed AUTN is refused by the USIM, a suspended subscriber by the AuC.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createAucContext } from '../../src/auc/context.js';
import { generateEpsVector } from '../../src/auc/generateEpsVector.js';
import { importSubscribers } from '../../src/auc/importSubscribers.js';
import { deviceInit, usimQuery, withDevice } from '../../src/cli/commands/device.js';
import { McimError } from '../../src/errors.js';
import { confirmOrder } from '../../src/operator/confirmOrder.js';
import { downloadOrder } from '../../src/operator/downloadOrder.js';
import { Es2PlusClient } from '../../src/operator/es2plusClient.js';
import { listProfiles, manageProfile } from '../../src/ipa/localProfileManagement.js';
import { downloadProfile } from '../../src/ipa/profileDownload.js';
import { addProfileType } from '../../src/smdpp/addProfileType.js';
import { DEFAULT_ORDER_LIMITS } from '../../src/smdpp/es2plus/context.js';
import { deliverDueProgress } from '../../src/smdpp/es2plus/handleDownloadProgressInfo.js';
import { createEs2plusServer } from '../../src/smdpp/es2plusServer.js';
import { exportSubscribers } from '../../src/smdpp/exportSubscribers.js';
import { generateStock } from '../../src/smdpp/generateProfiles.js';
import { activationCode } from '../../src/smdpp/importProfile.js';
import { AucStore } from '../../src/store/aucStore.js';
import { OperatorProfiles } from '../../src/store/operatorProfiles.js';
import { OperatorTenants } from '../../src/store/operatorTenants.js';
import { ProfileStock } from '../../src/store/profileStock.js';
import { readFixture } from '../helpers/fixtures.js';
import { startDataDirSmdp, type DataDirSmdp } from './dataDirSmdp.js';
import { loopbackIdentity } from '../helpers/loopbackIdentity.js';

const ADDRESS = 'testsmdpplus1.example.com:8443';
const OP = '63bfa50ee6523365ff14c1f45f88737d';


describe('operator end to end: ES2+ order, download, callbacks, authentication on the AuC', () => {
  let smdp: DataDirSmdp;
  let es2: FastifyInstance;
  let endpoint: Server;
  let es2Port = 0;
  let tenants: OperatorTenants;
  let stock: ProfileStock;
  const operator = loopbackIdentity('operator-one');
  const callbacks: Array<Record<string, unknown>> = [];

  before(async () => {
    smdp = await startDataDirSmdp('mcim-es2-e2e-', ADDRESS);
    const { store, data } = smdp;
    stock = new ProfileStock(store.db, data.atRestKey.box());
    tenants = new OperatorTenants(store.db);
    await addProfileType(stock, { name: 'iot-milenage', operator: 'op1', template: readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der'), rules: { op: OP, iccidPrefix: '8988', imsiPrefix: '00101' } }, Date.now());
    await generateStock(stock, 'iot-milenage', { count: 3, iccidStart: '898800000000000500', imsiStart: '001010000000500' }, Date.now());
    endpoint = createServer({ cert: operator.cert, key: operator.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        callbacks.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    const callbackPort = (endpoint.address() as AddressInfo).port;
    await tenants.add({ operator: 'op1', functionRequesterIdentifier: 'op1', callbackUrl: `https://127.0.0.1:${callbackPort}`, callbackCa: operator.cert }, Date.now());
    await tenants.addCertificate('op1', { fingerprint: createHash('sha256').update(operator.der).digest('hex'), subject: 'CN=operator one', notBefore: 0, notAfter: Date.now() + 3_600_000 }, Date.now());
    const profiles = new OperatorProfiles(store.db, store.orders, stock);
    es2 = createEs2plusServer({ tls: data.tls, context: { address: data.address, tenants, profiles, limits: DEFAULT_ORDER_LIMITS, now: Date.now }, onInternalError: (e) => assert.fail(String(e)) });
    await es2.listen({ host: '127.0.0.1', port: 0 });
    es2Port = (es2.server.address() as AddressInfo).port;
  });

  after(async () => {
    await es2.close();
    await new Promise<void>((resolve) => endpoint.close(() => resolve()));
    await smdp.close();
  });

  // The operator's own ES2+ client (src/operator) against the SM-DP+'s server: both sides of the wire are mcim's.
  const client = (): Es2PlusClient =>
    new Es2PlusClient({
      smdpUrl: `https://127.0.0.1:${es2Port}`,
      functionRequesterIdentifier: 'op1',
      cert: operator.cert,
      key: operator.key,
      ca: readFileSync(smdp.data.ciCertificateFiles.p256!),
      servername: ADDRESS.split(':')[0]!,
    });

  it('a profile ordered for an EID is downloaded, reported at points 1, 3, 4 and 100, and authenticates on the AuC', async () => {
    const device = { state: join(smdp.tmp, 'device.state') };
    const { eid } = deviceInit({ state: device.state, pki: smdp.data.pkiDirs.p256 });
    const { iccid } = await downloadOrder(client(), { eid, profileType: 'iot-milenage' });
    const { matchingId, smdpAddress } = await confirmOrder(client(), { iccid, eid, releaseFlag: true });
    assert.equal(smdpAddress, ADDRESS);
    const result = await withDevice(device, (es10) => downloadProfile(es10, { activationCode: activationCode(ADDRESS, matchingId), http: smdp.http }));
    assert.equal(result.iccid, iccid);
    await withDevice(device, async (es10) => {
      await manageProfile(es10, 'enable', iccid, { http: smdp.http });
      assert.equal((await listProfiles(es10))[0]?.state, 'enabled');
    });
    const options = { outbox: smdp.store.outbox, tenants, requesterIdentifier: smdp.data.oid, tls: { cert: smdp.data.tls.cert, key: smdp.data.tls.key }, now: Date.now };
    while ((await deliverDueProgress(options)) > 0);
    assert.deepEqual(
      callbacks.map((c) => [c['notificationPointId'], (c['notificationPointStatus'] as { status: string }).status, c['iccid'], c['eid'], c['profileType']]),
      [
        [1, 'Executed-Success', iccid, eid, 'iot-milenage'],
        [3, 'Executed-Success', iccid, eid, 'iot-milenage'],
        [4, 'Executed-Success', iccid, eid, 'iot-milenage'],
        [100, 'Executed-Success', iccid, eid, 'iot-milenage'],
      ],
    );
    assert.ok(typeof callbacks[2]!['resultData'] === 'string', 'the installation result is in resultData');
    assert.equal((await new OperatorProfiles(smdp.store.db, smdp.store.orders, stock).get('op1', iccid))?.state, 'installed');

    // The operator's AuC, loaded from the same stock's subscriber export.
    let exported = '';
    await exportSubscribers(stock, 'op1', 'mcim', async (text) => {
      exported += text;
    });
    const auc = createAucContext(new AucStore(smdp.store.db, smdp.data.atRestKey.box()));
    assert.equal(await importSubscribers(auc, exported), 3);
    const imsi = (await usimQuery(device, 'imsi')).imsi!;
    const vector = await generateEpsVector(auc, imsi, { mcc: '001', mnc: '01' });
    const answer = await usimQuery(device, 'authenticate', vector.rand.toString('hex'), vector.autn.toString('hex'));
    assert.equal(answer.status, 'success');
    assert.equal(answer.res, vector.xres.toString('hex').toUpperCase(), 'RES = XRES');
    assert.equal((await usimQuery(device, 'authenticate', vector.rand.toString('hex'), vector.autn.toString('hex'))).status, 'sync_failure', 'a replayed AUTN is refused');
    await auc.store.setState(imsi, 'suspended');
    await assert.rejects(generateEpsVector(auc, imsi, { mcc: '001', mnc: '01' }), (e: unknown) => e instanceof McimError && e.code === 'SUBSCRIBER_SUSPENDED');
  });
});
