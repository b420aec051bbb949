// The eIM's relayed ES9+ sessions and notification forwards (src/store/eimRelayStore.ts, migration 0017_eim_relay) on SQLite and PostgreSQL, two eIM
// processes on one database: one call in flight per session, sessions counted and purged by expiry, a forward stored once, delivered by one process, backoff.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../../src/store/database.js';
import { EimRelayStore } from '../../src/store/eimRelayStore.js';
import { freshDatabase } from '../auc/harness.js';
import { ENGINES } from './harness.js';

const EID = '89049032123451234512345678901235';

async function twoProcesses(engine: (typeof ENGINES)[number]): Promise<{ a: EimRelayStore; b: EimRelayStore; close(): Promise<void> }> {
  const fresh = freshDatabase(engine);
  const dbA = await openDatabase(fresh.config);
  const dbB = await openDatabase(fresh.config);
  return {
    a: new EimRelayStore(dbA),
    b: new EimRelayStore(dbB),
    async close() {
      await dbA.destroy();
      await dbB.destroy();
      await fresh.drop();
    },
  };
}

for (const engine of ENGINES) {
  describe(`eIM relay store on ${engine}`, () => {
    it('sessions: one claim wins across two processes, released with its change; expired sessions refused, counted out and purged', async () => {
      const { a, b, close } = await twoProcesses(engine);
      try {
        const now = 1_000_000;
        assert.equal(await a.startRelay({ transactionId: 'AA', eid: EID, smdpAddress: 'smdp.example.com', expiresAt: now + 60_000 }, now), true);
        assert.equal(await b.startRelay({ transactionId: 'AA', smdpAddress: 'other.example.com', expiresAt: now + 60_000 }, now), false, 'a transactionId once');
        assert.equal(await a.openRelayCount(EID, now), 1);
        assert.equal(await a.openRelayCount(undefined, now), 0);

        const claims = await Promise.all([a.claimRelay('AA', ['initiated'], now, now + 5000), b.claimRelay('AA', ['initiated'], now, now + 5000)]);
        assert.equal(claims.filter((c) => c !== undefined).length, 1, 'one call in flight');
        assert.equal(await a.claimRelay('AA', ['initiated'], now + 1000, now + 6000), undefined, 'still held');
        await b.releaseRelay('AA', { state: 'authenticated', smdpSignature2: Buffer.from('5f3701aa', 'hex') });
        assert.equal(await a.claimRelay('AA', ['initiated'], now + 1000, now + 6000), undefined, 'past that step');
        const again = await a.claimRelay('AA', ['authenticated'], now + 1000, now + 6000);
        assert.deepEqual([again?.state, again?.eid, again?.smdpSignature2?.toString('hex')], ['authenticated', EID, '5f3701aa']);
        // A lease that ran out (a process that died mid-call) is taken again.
        assert.notEqual(await b.claimRelay('AA', ['authenticated'], now + 7000, now + 12_000), undefined);

        assert.equal(await a.claimRelay('AA', ['authenticated'], now + 60_000, now + 65_000), undefined, 'expired');
        assert.equal(await a.openRelayCount(EID, now + 60_000), 0);
        await a.startRelay({ transactionId: 'BB', smdpAddress: 'smdp.example.com', expiresAt: now + 120_000 }, now + 60_000);
        assert.equal(await a.getRelay('AA'), undefined, 'purged');
        assert.equal(await b.openRelayCount(undefined, now + 60_000), 1);
      } finally {
        await close();
      }
    });

    it('forwards: stored once per EID and seqNumber, taken by one process, retried at the backoff time, then delivered or given up', async () => {
      const { a, b, close } = await twoProcesses(engine);
      try {
        const now = 2_000_000;
        const n = { eid: EID, seqNumber: 7, address: 'smdp.example.com', notification: Buffer.from('bf2f00', 'hex') };
        await a.addForward(n, now);
        await b.addForward({ ...n, notification: Buffer.from('bf2f01', 'hex') }, now + 1);
        assert.equal(await a.nextForwardAt(), now);
        const [due] = await a.dueForwards(now, 10);
        assert.deepEqual([due?.seqNumber, due?.notification.toString('hex'), due?.attempts], [7, 'bf2f00', 0]);
        const [dueB] = await b.dueForwards(now, 10);
        const taken = await Promise.all([a.claimForward(due!, now + 30_000), b.claimForward(dueB!, now + 30_000)]);
        assert.deepEqual(taken.filter(Boolean).length, 1, 'one process delivers it');
        assert.deepEqual(await a.dueForwards(now + 1000, 10), [], 'leased');

        await a.forwardFailed(due!, 'connection refused', now + 2000);
        const retry = (await a.getForward(EID, 7))!;
        assert.deepEqual([retry.state, retry.attempts, retry.nextAt, retry.lastError], ['pending', 1, now + 2000, 'connection refused']);
        assert.deepEqual(await a.dueForwards(now + 1999, 10), []);
        const [later] = await b.dueForwards(now + 2000, 10);
        assert.ok(await b.claimForward(later!, now + 32_000));
        await b.forwardDelivered(later!, now + 2100);
        assert.deepEqual([(await a.getForward(EID, 7))!.state, (await a.getForward(EID, 7))!.attempts], ['delivered', 2]);
        assert.equal(await a.nextForwardAt(), undefined);

        await a.addForward({ ...n, seqNumber: 8 }, now);
        const [last] = await a.dueForwards(now, 10);
        await a.forwardFailed(last!, 'x'.repeat(2000), undefined);
        const failed = (await a.getForward(EID, 8))!;
        assert.deepEqual([failed.state, failed.lastError!.length], ['failed', 500]);
        assert.deepEqual(await a.dueForwards(now + 10_000_000, 10), []);
      } finally {
        await close();
      }
    });
  });
}
