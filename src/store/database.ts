// One data layer over two engines (DESIGN.md "One data layer, two engines"): SQLite (embedded, WAL) and PostgreSQL.
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Generated, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { McimError } from '../errors.js';
import { AUDIT_ROW_HASH_FUNCTION, rowHash } from './auditLog.js';
import { migrations } from './migrations.js';
import { immediateSqliteDialect, SQLITE_BUSY_TIMEOUT_MS, withExclusiveLock } from './sqliteLocking.js';

/** ES2+-like order states an SM-DP+ profile goes through (SGP.22 3.1.1, 5.3.x); confirmed = not yet released. */
export type OrderState = 'confirmed' | 'released' | 'downloaded' | 'installed' | 'error' | 'deleted';
/**
 * States of one ES9+ RSP session (SGP.22 3.1.2/3.1.3); authenticating: one AuthenticateClient call holds the session
 * (claimed atomically), which ends authenticated or failed.
 */
export type SessionState = 'initiated' | 'authenticating' | 'authenticated' | 'delivered' | 'cancelled' | 'failed' | 'expired';

export interface OrdersTable {
  matching_id: string;
  iccid: string;
  eid: string | null;
  /**
   * SHA-256 of the confirmation code (the eUICC sends SHA-256(SHA-256(CC) || transactionId)), sealed with the
   * at-rest key, hex. Rows written before sealing hold the bare 32-byte hash (64 hex digits) and stay readable.
   */
  cc_hash: string | null;
  cc_attempts: Generated<number>;
  state: OrderState;
  error_reason: string | null;
  profile_name: string;
  service_provider_name: string;
  profile_class: number;
  transaction_id: string | null;
  /** The EID of the eUICC the bound profile package was delivered to: only it may report on the profile. */
  delivered_eid: string | null;
  /** 1: an order for its EID alone (default SM-DP+, SM-DS): matching_id is an internal key no eUICC can present. */
  eid_only: Generated<number>;
  created_at: number | string;
  updated_at: number | string;
  /** After this time (ms since the epoch) the order can no longer be downloaded (8.8.5/4.10). */
  order_expires_at: number | string | null;
  /** Download attempts (authenticated sessions) allowed; null: unlimited (8.8.5/6.4). */
  max_download_attempts: number | null;
  download_attempts: Generated<number>;
  /** PprIds of the profile as a bit mask (bit n = PprId n), carried in StoreMetadata. */
  profile_policy_rules: number | null;
  /** OperatorId of the profile owner, DER hex (StoreMetadata profileOwner). */
  profile_owner: string | null;
  icon_type: number | null;
  icon: Buffer | null;
  /**
   * The secrets of the last binding (otPK.DP.ECKA, shared secret, hostId, PPKs), sealed: the same bound profile package
   * is built again when the same eUICC retries with the same one-time key (src/smdpp/boundProfilePackageRetry.ts).
   */
  binding_sealed: Buffer | null;
  /** otPK.EUICC.ECKA the retained binding was made for (bppEuiccOtpk of SmdpSigned2). */
  bpp_euicc_otpk: Buffer | null;
  /** The ES2+ operator (tenant) whose order this is, called back on its progress; null: an order imported locally. */
  operator: string | null;
  /** The profile type of an ES2+ order (HandleDownloadProgressInfo profileType). */
  profile_type: string | null;
}

/**
 * An order's profile package, apart from the order's row: the row changes state several times per download, and a
 * row update rewrites the whole row (12 KB and more with the package in it).
 */
export interface OrderPackagesTable {
  matching_id: string;
  /** The profile package, sealed with AES-256-GCM (it holds K and OPc). */
  package_sealed: Buffer;
}

export interface SessionsTable {
  transaction_id: string;
  state: SessionState;
  curve: string;
  /** The CI of the credential the session runs under (CERT.DPauth, CERT.DPpb): from euiccCiPKIdListForVerification. */
  ci_key_id: string;
  /** euiccCiPKIdToBeUsed: the CI the eUICC's chain must end at (from euiccCiPKIdListForSigning); NULL: ci_key_id. */
  euicc_ci_key_id: string | null;
  euicc_challenge: Buffer;
  server_challenge: Buffer;
  eid: string | null;
  euicc_certificate: Buffer | null;
  matching_id: string | null;
  smdp_signature2: Buffer | null;
  expires_at: number | string;
  created_at: number | string;
  /** The network address InitiateAuthentication came from (per-source open-session limit); NULL before 0006. */
  source: string | null;
}

/** Failures counted against one key (an EID or a source address) and its lockout (src/store/lockouts.ts). */
export interface LockoutsTable {
  /** `eid:<EID>` or `source:<address>`. */
  key: string;
  /** Failures in the current window. */
  failures: number;
  window_started_at: number | string;
  /** Lockouts so far: the next one lasts twice as long (up to the maximum). */
  lockouts: number;
  /** Locked until this time (ms since the epoch); 0: never locked. */
  locked_until: number | string;
  last_failure_at: number | string;
  /** The entry is forgotten after this time (purge). */
  expires_at: number | string;
}

export interface NotificationsTable {
  /** `<EID>:<seqNumber>`: an eUICC numbers its notifications uniquely. */
  notification_key: string;
  eid: string;
  seq_number: number;
  operation: string;
  iccid: string | null;
  transaction_id: string | null;
  received_at: number | string;
}

/** One profile (order) state change, hash-chained to the row before it (src/store/auditLog.ts). */
export interface AuditLogTable {
  seq: number;
  at: number | string;
  /** SHA-256 of the matching ID (or internal key), hex, first 32 digits: not the matching ID itself. */
  order_ref: string;
  iccid: string;
  from_state: string | null;
  to_state: string;
  cause: string;
  prev_hash: string;
  hash: string;
}

export interface McimTables {
  smdp_orders: OrdersTable;
  smdp_order_packages: OrderPackagesTable;
  smdp_sessions: SessionsTable;
  smdp_notifications: NotificationsTable;
  smdp_lockouts: LockoutsTable;
  smdp_audit_log: AuditLogTable;
}

export type Database = Kysely<McimTables>;

export type DatabaseConfig =
  | { readonly engine: 'sqlite'; readonly file: string }
  | {
      readonly engine: 'postgres';
      readonly connectionString: string;
      /** A schema to create (if needed) and work in, e.g. one per tenant or per test run. */
      readonly schema?: string;
      readonly maxConnections?: number;
    };

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The environment variable naming a PostgreSQL database for the SM-DP+'s store (docs/operations.md, PostgreSQL). */
export const DATABASE_ENV = 'MCIM_DB';

/** A URL as it may be shown: without its password. */
function shownUrl(url: URL): string {
  const shown = new URL(url.toString());
  if (shown.password !== '') shown.password = '***';
  return shown.toString();
}

/**
 * A PostgreSQL database from its URL (`postgres://` or `postgresql://`, libpq's parameters), with mcim's own optional
 * parameter `schema=NAME`: the schema to create (if needed) and work in. Messages never show the password.
 */
export function postgresConfig(text: string): DatabaseConfig {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new McimError('INVALID_ARGUMENT', 'the database is not a URL (expected postgres://USER@HOST:PORT/DATABASE)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new McimError('INVALID_ARGUMENT', `${shownUrl(url)} is not a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE)`);
  }
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new McimError('INVALID_ARGUMENT', `'${schema}' is not a valid schema name`);
  return { engine: 'postgres', connectionString: url.toString(), ...(schema === undefined ? {} : { schema }) };
}

/** Prepared statements kept per SQLite connection: the store issues a few dozen distinct SQL texts. */
export const DEFAULT_STATEMENT_CACHE_SIZE = 256;

/**
 * The better-sqlite3 database as kysely's SqliteDialect sees it, with its prepared statements kept by SQL text (bounded,
 * least recently used out): kysely prepares every query it runs, and preparing costs more than running most of ours.
 * A better-sqlite3 statement is reusable: each run binds its own parameters and runs to completion synchronously; one
 * still busy (a kysely stream iterating it) is not handed out again, a fresh one is prepared instead. SQLite re-prepares
 * a cached statement itself when the schema changes (sqlite3_prepare_v2).
 */
export class StatementCachingDatabase implements SqliteDatabase {
  readonly #db: BetterSqlite3.Database;
  readonly #max: number;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(db: BetterSqlite3.Database, max = DEFAULT_STATEMENT_CACHE_SIZE) {
    this.#db = db;
    this.#max = max;
  }

  prepare(sqlText: string): SqliteStatement {
    const hit = this.#statements.get(sqlText);
    if (hit !== undefined && !hit.busy) {
      this.#statements.delete(sqlText);
      this.#statements.set(sqlText, hit);
      return hit;
    }
    const statement = this.#db.prepare(sqlText);
    if (this.#max > 0 && hit === undefined) {
      if (this.#statements.size >= this.#max) this.#statements.delete(this.#statements.keys().next().value!);
      this.#statements.set(sqlText, statement);
    }
    return statement;
  }

  /** Whether a transaction is open on the connection (the synchronous path of src/store/sqliteLocking.ts runs none inside one). */
  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }
}

/** Opens the database and brings its schema to the latest migration. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  let db: Database;
  if (config.engine === 'sqlite') {
    const sqlite = new BetterSqlite3(config.file);
    sqlite.pragma('journal_mode = WAL');
    // Several processes share the file (mcim serve --workers): SQLite does not wait for a lock itself (that would block
    // the event loop); a busy database is waited for by asynchronous retries (src/store/sqliteLocking.ts).
    sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    sqlite.pragma('foreign_keys = ON');
    // The audit chain's row hash inside SQLite: an append reads the chain's head and writes the row in one statement.
    sqlite.function(AUDIT_ROW_HASH_FUNCTION, { deterministic: true }, (prevHash, seq, at, ref, iccid, fromState, toState, cause) =>
      rowHash(String(prevHash), { seq: Number(seq), at: Number(at), orderRef: String(ref), iccid: String(iccid), fromState: fromState === null ? null : String(fromState), toState: String(toState), cause: String(cause) }),
    );
    const database = new StatementCachingDatabase(sqlite);
    const { dialect, register } = immediateSqliteDialect(new SqliteDialect({ database }), database);
    db = new Kysely<McimTables>({ dialect });
    register(db);
  } else {
    if (config.schema !== undefined && !SCHEMA_NAME.test(config.schema)) {
      throw new McimError('INVALID_ARGUMENT', `'${config.schema}' is not a valid schema name`);
    }
    const pool = new pg.Pool({
      connectionString: config.connectionString,
      max: config.maxConnections ?? 10,
      ...(config.schema === undefined ? {} : { options: `-c search_path=${config.schema}` }),
    });
    // An idle connection the server ends (a restart, an administrator, an idle timeout) is dropped by the pool and the
    // next query opens a new one; without a listener its 'error' event would end the process.
    pool.on('error', () => undefined);
    db = new Kysely<McimTables>({ dialect: new PostgresDialect({ pool }) });
  }
  try {
    if (config.engine === 'postgres' && config.schema !== undefined) await createSchema(db, config.schema);
    let schema: string | undefined;
    if (config.engine === 'postgres') {
      // The schema the tables go to: the configured one, or the connection's current schema (public by default).
      schema = config.schema ?? (await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)).rows[0]?.schema;
    }
    // Kysely takes no migration lock on SQLite: processes opening a new database file at once (CLI commands, several
    // servers) would each run the migrations. They take turns on a lock file beside it instead.
    if (config.engine === 'sqlite') await withExclusiveLock(`${config.file}.migration-lock`, () => migrate(db, 'sqlite', undefined));
    else await migrate(db, config.engine, schema);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return db;
}

/**
 * CREATE SCHEMA IF NOT EXISTS is not safe against itself: of processes creating one schema at once (several servers or
 * a server and a CLI command starting on a new schema), all but one fail with a unique violation on pg_namespace
 * (23505), raised only once the winner has committed, so the schema then exists and the loser carries on.
 */
async function createSchema(db: Database, schema: string): Promise<void> {
  try {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P06') throw e;
  }
}

async function migrate(db: Database, engine: 'sqlite' | 'postgres', schema: string | undefined): Promise<void> {
  const all = migrations(engine);
  // PostgreSQL: the migration tables are looked up in this schema, not in any schema of the database: without it,
  // kysely takes another schema's kysely_migration_lock for this one's and the migration fails (other tenants, test runs).
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(all) },
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '(unknown)';
    const reason = error instanceof Error ? `: ${error.message}` : '';
    throw new McimError('MIGRATION_FAILED', `database migration ${failed} failed${reason}`, { cause: error });
  }
}

/** Reads a timestamp column (SQLite returns numbers, PostgreSQL returns BIGINT as strings). */
export function timeOf(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}
