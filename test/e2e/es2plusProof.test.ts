// Issue 9's proof over the wire, for every TS.48 profile (as the template of a generated Milenage type) and for
// generated TUAK-256 types: ordered over ES2+ with the operator's client, downloaded through the SM-DP+, enabled, then
// on the operator's AuC (loaded from the same stock's export): RES = XRES, RES* confirmed, KAUSF equal on both sides;
// an AuC restored from the export (SQN behind the USIM) resynchronises from AUTS; a replayed AUTN and a suspended
// subscriber are refused.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { confirmResStar } from '../../src/auc/confirmResStar.js';
import { createAucContext, type AucContext } from '../../src/auc/context.js';
import { generate5gVector, type FiveGAuthenticationVector } from '../../src/auc/generate5gVector.js';
import { generateEpsVector } from '../../src/auc/generateEpsVector.js';
import { importSubscribers } from '../../src/auc/importSubscribers.js';
import { resynchronise } from '../../src/auc/resynchronise.js';
import { sqnOfSeq } from '../../src/auc/sqnGeneration.js';
import { deviceInit, usimQuery, withDevice } from '../../src/cli/commands/device.js';
import { deriveHxresStar, deriveKasme, deriveKausf, deriveKseaf, deriveResStar, encodePlmnId, servingNetworkName } from '../../src/crypto/keyDerivation5g.js';
import { McimError } from '../../src/errors.js';
import { listProfiles, manageProfile } from '../../src/ipa/localProfileManagement.js';
import { downloadProfile } from '../../src/ipa/profileDownload.js';
import { confirmOrder } from '../../src/operator/confirmOrder.js';
import { downloadOrder } from '../../src/operator/downloadOrder.js';
import { Es2PlusClient } from '../../src/operator/es2plusClient.js';
import { addProfileType } from '../../src/smdpp/addProfileType.js';
import { DEFAULT_ORDER_LIMITS } from '../../src/smdpp/es2plus/context.js';
import { createEs2plusServer } from '../../src/smdpp/es2plusServer.js';
import { exportSubscribers } from '../../src/smdpp/exportSubscribers.js';
import { generateStock } from '../../src/smdpp/generateProfiles.js';
import { activationCode } from '../../src/smdpp/importProfile.js';
import { AucStore } from '../../src/store/aucStore.js';
import { OperatorProfiles } from '../../src/store/operatorProfiles.js';
import { OperatorTenants } from '../../src/store/operatorTenants.js';
import { ProfileStock } from '../../src/store/profileStock.js';
import { fixturePath, readFixture } from '../helpers/fixtures.js';
import { startDataDirSmdp, type DataDirSmdp } from './dataDirSmdp.js';
import { loopbackIdentity } from '../helpers/loopbackIdentity.js';

const ADDRESS = 'testsmdpplus1.example.com:8443';
const OP = '63bfa50ee6523365ff14c1f45f88737d';
const TOP = '5555555555555555555555555555555555555555555555555555555555555555';
const PLMN = { mcc: '001', mnc: '01' };
const SNN = servingNetworkName(PLMN.mcc, PLMN.mnc);
const TS48 = readdirSync(fixturePath('ts48')).filter((f) => f.endsWith('.der'));

interface ProofCase {
  readonly type: string;
  readonly template: string;
  readonly rules: Record<string, unknown>;
}

// Each TS.48 profile is the template of a Milenage type; TUAK-256 with the default output lengths (MAC 64, RES 64,
// CK/IK 128 bits) and with the longest (MAC, RES, CK, IK 256 bits, 3 Keccak iterations), on the 5G (SUCI) profile.
const CASES: readonly ProofCase[] = [
  ...TS48.map((f) => ({ type: `milenage-${f.replace(/-UNIQUE\.der$/, '').toLowerCase()}`, template: f, rules: { op: OP } })),
  { type: 'tuak256', template: 'TS48V5-SAIP2-3-BERTLV-SUCI-UNIQUE.der', rules: { algorithm: 'tuak', keyLength: 32, op: TOP } },
  {
    type: 'tuak256-long',
    template: 'TS48V5-SAIP2-3-BERTLV-SUCI-UNIQUE.der',
    rules: { algorithm: 'tuak', keyLength: 32, op: TOP, tuak: { macLength: 32, resLength: 32, ckLength: 32, ikLength: 32, keccakIterations: 3 } },
  },
];


const hex = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'hex');

/** The USIM's answer to a vector: RES, CK, IK on success, else its AUTS (sync failure) or nothing (MAC failure). */
async function authenticate(device: { state: string }, rand: Buffer, autn: Buffer): Promise<{ status: string; res: Buffer; ck: Buffer; ik: Buffer; auts: Buffer }> {
  const a = await usimQuery(device, 'authenticate', rand.toString('hex'), autn.toString('hex'));
  return { status: a['status']!, res: hex(a['res']), ck: hex(a['ck']), ik: hex(a['ik']), auts: hex(a['auts']) };
}

/** The UE side of 5G AKA on the USIM's answer: RES* and KAUSF computed from RES, CK, IK, checked against the AuC's vector. */
async function fiveGAka(auc: AucContext, device: { state: string }, imsi: string, v: FiveGAuthenticationVector, label: string): Promise<void> {
  const usim = await authenticate(device, v.rand, v.autn);
  assert.equal(usim.status, 'success', label);
  const resStar = deriveResStar(usim.ck, usim.ik, SNN, v.rand, usim.res);
  assert.deepEqual(deriveHxresStar(v.rand, resStar), v.hxresStar, `${label}: HRES* = HXRES* (the SEAF's check)`);
  const kausf = deriveKausf(usim.ck, usim.ik, SNN, v.autn.subarray(0, 6));
  assert.deepEqual(kausf, v.kausf, `${label}: KAUSF equal on both sides`);
  assert.deepEqual(deriveKseaf(kausf, SNN), v.kseaf, `${label}: KSEAF equal on both sides`);
  assert.deepEqual(await confirmResStar(auc, v.authCtxId, resStar), { supi: `imsi-${imsi}`, servingNetworkName: SNN }, `${label}: RES* confirmed`);
}

const refusedWith = (code: string) => (e: unknown) => e instanceof McimError && e.code === code;

describe('issue 9 proof: every TS.48 profile and TUAK-256, ordered over ES2+, downloaded, enabled, authenticated on the AuC', () => {
  let smdp: DataDirSmdp;
  let es2: FastifyInstance;
  let es2Port = 0;
  let auc: AucContext;
  /** The stock's subscriber export (mcim JSON Lines) by ICCID: what the operator's AuC was loaded from. */
  const exported = new Map<string, { imsi: string; line: string }>();
  const operator = loopbackIdentity('operator-proof');

  before(async () => {
    smdp = await startDataDirSmdp('mcim-es2-proof-', ADDRESS);
    const { store, data } = smdp;
    const stock = new ProfileStock(store.db, data.atRestKey.box());
    for (const [i, c] of CASES.entries()) {
      const n = String(i + 1).padStart(2, '0');
      await addProfileType(stock, { name: c.type, operator: 'op1', template: readFixture('ts48', c.template), rules: { ...c.rules, iccidPrefix: '8988', imsiPrefix: '00101' } }, Date.now());
      await generateStock(stock, c.type, { count: 1, iccidStart: `89880000000000${n}00`, imsiStart: `00101${n}00000000` }, Date.now());
    }
    const tenants = new OperatorTenants(store.db);
    await tenants.add({ operator: 'op1', functionRequesterIdentifier: 'op1' }, Date.now());
    await tenants.addCertificate('op1', { fingerprint: createHash('sha256').update(operator.der).digest('hex'), subject: 'CN=operator proof', notBefore: 0, notAfter: Date.now() + 3_600_000 }, Date.now());
    es2 = createEs2plusServer({
      tls: data.tls,
      context: { address: data.address, tenants, profiles: new OperatorProfiles(store.db, store.orders, stock), limits: DEFAULT_ORDER_LIMITS, now: Date.now },
      onInternalError: (e) => assert.fail(String(e)),
    });
    await es2.listen({ host: '127.0.0.1', port: 0 });
    es2Port = (es2.server.address() as AddressInfo).port;

    let text = '';
    await exportSubscribers(stock, 'op1', 'mcim', async (t) => {
      text += t;
    });
    for (const line of text.split('\n').filter((l) => l !== '')) {
      const { iccid, imsi } = JSON.parse(line) as { iccid: string; imsi: string };
      exported.set(iccid, { imsi, line });
    }
    auc = createAucContext(new AucStore(store.db, data.atRestKey.box()));
    assert.equal(await importSubscribers(auc, text), CASES.length);
  });

  after(async () => {
    await es2.close();
    await smdp.close();
  });

  const client = (): Es2PlusClient =>
    new Es2PlusClient({
      smdpUrl: `https://127.0.0.1:${es2Port}`,
      functionRequesterIdentifier: 'op1',
      cert: operator.cert,
      key: operator.key,
      ca: readFileSync(smdp.data.ciCertificateFiles.p256!),
      servername: ADDRESS.split(':')[0]!,
    });

  it('the proof covers the six TS.48 profiles, each a template its Milenage type was generated from', () => {
    assert.equal(TS48.length, 6);
    assert.deepEqual(CASES.filter((c) => c.rules['algorithm'] === undefined).map((c) => c.template).sort(), [...TS48].sort());
  });

  for (const c of CASES) {
    it(`${c.type} (${c.template}): ordered, downloaded, enabled; EPS and 5G AKA; AUTS resynchronisation; replay and suspension refused`, async () => {
      const device = { state: join(smdp.tmp, `${c.type}.state`) };
      const { eid } = deviceInit({ state: device.state, pki: smdp.data.pkiDirs.p256 });
      const { iccid } = await downloadOrder(client(), { eid, profileType: c.type });
      const { matchingId } = await confirmOrder(client(), { iccid, eid, releaseFlag: true });
      const result = await withDevice(device, (es10) => downloadProfile(es10, { activationCode: activationCode(ADDRESS, matchingId), http: smdp.http }));
      assert.equal(result.iccid, iccid);
      await withDevice(device, async (es10) => {
        await manageProfile(es10, 'enable', iccid, { http: smdp.http });
        assert.deepEqual((await listProfiles(es10)).map((p) => [p.iccid, p.state]), [[iccid, 'enabled']]);
      });
      const imsi = (await usimQuery(device, 'imsi')).imsi!;
      assert.equal(imsi, exported.get(iccid)?.imsi, "the USIM's IMSI is the AuC's subscriber of the ordered ICCID");

      // EPS AKA: RES = XRES, KASME the same on both sides.
      const eps = await generateEpsVector(auc, imsi, PLMN);
      const epsAnswer = await authenticate(device, eps.rand, eps.autn);
      assert.equal(epsAnswer.status, 'success');
      assert.deepEqual(epsAnswer.res, eps.xres, 'RES = XRES');
      assert.deepEqual(deriveKasme(epsAnswer.ck, epsAnswer.ik, encodePlmnId(PLMN.mcc, PLMN.mnc), eps.autn.subarray(0, 6)), eps.kasme, 'KASME equal on both sides');

      // 5G AKA: RES* confirmed once, KAUSF equal; its AUTN replayed is refused by the USIM.
      const fiveG = await generate5gVector(auc, imsi, SNN);
      await fiveGAka(auc, device, imsi, fiveG, '5G AKA');
      const replay = await authenticate(device, fiveG.rand, fiveG.autn);
      assert.equal(replay.status, 'sync_failure', 'a replayed AUTN is refused by the USIM');
      await assert.rejects(confirmResStar(auc, fiveG.authCtxId, Buffer.alloc(16)), refusedWith('AUTHENTICATION_NOT_FOUND'), 'RES* is confirmed once');

      // The AuC restored from the provisioning export: its SEQ_HE is back at the start, behind the USIM's.
      const { seqHe, indBits } = await auc.store.getSubscriber(imsi);
      await auc.store.deleteSubscriber(imsi);
      assert.equal(await importSubscribers(auc, exported.get(iccid)!.line), 1);
      const stale = await generate5gVector(auc, imsi, SNN);
      const desync = await authenticate(device, stale.rand, stale.autn);
      assert.equal(desync.status, 'sync_failure', "a vector of the restored AuC is not fresh for the USIM");
      const forged = Buffer.from(desync.auts);
      forged[forged.length - 1]! ^= 0x01;
      await assert.rejects(resynchronise(auc, imsi, stale.rand, forged, { type: '5g', servingNetworkName: SNN }), refusedWith('MAC_FAILURE'), 'a forged AUTS is refused');
      const resync = await resynchronise(auc, imsi, stale.rand, desync.auts, { type: '5g', servingNetworkName: SNN });
      assert.deepEqual(resync.sqnMs, sqnOfSeq(seqHe, indBits), "AUTS carries SQN_MS, the USIM's highest accepted SQN");
      assert.ok(resync.type === '5g');
      await fiveGAka(auc, device, imsi, resync.vector, 'after resynchronisation');
      const next = await generateEpsVector(auc, imsi, PLMN);
      assert.deepEqual((await authenticate(device, next.rand, next.autn)).res, next.xres, 'the next vector authenticates too');

      // A suspended subscriber gets no vector and no resynchronisation.
      await auc.store.setState(imsi, 'suspended');
      await assert.rejects(generateEpsVector(auc, imsi, PLMN), refusedWith('SUBSCRIBER_SUSPENDED'));
      await assert.rejects(generate5gVector(auc, imsi, SNN), refusedWith('SUBSCRIBER_SUSPENDED'));
      await assert.rejects(resynchronise(auc, imsi, stale.rand, desync.auts, { type: '5g', servingNetworkName: SNN }), refusedWith('SUBSCRIBER_SUSPENDED'));
    });
  }
});
