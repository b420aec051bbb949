// The hash-chained audit trail of order state changes (src/store/auditLog.ts) on SQLite and PostgreSQL: written with each change, tampering detected, one chain under concurrent appends.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type DatabaseConfig } from '../../src/store/database.js';
import { SecretBox } from '../../src/store/secretBox.js';
import { SmdpStore, type NewOrder } from '../../src/store/smdpStore.js';
import { GENESIS_HASH, orderRef, rowHash } from '../../src/store/auditLog.js';
import { PG_URL, dropSchema } from '../helpers/postgres.js';

const NOW = 1_700_000_000_000;
const dir = mkdtempSync(join(tmpdir(), 'mcim-audit-'));
const box = SecretBox.fromKeyFile(join(dir, 'secret.key'));
const pgSchemas: string[] = [];

function newOrder(matchingId: string, extra: Partial<NewOrder> = {}): NewOrder {
  return { matchingId, iccid: '8949449999999990049', profileName: 'Test', serviceProviderName: 'mcim', profileClass: 2, profilePackage: Buffer.from('a0 K OPc'), ...extra };
}

function pgConfig(schema: string): DatabaseConfig {
  return { engine: 'postgres', connectionString: PG_URL, schema, maxConnections: 8 };
}

const ENGINES: { name: string; config: () => DatabaseConfig }[] = [
  { name: 'SQLite', config: () => ({ engine: 'sqlite', file: join(dir, `audit-${randomBytes(4).toString('hex')}.sqlite`) }) },
  {
    name: 'PostgreSQL',
    config: () => {
      const schema = `mcim_audit_${process.pid}_${randomBytes(4).toString('hex')}`;
      pgSchemas.push(schema);
      return pgConfig(schema);
    },
  },
];

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const s of pgSchemas) await dropSchema(s);
});

/** A store whose audit trail holds five rows: three orders imported, one released, one delivered. */
async function storeWithTrail(config: DatabaseConfig): Promise<SmdpStore> {
  const store = new SmdpStore(await openDatabase(config), box);
  await store.orders.insert(newOrder('AUDIT-ORDER-1'), NOW);
  await store.orders.insert(newOrder('AUDIT-ORDER-2', { released: false }), NOW + 1);
  await store.orders.insert(newOrder('AUDIT-ORDER-3'), NOW + 2);
  assert.equal(await store.orders.release('AUDIT-ORDER-2', NOW + 3), true);
  await store.sessions.create({ transactionId: 'T1', curve: 'P-256', ciKeyId: 'aa', euiccChallenge: randomBytes(16), serverChallenge: randomBytes(16), expiresAt: NOW + 60_000 }, NOW);
  assert.equal(await store.sessions.authenticate('T1', { eid: '89049032123451234512345678901235', euiccCertificate: Buffer.from('c'), matchingId: 'AUDIT-ORDER-1', smdpSignature2: Buffer.from('s') }, NOW), true);
  assert.equal(await store.sessions.deliver('T1', 'AUDIT-ORDER-1', NOW + 4), true);
  return store;
}

for (const engine of ENGINES) {
  describe(`audit trail on ${engine.name}`, () => {
    it('each state change appends one chained row, in the transaction of the change; the matching ID is not stored', async () => {
      const store = await storeWithTrail(engine.config());
      try {
        const rows = await store.audit.list();
        assert.deepEqual(
          rows.map((r) => [r.seq, r.fromState, r.toState]),
          [
            [1, null, 'released'],
            [2, null, 'confirmed'],
            [3, null, 'released'],
            [4, 'confirmed', 'released'],
            [5, 'released', 'downloaded'],
          ],
        );
        assert.equal(rows[0]!.prevHash, GENESIS_HASH);
        for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prevHash, rows[i - 1]!.hash);
        assert.equal(rows[4]!.orderRef, orderRef('AUDIT-ORDER-1'));
        assert.match(rows[4]!.cause, /delivered to the eUICC 89049032123451234512345678901235/);
        assert.ok(rows.every((r) => !JSON.stringify(r).includes('AUDIT-ORDER')));
        assert.deepEqual((await store.audit.list({ matchingId: 'AUDIT-ORDER-2' })).map((r) => r.seq), [2, 4]);
        // A refused change writes nothing: a duplicate import, a second release.
        await assert.rejects(store.orders.insert(newOrder('AUDIT-ORDER-1'), NOW));
        assert.equal(await store.orders.release('AUDIT-ORDER-2', NOW), false);
        const verified = await store.audit.verify();
        assert.deepEqual(verified, { rows: 5, head: rows[4]!.hash });
      } finally {
        await store.close();
      }
    });

    it('detects an altered row', async () => {
      const store = await storeWithTrail(engine.config());
      try {
        await sql`UPDATE smdp_audit_log SET to_state = 'installed' WHERE seq = 3`.execute(store.db);
        assert.deepEqual((await store.audit.verify()).firstBad, { seq: 3, problem: 'the row does not match its hash (altered)' });
      } finally {
        await store.close();
      }
    });

    it('detects an altered row whose hash was recomputed (the next row no longer chains)', async () => {
      const store = await storeWithTrail(engine.config());
      try {
        const [row] = await store.audit.list({ afterSeq: 2, limit: 1 });
        const forged = { ...row!, cause: 'nothing happened' };
        await sql`UPDATE smdp_audit_log SET cause = ${forged.cause}, hash = ${rowHash(forged.prevHash, forged)} WHERE seq = 3`.execute(store.db);
        assert.deepEqual((await store.audit.verify()).firstBad, { seq: 4, problem: 'prev_hash is not the hash of the row before' });
      } finally {
        await store.close();
      }
    });

    it('detects a deleted row', async () => {
      const store = await storeWithTrail(engine.config());
      try {
        await sql`DELETE FROM smdp_audit_log WHERE seq = 2`.execute(store.db);
        assert.deepEqual((await store.audit.verify()).firstBad, { seq: 3, problem: 'rows 2 to 2 are missing' });
      } finally {
        await store.close();
      }
    });

    it('detects reordered rows', async () => {
      const store = await storeWithTrail(engine.config());
      try {
        await sql`UPDATE smdp_audit_log SET seq = -1 WHERE seq = 2`.execute(store.db);
        await sql`UPDATE smdp_audit_log SET seq = 2 WHERE seq = 3`.execute(store.db);
        await sql`UPDATE smdp_audit_log SET seq = 3 WHERE seq = -1`.execute(store.db);
        assert.deepEqual((await store.audit.verify()).firstBad, { seq: 2, problem: 'prev_hash is not the hash of the row before' });
      } finally {
        await store.close();
      }
    });
  });
}

for (const engine of ENGINES) {
  it(`${engine.name}: an append after another process's append, or after a rolled-back one, chains to the real last row`, async () => {
    const config = engine.config();
    const a = new SmdpStore(await openDatabase(config), box);
    const b = new SmdpStore(await openDatabase(config), box);
    try {
      // Each store's remembered head goes stale when the other appends.
      for (let i = 0; i < 6; i++) await (i % 2 === 0 ? a : b).orders.insert(newOrder(`ALTERNATE-${i}`), NOW + i);
      // A change whose transaction rolls back after its audit row: a's head names a row that does not exist.
      await assert.rejects(
        a.db.transaction().execute(async (trx) => {
          await a.audit.append(trx, { matchingId: 'ROLLED-BACK', iccid: '8949449999999990049', from: null, to: 'released', cause: 'rolled back', at: NOW + 10 });
          throw new Error('roll back');
        }),
        /roll back/,
      );
      await a.orders.insert(newOrder('AFTER-ROLLBACK'), NOW + 11);
      await b.orders.insert(newOrder('AFTER-ROLLBACK-B'), NOW + 12);
      const verified = await a.audit.verify();
      assert.equal(verified.firstBad, undefined);
      assert.equal(verified.rows, 8);
      assert.deepEqual((await b.audit.list()).map((r) => r.cause).filter((c) => c === 'rolled back'), []);
    } finally {
      await a.close();
      await b.close();
    }
  });
}

describe('audit trail under concurrency (PostgreSQL)', () => {
  it('two store instances appending at once keep one chain: seq 1..n, every row chained', async () => {
    const schema = `mcim_audit_${process.pid}_${randomBytes(4).toString('hex')}`;
    pgSchemas.push(schema);
    const a = new SmdpStore(await openDatabase(pgConfig(schema)), box);
    const b = new SmdpStore(await openDatabase(pgConfig(schema)), box);
    try {
      const n = 30;
      await Promise.all(
        Array.from({ length: n }, (_, i) => (i % 2 === 0 ? a : b).orders.insert(newOrder(`CONCURRENT-${i}`), NOW + i)),
      );
      const verified = await a.audit.verify();
      assert.equal(verified.firstBad, undefined);
      assert.equal(verified.rows, n);
      assert.deepEqual((await b.audit.list()).map((r) => r.seq), Array.from({ length: n }, (_, i) => i + 1));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
