// Store errors as metric labels (src/http/metrics.ts): real SQLite and PostgreSQL errors are classed by their code; other errors are not store errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { storeErrorCode } from '../../src/http/metrics.js';
import { McimError } from '../../src/errors.js';
import { PG_URL } from '../helpers/postgres.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('nothing thrown');
}

describe('storeErrorCode', () => {
  it('classes a SQLite error by its result code', () => {
    const db = new BetterSqlite3(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    db.prepare('INSERT INTO t VALUES (?)').run('a');
    assert.equal(storeErrorCode(thrown(() => db.prepare('INSERT INTO t VALUES (?)').run('a'))), 'SQLITE_CONSTRAINT_PRIMARYKEY');
    db.close();
  });

  it('classes a PostgreSQL error by its SQLSTATE class', async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const e = await client.query('SELECT * FROM no_such_table_anywhere').then(() => undefined, (err: unknown) => err);
      assert.equal(storeErrorCode(e), 'pg_42');
    } finally {
      await client.end();
    }
  });

  it('other errors are not store errors', () => {
    assert.equal(storeErrorCode(new McimError('TAMPERED', 'x')), undefined);
    assert.equal(storeErrorCode(new Error('x')), undefined);
    assert.equal(storeErrorCode('x'), undefined);
  });
});
