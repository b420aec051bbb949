// SQLite shared by several processes (mcim serve --workers N): write transactions take the write lock first (BEGIN IMMEDIATE) and a busy database is waited for asynchronously, with bounded retries.
import { existsSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { writePrivateFile } from '../pki/privateFiles.js';
import { CompiledQuery, SqliteDialect, type DatabaseConnection, type Dialect, type Driver, type QueryResult, type SqliteDatabase, type TransactionSettings } from 'kysely';

/**
 * How long SQLite itself waits for a lock before answering SQLITE_BUSY (PRAGMA busy_timeout): not at all. better-sqlite3
 * is synchronous, so SQLite's wait (sleeps of 1 ms and more) would stop the whole worker, TLS and cryptography included;
 * every wait is one of the asynchronous retries below, during which the worker serves other requests.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 0;
/** Total time a statement or BEGIN IMMEDIATE is retried on SQLITE_BUSY before the error reaches the caller. */
const SQLITE_BUSY_DEADLINE_MS = 10_000;
const FIRST_BACKOFF_MS = 2;
const MAX_BACKOFF_MS = 100;

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `run` again while it fails with SQLITE_BUSY, waiting (off the event loop) an exponentially growing, jittered
 * delay between attempts, until `deadlineMs` has passed since the first SQLITE_BUSY; then the last error is thrown. A
 * statement that succeeds at once (the common case) costs no more than its own promise.
 */
function retryWhileBusy<T>(run: () => Promise<T>, deadlineMs = SQLITE_BUSY_DEADLINE_MS): Promise<T> {
  const retry = (e: unknown): Promise<T> => (isBusy(e) ? retryAfterBusy(run, Date.now() + deadlineMs, e) : Promise.reject(e));
  // kysely's better-sqlite3 connection runs the statement synchronously: SQLITE_BUSY is thrown, not a rejection.
  try {
    return run().catch(retry);
  } catch (e) {
    return retry(e);
  }
}

async function retryAfterBusy<T>(run: () => Promise<T>, deadline: number, busy: unknown): Promise<T> {
  let last = busy;
  let backoff = FIRST_BACKOFF_MS;
  for (;;) {
    if (Date.now() >= deadline) throw last;
    await sleep(backoff / 2 + Math.random() * backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    try {
      return await run();
    } catch (e) {
      if (!isBusy(e)) throw e;
      last = e;
    }
  }
}

/**
 * The one SQLite connection kysely uses. Outside a transaction a statement runs in autocommit and is retried on
 * SQLITE_BUSY (it changed nothing); inside one it runs once: BEGIN IMMEDIATE already holds the write lock, so in WAL
 * mode its statements do not wait for other writers.
 */
class RetryingConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;
  inTransaction = false;

  constructor(inner: DatabaseConnection) {
    this.inner = inner;
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.inTransaction) return this.inner.executeQuery<R>(query);
    return retryWhileBusy(() => this.inner.executeQuery<R>(query));
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

/** The SQLite connection as the synchronous path runs statements on it (src/store/database.ts, StatementCachingDatabase). */
export interface SynchronousSqlite extends SqliteDatabase {
  /** Whether a transaction is open on the connection (better-sqlite3's `inTransaction`). */
  readonly inTransaction: boolean;
}

/** kysely's SQLite driver with transactions begun IMMEDIATE (retried while busy) and autocommit statements retried. */
class ImmediateTransactionDriver implements Driver {
  readonly #inner: Driver;
  readonly #database: SynchronousSqlite;
  readonly #connections = new WeakMap<DatabaseConnection, RetryingConnection>();
  /** Whether kysely holds the connection (a query or a transaction in progress, from acquire to release). */
  #held = false;

  constructor(inner: Driver, database: SynchronousSqlite) {
    this.#inner = inner;
    this.#database = database;
  }

  /**
   * Runs an autocommit statement at once when the connection is free: no kysely query or transaction holds it, and none
   * can start while this runs (better-sqlite3 is synchronous). The store's hot statements so skip kysely's connection
   * mutex and promise chain. Undefined when the connection is held or SQLite answered busy: the caller then takes the
   * asynchronous path, which waits its turn and retries.
   */
  runNow<R>(query: CompiledQuery): QueryResult<R> | undefined {
    if (this.#held || this.#database.inTransaction) return undefined;
    const statement = this.#database.prepare(query.sql);
    try {
      if (statement.reader) return { rows: statement.all(query.parameters) as R[] };
      const { changes, lastInsertRowid } = statement.run(query.parameters);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    } catch (e) {
      if (isBusy(e)) return undefined;
      throw e;
    }
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await this.#inner.acquireConnection();
    this.#held = true;
    let connection = this.#connections.get(inner);
    if (connection === undefined) {
      connection = new RetryingConnection(inner);
      this.#connections.set(inner, connection);
    }
    return connection;
  }

  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    const c = connection as RetryingConnection;
    // A deferred BEGIN that reads, then writes, gets SQLITE_BUSY at once when another process wrote meanwhile (its
    // snapshot is stale); IMMEDIATE takes the write lock before the first read.
    await retryWhileBusy(() => c.inner.executeQuery(CompiledQuery.raw('begin immediate')));
    c.inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as RetryingConnection;
    try {
      await c.inner.executeQuery(CompiledQuery.raw('commit'));
    } finally {
      c.inTransaction = false;
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as RetryingConnection;
    try {
      await c.inner.executeQuery(CompiledQuery.raw('rollback'));
    } finally {
      c.inTransaction = false;
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#held = false;
    await this.#inner.releaseConnection((connection as RetryingConnection).inner);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

/** The driver of each Kysely instance registered by immediateSqliteDialect's `register`: its synchronous path. */
const synchronousPaths = new WeakMap<object, ImmediateTransactionDriver>();

/** Runs `query` at once on `runner`'s SQLite connection when it is free (ImmediateTransactionDriver.runNow); else undefined. */
export function runNow<R>(runner: object, query: CompiledQuery): QueryResult<R> | undefined {
  return synchronousPaths.get(runner)?.runNow<R>(query);
}

/**
 * SqliteDialect whose driver begins transactions IMMEDIATE and retries busy statements asynchronously, and `register`,
 * to be called with the Kysely instance built on that dialect: it gives the instance the synchronous path of runNow (a
 * transaction's Kysely instance does not have it: its statements go through kysely on the connection it holds).
 */
export function immediateSqliteDialect(dialect: SqliteDialect, database: SynchronousSqlite): { dialect: Dialect; register: (db: object) => void } {
  let driver: ImmediateTransactionDriver | undefined;
  const register = (db: object): void => {
    if (driver === undefined) throw new Error('the SQLite driver is created with its Kysely instance');
    synchronousPaths.set(db, driver);
  };
  return {
    register,
    dialect: {
      createDriver: () => (driver = new ImmediateTransactionDriver(dialect.createDriver(), database)),
      createQueryCompiler: () => dialect.createQueryCompiler(),
      createAdapter: () => dialect.createAdapter(),
      createIntrospector: (db) => dialect.createIntrospector(db),
    },
  };
}

/**
 * Runs `fn` while holding an exclusive SQLite lock on `lockFile` (a database of its own, empty): processes that call it
 * with the same file run `fn` one at a time, the others waiting asynchronously (bounded like a busy statement). The lock
 * is the operating system's file lock that SQLite takes: it goes with a process that dies holding it.
 */
export async function withExclusiveLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  // Created as every file of a data directory is: 0600 whatever the umask (it holds nothing, but it is ours).
  if (!existsSync(lockFile)) writePrivateFile(lockFile, '', 'a');
  const lock = new BetterSqlite3(lockFile);
  try {
    lock.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    await retryWhileBusy(async () => void lock.exec('BEGIN EXCLUSIVE'));
    try {
      return await fn();
    } finally {
      lock.exec('COMMIT');
    }
  } finally {
    lock.close();
  }
}
