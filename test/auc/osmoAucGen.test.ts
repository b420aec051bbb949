// Agreement with Osmocom's osmo-auc-gen (libosmocore-utils), when it is installed: the AuC's Milenage vectors (RES, CK, IK,
// AUTN) for the TS 35.208 K/OPc/RAND, and its resync from AUTS (SQN_MS recovered, the fresh vector's SQN and AUTN).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Milenage } from '../../src/crypto/milenage.js';
import { SqnFreshnessState, sqnFromNumber, sqnToNumber } from '../../src/crypto/sqnFreshness.js';
import { usimAuthenticate } from '../../src/crypto/usimAuthenticate.js';
import { allocateAuthenticationVector } from '../../src/auc/authenticationVector.js';
import { resynchronise } from '../../src/auc/resynchronise.js';
import { seqOfSqn } from '../../src/auc/sqnGeneration.js';
import { parseSubscriberRecord } from '../../src/auc/subscriberRecord.js';
import { hex, readJsonFixture } from '../helpers/fixtures.js';
import { openTestAuc } from './harness.js';

interface MilenageSet { name: string; k: string; rand: string; sqn: string; amf: string; opc: string }
const sets = readJsonFixture<{ sets: MilenageSet[] }>('vectors', 'milenage-35208.json').sets;

const tool = (process.env['PATH'] ?? '').split(delimiter).map((d) => join(d, 'osmo-auc-gen')).find((p) => existsSync(p));
const skip = tool === undefined ? 'osmo-auc-gen is not installed (apt-get install libosmocore-utils): agreement with Osmocom not checked' : false;

/** osmo-auc-gen -3 (UMTS, Milenage) output as NAME -> value. */
function osmo(args: string[]): Record<string, string> {
  const out = execFileSync(tool!, ['-3', '-a', 'milenage', ...args], { encoding: 'utf8' });
  return Object.fromEntries(out.split('\n').flatMap((l) => { const m = /^([A-Za-z. ]+):\t(.*)$/.exec(l); return m === null ? [] : [[m[1]!, m[2]!]]; }));
}

/** The AMF with the separation bit, as the AuC sends it for EPS and 5G. */
function amfOf(s: MilenageSet): string {
  const amf = hex(s.amf);
  amf[0]! |= 0x80;
  return amf.toString('hex');
}

describe('agreement with osmo-auc-gen', { skip }, () => {
  it('RES, CK, IK and AUTN of the AuC equal osmo-auc-gen\'s for the TS 35.208 K/OPc/RAND', async () => {
    const auc = await openTestAuc('SQLite');
    try {
      for (const [i, s] of sets.entries()) {
        const imsi = `00101${String(i).padStart(10, '0')}`;
        await auc.store.addSubscribers([parseSubscriberRecord({ imsi, operator: 'op1', algorithm: 'milenage', k: s.k, opc: s.opc, amf: amfOf(s), sqn: s.sqn }, s.name)]);
        auc.nextRandom.push(hex(s.rand));
        const { vector } = await allocateAuthenticationVector(auc.ctx, imsi);
        const o = osmo(['-k', s.k, '-o', s.opc, '-f', amfOf(s), '-s', String(sqnToNumber(vector.sqn)), '-r', s.rand]);
        assert.deepEqual(
          { RES: o['RES'], CK: o['CK'], IK: o['IK'], AUTN: o['AUTN'] },
          { RES: vector.xres.toString('hex'), CK: vector.ck.toString('hex'), IK: vector.ik.toString('hex'), AUTN: vector.autn.toString('hex') },
          s.name,
        );
      }
    } finally {
      await auc.close();
    }
  });

  it('resync: osmo-auc-gen -A recovers the same SQN_MS from the USIM\'s AUTS and builds the same fresh vector', async () => {
    const auc = await openTestAuc('SQLite');
    try {
      for (const [i, s] of sets.slice(0, 4).entries()) {
        const imsi = `00102${String(i).padStart(10, '0')}`;
        await auc.store.addSubscribers([parseSubscriberRecord({ imsi, operator: 'op1', algorithm: 'milenage', k: s.k, opc: s.opc, amf: amfOf(s) }, s.name)]);
        const usim = new SqnFreshnessState();
        for (let ind = 0; ind < 32; ind++) usim.verify(sqnFromNumber((700 + i) * 32 + ind));
        auc.nextRandom.push(hex(s.rand));
        const { vector } = await allocateAuthenticationVector(auc.ctx, imsi);
        const refused = usimAuthenticate(new Milenage(hex(s.k), hex(s.opc)), usim, vector.rand, vector.autn);
        assert.equal(refused.status, 'sync_failure');
        if (refused.status !== 'sync_failure') return;
        auc.nextRandom.push(hex(s.rand));
        const r = await resynchronise(auc.ctx, imsi, vector.rand, refused.auts, { type: 'eps', plmn: { mcc: '001', mnc: '01' } });
        assert.equal(r.type, 'eps');
        if (r.type !== 'eps') return;
        const ind = (seqOfSqn(refused.sqnMs, 5) + 1) % 32;
        const o = osmo(['-k', s.k, '-o', s.opc, '-f', amfOf(s), '-r', s.rand, '-A', refused.auts.toString('hex'), '-i', String(ind)]);
        assert.equal(Number(o['SQN.MS']), sqnToNumber(r.sqnMs), s.name);
        assert.equal(o['AUTN'], r.vector.autn.toString('hex'), s.name);
        assert.equal(o['RES'], r.vector.xres.toString('hex'), s.name);
        assert.equal(usimAuthenticate(new Milenage(hex(s.k), hex(s.opc)), usim, r.vector.rand, r.vector.autn).status, 'success');
      }
    } finally {
      await auc.close();
    }
  });
});
