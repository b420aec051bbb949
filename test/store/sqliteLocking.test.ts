// SQLite shared by several processes (src/store/sqliteLocking.ts): SQLite never waits for a lock itself; a statement or
// a transaction that finds the database busy is retried asynchronously while the process carries on.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/store/database.js';
import { PreparedQuery, slot } from '../../src/store/preparedQuery.js';

const dir = mkdtempSync(join(tmpdir(), 'mcim-sqlite-locking-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function notificationInsert(db: Database) {
  return PreparedQuery.of(
    db.insertInto('smdp_notifications').values({ notification_key: slot('key'), eid: 'E', seq_number: 1, operation: 'install', iccid: null, transaction_id: null, received_at: 1 }),
  ).slots<{ key: string }>('key');
}

/** Lets the event loop turn `n` times (each turn runs I/O callbacks and timers that are due). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs `fn` on a new store database while a second connection (another process's, as far as SQLite's locks go) holds
 * its write lock; `release` commits that connection's transaction.
 */
async function withWriteLockHeld(name: string, fn: (db: Database, release: () => void) => Promise<void>): Promise<void> {
  const file = join(dir, `${name}.sqlite`);
  const db = await openDatabase({ engine: 'sqlite', file });
  const other = new BetterSqlite3(file);
  try {
    other.exec('BEGIN IMMEDIATE');
    await fn(db, () => other.exec('COMMIT'));
  } finally {
    other.close();
    await db.destroy();
  }
}

describe('SQLite lock waits', () => {
  it('SQLite itself never waits for a lock (busy_timeout 0): its wait would stop the whole event loop', async () => {
    const db = await openDatabase({ engine: 'sqlite', file: join(dir, 'timeout.sqlite') });
    try {
      assert.deepEqual((await sql<{ timeout: number }>`pragma busy_timeout`.execute(db)).rows, [{ timeout: 0 }]);
    } finally {
      await db.destroy();
    }
  });

  it('an autocommit write that meets another connection\'s write lock waits asynchronously and completes once it is released', async () => {
    await withWriteLockHeld('autocommit', async (db, release) => {
      let settled = false;
      const write = notificationInsert(db).affected(db, { key: 'E:1' });
      void write.finally(() => (settled = true)).catch(() => undefined);
      await turns(50);
      assert.equal(settled, false, 'the write waits for the lock');
      release();
      assert.equal(await write, 1);
      assert.equal((await db.selectFrom('smdp_notifications').select('notification_key').execute()).length, 1);
    });
  });

  it('a transaction (BEGIN IMMEDIATE) waits asynchronously for the lock, then runs whole; other statements wait their turn', async () => {
    await withWriteLockHeld('transaction', async (db, release) => {
      const insert = notificationInsert(db);
      let settled = false;
      const transaction = db.transaction().execute(async (trx) => {
        await insert.affected(trx, { key: 'E:1' });
        await insert.affected(trx, { key: 'E:2' });
      });
      const settledInOrder: string[] = [];
      void transaction.finally(() => {
        settled = true;
        settledInOrder.push('transaction');
      }).catch(() => undefined);
      // A statement issued while the transaction waits for its lock runs after it (it settles after the commit), not inside it.
      const later = insert.affected(db, { key: 'E:3' });
      void later.finally(() => settledInOrder.push('later')).catch(() => undefined);
      await turns(50);
      assert.equal(settled, false, 'the transaction waits for the lock');
      release();
      await transaction;
      assert.equal(await later, 1);
      assert.deepEqual(settledInOrder, ['transaction', 'later']);
      const keys = (await db.selectFrom('smdp_notifications').select('notification_key').orderBy('notification_key').execute()).map((r) => r.notification_key);
      assert.deepEqual(keys, ['E:1', 'E:2', 'E:3']);
    });
  });
});
