// Queries compiled once and run with new values (src/store/preparedQuery.ts), on SQLite and PostgreSQL.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McimError } from '../../src/errors.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { PreparedQuery, slot } from '../../src/store/preparedQuery.js';
import { PG_URL, dropSchema } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'mcim-prepared-'));
const pgSchema = `mcim_prep_${process.pid}_${randomBytes(3).toString('hex')}`;
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropSchema(pgSchema);
});

const ENGINES: { name: string; open: () => Promise<Database> }[] = [
  { name: 'SQLite', open: () => openDatabase({ engine: 'sqlite', file: join(dir, 'p.sqlite') }) },
  {
    name: 'PostgreSQL',
    open: () => openDatabase({ engine: 'postgres', connectionString: PG_URL, schema: pgSchema }),
  },
];

function notificationInsert(db: Database) {
  return PreparedQuery.of(
    db
      .insertInto('smdp_notifications')
      .values({ notification_key: slot('key'), eid: slot('eid'), seq_number: slot('seq'), operation: 'install', iccid: null, transaction_id: null, received_at: 5 })
      .onConflict((oc) => oc.column('notification_key').doNothing()),
  ).slots<{ key: string; eid: string; seq: number }>('key', 'eid', 'seq');
}

for (const engine of ENGINES) {
  describe(`PreparedQuery on ${engine.name}`, () => {
    it('runs one compiled statement with each call\'s values and keeps the constants', async () => {
      const db = await engine.open();
      try {
        const insert = notificationInsert(db);
        const select = PreparedQuery.of(db.selectFrom('smdp_notifications').selectAll().where('eid', '=', slot<string>('eid')).orderBy('seq_number')).slots<{ eid: string }>('eid');
        assert.equal(await insert.affected(db, { key: 'A:1', eid: 'A', seq: 1 }), 1);
        assert.equal(await insert.affected(db, { key: 'A:2', eid: 'A', seq: 2 }), 1);
        assert.equal(await insert.affected(db, { key: 'B:1', eid: 'B', seq: 1 }), 1);
        // The conflict clause compiled in still applies.
        assert.equal(await insert.affected(db, { key: 'A:1', eid: 'A', seq: 1 }), 0);
        const rows = (await select.execute(db, { eid: 'A' })).rows;
        assert.deepEqual(rows.map((r) => [r.notification_key, Number(r.seq_number), r.operation, Number(r.received_at)]), [
          ['A:1', 1, 'install', 5],
          ['A:2', 2, 'install', 5],
        ]);
        assert.equal((await select.first(db, { eid: 'C' })), undefined);
        // Inside a transaction, through the transaction's connection.
        await db.transaction().execute(async (trx) => {
          assert.equal(await insert.affected(trx, { key: 'C:1', eid: 'C', seq: 1 }), 1);
        });
        assert.equal((await select.first(db, { eid: 'C' }))?.notification_key, 'C:1');
      } finally {
        await db.destroy();
      }
    });

    it('never runs a statement inside a transaction it is not part of (the SQLite synchronous path waits its turn)', async () => {
      const db = await engine.open();
      try {
        const insert = notificationInsert(db);
        const select = PreparedQuery.of(db.selectFrom('smdp_notifications').select('notification_key').where('eid', '=', slot<string>('eid'))).slots<{ eid: string }>('eid');
        let opened!: () => void;
        const open = new Promise<void>((resolve) => (opened = resolve));
        // A transaction that writes, waits while holding the connection, then rolls back.
        const rolledBack = db
          .transaction()
          .execute(async (trx) => {
            await insert.affected(trx, { key: 'T:1', eid: 'T', seq: 1 });
            opened();
            await new Promise((resolve) => setTimeout(resolve, 50));
            throw new Error('roll back');
          })
          .catch((e: unknown) => (e as Error).message);
        await open;
        // Issued while the transaction is open: on SQLite's single connection it must not join it (and be rolled back).
        const outside = insert.affected(db, { key: 'O:1', eid: 'O', seq: 1 });
        assert.equal(await rolledBack, 'roll back');
        assert.equal(await outside, 1);
        assert.deepEqual((await select.execute(db, { eid: 'O' })).rows.map((r) => r.notification_key), ['O:1']);
        assert.deepEqual((await select.execute(db, { eid: 'T' })).rows, []);
      } finally {
        await db.destroy();
      }
    });

    it('refuses a declared slot the query does not use and a slot it does not declare', async () => {
      const db = await engine.open();
      try {
        const query = db.selectFrom('smdp_notifications').select('eid').where('eid', '=', slot<string>('eid'));
        assert.throws(() => PreparedQuery.of(query).slots<{ eid: string; other: string }>('eid', 'other'), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
        assert.throws(() => PreparedQuery.of(query).slots<Record<string, never>>(), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
      } finally {
        await db.destroy();
      }
    });
  });
}
