// The AuC's vectors against the official test data (Milenage TS 35.208, TUAK TS 35.233) through its store and functions, and the
// USIM side (src/crypto/usimAuthenticate.ts) accepting each: RES = XRES, RES* confirmed, KAUSF/KSEAF/KASME equal on both sides.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAutn, type AkaAlgorithm } from '../../src/crypto/authenticationVector.js';
import { deriveHxresStar, deriveKasme, deriveKausf, deriveKseaf, deriveResStar, encodePlmnId, servingNetworkName } from '../../src/crypto/keyDerivation5g.js';
import { Milenage } from '../../src/crypto/milenage.js';
import { SqnFreshnessState, sqnToNumber } from '../../src/crypto/sqnFreshness.js';
import { Tuak } from '../../src/crypto/tuak.js';
import { usimAuthenticate } from '../../src/crypto/usimAuthenticate.js';
import { allocateAuthenticationVector } from '../../src/auc/authenticationVector.js';
import { confirmResStar } from '../../src/auc/confirmResStar.js';
import { generate5gVector } from '../../src/auc/generate5gVector.js';
import { generateEpsVector } from '../../src/auc/generateEpsVector.js';
import { parseSubscriberRecord } from '../../src/auc/subscriberRecord.js';
import { hex, readJsonFixture } from '../helpers/fixtures.js';
import { openTestAuc, type TestAuc } from './harness.js';

interface MilenageSet { name: string; k: string; rand: string; sqn: string; amf: string; opc: string; f1: string; f2: string; f3: string; f4: string; f5: string }
interface TuakSet extends Omit<MilenageSet, 'opc'> { topc: string; keccak_iterations: number }

const milenage = readJsonFixture<{ sets: MilenageSet[] }>('vectors', 'milenage-35208.json').sets;
const tuak = readJsonFixture<{ sets: TuakSet[] }>('vectors', 'tuak-35233.json').sets;
const SNN = servingNetworkName('001', '01');

/** The subscriber of a test set: IND length 0 and SEQ_HE = SQN - 1, so the AuC's next vector carries the set's SQN. */
function record(imsi: string, s: MilenageSet | TuakSet): Record<string, unknown> {
  const previous = (sqnToNumber(hex(s.sqn)) - 1).toString(16).padStart(12, '0');
  const base = { imsi, operator: 'op3gpp', k: s.k, amf: s.amf, sqn: previous, indBits: 0 };
  if ('opc' in s) return { ...base, algorithm: 'milenage', opc: s.opc };
  return {
    ...base,
    algorithm: 'tuak',
    topc: s.topc,
    macLength: s.f1.length / 2,
    resLength: s.f2.length / 2,
    ckLength: s.f3.length / 2,
    ikLength: s.f4.length / 2,
    keccakIterations: s.keccak_iterations,
  };
}

function usimOf(s: MilenageSet | TuakSet): AkaAlgorithm {
  if ('opc' in s) return new Milenage(hex(s.k), hex(s.opc));
  const bits = (h: string): number => (h.length / 2) * 8;
  return new Tuak(hex(s.k), hex(s.topc), {
    macBits: bits(s.f1) as 64,
    resBits: bits(s.f2) as 64,
    ckBits: bits(s.f3) as 128,
    ikBits: bits(s.f4) as 128,
    keccakIterations: s.keccak_iterations,
  });
}

describe('AuC vectors: the 3GPP test data through the store and the AuC functions', () => {
  let auc: TestAuc;
  const sets = [...milenage.map((s) => ['Milenage', s] as const), ...tuak.map((s) => ['TUAK', s] as const)];
  before(async () => {
    auc = await openTestAuc('SQLite');
    await auc.store.addSubscribers(sets.map(([, s], i) => parseSubscriberRecord(record(`00101${String(i).padStart(10, '0')}`, s), s.name)));
  });
  after(() => auc.close());

  it('XRES = f2, CK = f3, IK = f4, AUTN = (SQN xor f5) || AMF || f1 (AMF with the separation bit), for every set', async () => {
    let exactMac = 0;
    for (const [i, [alg, s]] of sets.entries()) {
      auc.nextRandom.push(hex(s.rand));
      const { vector } = await allocateAuthenticationVector(auc.ctx, `00101${String(i).padStart(10, '0')}`);
      const label = `${alg} ${s.name}`;
      assert.equal(vector.xres.toString('hex'), s.f2, label);
      assert.equal(vector.ck.toString('hex'), s.f3, label);
      assert.equal(vector.ik.toString('hex'), s.f4, label);
      assert.equal(vector.sqn.toString('hex'), s.sqn, label);
      const sqnXorAk = Buffer.from(hex(s.sqn).map((b, j) => b ^ hex(s.f5)[j]!));
      const amf = hex(s.amf);
      amf[0]! |= 0x80;
      assert.deepEqual(parseAutn(vector.autn, s.f1.length / 2).sqnXorAk, sqnXorAk, label);
      assert.deepEqual(vector.amf, amf, label);
      if (amf.equals(hex(s.amf))) {
        assert.equal(vector.macA.toString('hex'), s.f1, `${label}: MAC-A = f1 of the test data`);
        exactMac++;
      } else {
        assert.deepEqual(vector.macA, usimOf(s).f1(hex(s.rand), hex(s.sqn), amf), `${label}: MAC-A over the AMF with the separation bit`);
      }
    }
    assert.ok(exactMac >= 6, `${exactMac} sets compared MAC-A with f1 of the test data`);
  });

  it('the USIM accepts every EPS vector: RES = XRES and KASME computed the same on both sides', async () => {
    for (const [i, [alg, s]] of sets.entries()) {
      const imsi = `00101${String(i).padStart(10, '0')}`;
      auc.nextRandom.push(hex(s.rand));
      const v = await generateEpsVector(auc.ctx, imsi, { mcc: '001', mnc: '01' });
      const usim = usimAuthenticate(usimOf(s), new SqnFreshnessState({ indBits: 0 }), v.rand, v.autn);
      assert.equal(usim.status, 'success', `${alg} ${s.name}`);
      if (usim.status !== 'success') continue;
      assert.deepEqual(usim.res, v.xres);
      assert.deepEqual(deriveKasme(usim.ck, usim.ik, encodePlmnId('001', '01'), v.autn.subarray(0, 6)), v.kasme);
      assert.equal(usim.res.toString('hex'), s.f2);
    }
  });

  it('the USIM accepts every 5G vector: RES* confirms, HXRES* matches, KAUSF and KSEAF equal on both sides', async () => {
    for (const [i, [alg, s]] of sets.entries()) {
      const imsi = `00101${String(i).padStart(10, '0')}`;
      const v = await generate5gVector(auc.ctx, imsi, SNN);
      const usim = usimAuthenticate(usimOf(s), new SqnFreshnessState({ indBits: 0 }), v.rand, v.autn);
      assert.equal(usim.status, 'success', `${alg} ${s.name}`);
      if (usim.status !== 'success') continue;
      const resStar = deriveResStar(usim.ck, usim.ik, SNN, v.rand, usim.res);
      assert.deepEqual(deriveHxresStar(v.rand, resStar), v.hxresStar, 'the SEAF check of HRES* against HXRES*');
      const kausf = deriveKausf(usim.ck, usim.ik, SNN, v.autn.subarray(0, 6));
      assert.deepEqual(kausf, v.kausf);
      assert.deepEqual(deriveKseaf(kausf, SNN), v.kseaf);
      assert.deepEqual(await confirmResStar(auc.ctx, v.authCtxId, resStar), { supi: `imsi-${imsi}`, servingNetworkName: SNN });
    }
  });
});
