// The AuC store (src/store/aucStore.ts) and functions on SQLite and PostgreSQL: secrets sealed at rest under the operator's data key,
// listings without secrets, suspend/resume, restrictions, resync from AUTS, replay refused by the USIM, pending RES* bounded and
// expiring, and SQN never handed out twice by two AuC processes on one database.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { generateAuts } from '../../src/crypto/authenticationVector.js';
import { Milenage } from '../../src/crypto/milenage.js';
import { SqnFreshnessState, sqnFromNumber, sqnToNumber } from '../../src/crypto/sqnFreshness.js';
import { usimAuthenticate } from '../../src/crypto/usimAuthenticate.js';
import { servingNetworkName, deriveResStar } from '../../src/crypto/keyDerivation5g.js';
import { confirmResStar } from '../../src/auc/confirmResStar.js';
import { createAucContext } from '../../src/auc/context.js';
import { generate5gVector } from '../../src/auc/generate5gVector.js';
import { generateEpsVector } from '../../src/auc/generateEpsVector.js';
import { resynchronise } from '../../src/auc/resynchronise.js';
import { parseSubscriberRecord } from '../../src/auc/subscriberRecord.js';
import { McimError } from '../../src/errors.js';
import { AucStore } from '../../src/store/aucStore.js';
import { openDatabase } from '../../src/store/database.js';
import { SecretBox } from '../../src/store/secretBox.js';
import { ENGINES, freshDatabase, milenageRecord, openTestAuc } from './harness.js';

const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';
const PLMN = { mcc: '001', mnc: '01' };
const SNN = servingNetworkName('001', '01');
const usimAlg = (): Milenage => new Milenage(Buffer.from(K, 'hex'), Buffer.from(OPC, 'hex'));
const code = (c: string) => (e: unknown) => e instanceof McimError && e.code === c;

for (const engine of ENGINES) {
  describe(`AuC store on ${engine}`, () => {
    it('K and OPc are sealed at rest under the data key, itself wrapped by the KEK; reads show no secret; another KEK is refused', async () => {
      const auc = await openTestAuc(engine);
      try {
        await auc.store.addSubscribers([parseSubscriberRecord(milenageRecord('001010000000001', K, OPC, { iccid: '8988211000000000001' }), 'test')]);
        const raw = await sql<Record<string, unknown>>`SELECT * FROM auc_subscribers`.execute(auc.db);
        const dump = raw.rows.map((row) => Object.values(row).map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : String(v))).join(' ')).join('\n');
        assert.ok(!dump.includes(K) && !dump.includes(OPC), 'no K or OPc in the row');
        const keys = await sql<{ wrapped_key: Buffer }>`SELECT wrapped_key FROM auc_data_keys`.execute(auc.db);
        assert.equal(keys.rows.length, 1);
        assert.notEqual(keys.rows[0]!.wrapped_key.length, 32, 'the data key is stored wrapped');
        const shown = JSON.stringify([await auc.store.getSubscriber('001010000000001'), await auc.store.listSubscribers()]);
        assert.ok(!shown.includes(K) && !shown.includes(OPC) && !/"(k|opc|topc)"/.test(shown));
        assert.match(shown, /8988211000000000001/);
        const other = createAucContext(new AucStore(auc.db, new SecretBox(randomBytes(32))));
        await assert.rejects(generateEpsVector(other, '001010000000001', PLMN), code('TAMPERED'));
      } finally {
        await auc.close();
      }
    });

    it('suspend refuses vectors and resync with SUBSCRIBER_SUSPENDED, resume allows them; unknown IMSI is SUBSCRIBER_NOT_FOUND; restrictions come with the vector', async () => {
      const auc = await openTestAuc(engine);
      try {
        await auc.store.addSubscribers([parseSubscriberRecord(milenageRecord('001010000000002', K, OPC), 'test')]);
        await auc.store.setState('001010000000002', 'suspended');
        await assert.rejects(generateEpsVector(auc.ctx, '001010000000002', PLMN), code('SUBSCRIBER_SUSPENDED'));
        await assert.rejects(generate5gVector(auc.ctx, '001010000000002', SNN), code('SUBSCRIBER_SUSPENDED'));
        await assert.rejects(resynchronise(auc.ctx, '001010000000002', randomBytes(16), randomBytes(14), { type: 'eps', plmn: PLMN }), code('SUBSCRIBER_SUSPENDED'));
        assert.equal((await auc.store.getSubscriber('001010000000002')).seqHe, 0, 'a refused vector allocates no SEQ');
        await auc.store.setState('001010000000002', 'active');
        await auc.store.setRestrictions('001010000000002', { dataOnly: true, volumeCapBytes: 1_000_000 });
        const v = await generateEpsVector(auc.ctx, '001010000000002', PLMN);
        assert.deepEqual(v.restrictions, { dataOnly: true, volumeCapBytes: 1_000_000 });
        await assert.rejects(generateEpsVector(auc.ctx, '001019999999999', PLMN), code('SUBSCRIBER_NOT_FOUND'));
        await assert.rejects(auc.store.setState('001019999999999', 'active'), code('SUBSCRIBER_NOT_FOUND'));
        await auc.store.deleteSubscriber('001010000000002');
        await assert.rejects(auc.store.getSubscriber('001010000000002'), code('SUBSCRIBER_NOT_FOUND'));
      } finally {
        await auc.close();
      }
    });

    it('an import with one duplicate IMSI writes nothing, not even a new data key', async () => {
      const auc = await openTestAuc(engine);
      try {
        await auc.store.addSubscribers([parseSubscriberRecord(milenageRecord('001010000000003', K, OPC), 'a')]);
        const batch = [milenageRecord('001010000000004', K, OPC, { operator: 'op2' }), milenageRecord('001010000000003', K, OPC)].map((r) => parseSubscriberRecord(r, 'b'));
        await assert.rejects(auc.store.addSubscribers(batch), code('SUBSCRIBER_EXISTS'));
        assert.deepEqual((await auc.store.listSubscribers()).map((s) => s.imsi), ['001010000000003']);
        assert.equal((await sql<{ n: number }>`SELECT operator_id FROM auc_data_keys`.execute(auc.db)).rows.length, 1);
        // The data key of op2 was never committed: a later import of op2 still works.
        await auc.store.addSubscribers([batch[0]!]);
        await generateEpsVector(auc.ctx, '001010000000004', PLMN);
      } finally {
        await auc.close();
      }
    });

    it('resync: the USIM ahead answers AUTS; the AuC verifies MAC-S, raises SEQ_HE, and its fresh vector is accepted; a replayed vector is refused', async () => {
      const auc = await openTestAuc(engine);
      try {
        await auc.store.addSubscribers([parseSubscriberRecord(milenageRecord('001010000000005', K, OPC), 'test')]);
        const alg = usimAlg();
        const usim = new SqnFreshnessState({ indBits: 5 });
        const first = await generateEpsVector(auc.ctx, '001010000000005', PLMN);
        assert.equal(usimAuthenticate(alg, usim, first.rand, first.autn).status, 'success');
        assert.equal(usimAuthenticate(alg, usim, first.rand, first.autn).status, 'sync_failure', 'a replayed vector is refused');
        // The USIM moves far ahead (another network's vectors, a restored card): SEQ 1000.
        for (let ind = 0; ind < 32; ind++) usim.verify(sqnFromNumber(1000 * 32 + ind));
        const stale = await generateEpsVector(auc.ctx, '001010000000005', PLMN);
        const refused = usimAuthenticate(alg, usim, stale.rand, stale.autn);
        assert.equal(refused.status, 'sync_failure');
        if (refused.status !== 'sync_failure') return;
        const wrong = Buffer.from(refused.auts);
        wrong[13]! ^= 1;
        await assert.rejects(resynchronise(auc.ctx, '001010000000005', stale.rand, wrong, { type: 'eps', plmn: PLMN }), code('MAC_FAILURE'));
        assert.equal((await auc.store.getSubscriber('001010000000005')).seqHe, 2, 'a bad MAC-S changes nothing');
        const r = await resynchronise(auc.ctx, '001010000000005', stale.rand, refused.auts, { type: 'eps', plmn: PLMN });
        assert.equal(sqnToNumber(r.sqnMs), 1000 * 32 + 31);
        assert.equal(r.type, 'eps');
        const fresh = usimAuthenticate(alg, usim, r.vector.rand, r.vector.autn);
        assert.equal(fresh.status, 'success');
        assert.equal((await auc.store.getSubscriber('001010000000005')).seqHe, 1001);
        // A resync with an old AUTS never moves SEQ_HE back.
        const old = generateAuts(alg, stale.rand, sqnFromNumber(5 * 32));
        const r2 = await resynchronise(auc.ctx, '001010000000005', stale.rand, old, { type: '5g', servingNetworkName: SNN });
        assert.equal(r2.type, '5g');
        assert.equal((await auc.store.getSubscriber('001010000000005')).seqHe, 1002);
      } finally {
        await auc.close();
      }
    });

    it('5G confirmation: once only, a wrong RES* fails and uses it up, an expired one is gone, at most N pending per subscriber', async () => {
      let now = 1_800_000_000_000;
      const auc = await openTestAuc(engine, { now: () => now, pendingTtlMs: 1000, maxPendingPerSubscriber: 2 });
      try {
        await auc.store.addSubscribers([parseSubscriberRecord(milenageRecord('001010000000006', K, OPC), 'test')], now);
        const alg = usimAlg();
        const resStarOf = (v: { rand: Buffer; autn: Buffer }): Buffer => {
          const { res, ck, ik } = alg.f2345(v.rand);
          return deriveResStar(ck, ik, SNN, v.rand, res);
        };
        const a = await generate5gVector(auc.ctx, '001010000000006', SNN);
        await confirmResStar(auc.ctx, a.authCtxId, resStarOf(a));
        await assert.rejects(confirmResStar(auc.ctx, a.authCtxId, resStarOf(a)), code('AUTHENTICATION_NOT_FOUND'));
        const b = await generate5gVector(auc.ctx, '001010000000006', SNN);
        await assert.rejects(confirmResStar(auc.ctx, b.authCtxId, randomBytes(16)), code('RES_STAR_MISMATCH'));
        await assert.rejects(confirmResStar(auc.ctx, b.authCtxId, resStarOf(b)), code('AUTHENTICATION_NOT_FOUND'), 'one try');
        const c = await generate5gVector(auc.ctx, '001010000000006', SNN);
        now += 1000;
        await assert.rejects(confirmResStar(auc.ctx, c.authCtxId, resStarOf(c)), code('AUTHENTICATION_NOT_FOUND'), 'expired');
        const d = [];
        for (let i = 0; i < 3; i++) {
          now += 1;
          d.push(await generate5gVector(auc.ctx, '001010000000006', SNN));
        }
        assert.equal(await auc.store.pendingCount(), 2);
        await assert.rejects(confirmResStar(auc.ctx, d[0]!.authCtxId, resStarOf(d[0]!)), code('AUTHENTICATION_NOT_FOUND'), 'the oldest was dropped');
        await confirmResStar(auc.ctx, d[2]!.authCtxId, resStarOf(d[2]!));
      } finally {
        await auc.close();
      }
    });

    it('two AuC processes (two connection pools) hand out 200 vectors concurrently: no SQN twice, SEQ_HE counts them all; a concurrent duplicate add is SUBSCRIBER_EXISTS', async () => {
      const fresh = freshDatabase(engine);
      const kek = new SecretBox(randomBytes(32));
      const dbs = [await openDatabase(fresh.config), await openDatabase(fresh.config)];
      try {
        const stores = dbs.map((db) => new AucStore(db, kek));
        await stores[0]!.addSubscribers([parseSubscriberRecord(milenageRecord('001010000000007', K, OPC), 'test')]);
        const ctxs = stores.map((s) => createAucContext(s));
        const alg = usimAlg();
        const vectors = await Promise.all(Array.from({ length: 200 }, (_, i) => generateEpsVector(ctxs[i % 2]!, '001010000000007', PLMN)));
        const sqns = vectors.map((v) => {
          const { ak } = alg.f2345(v.rand);
          return Buffer.from(v.autn.subarray(0, 6).map((b, j) => b ^ ak[j]!)).toString('hex');
        });
        assert.equal(new Set(sqns).size, 200, 'every SQN distinct');
        assert.equal((await stores[1]!.getSubscriber('001010000000007')).seqHe, 200);
        // Both processes add the same new IMSI at once: one wins, the other gets SUBSCRIBER_EXISTS (never a database error).
        const record = parseSubscriberRecord(milenageRecord('001010000000008', K, OPC), 'test');
        const outcomes = await Promise.allSettled(stores.map((s) => s.addSubscribers([record])));
        assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
        const refused = outcomes.find((o) => o.status === 'rejected')!;
        assert.ok(code('SUBSCRIBER_EXISTS')(refused.reason), String(refused.reason));
      } finally {
        for (const db of dbs) await db.destroy();
        await fresh.drop();
      }
    });
  });
}
