// One data layer over two engines (DESIGN.md "One data layer, two engines"): SQLite (embedded, WAL) and PostgreSQL.
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Generated } from 'kysely';
import { McimError } from '../errors.js';
import { migrations } from './migrations.js';

/** ES2+-like order states an SM-DP+ profile goes through (SGP.22 3.1.1, 5.3.x). */
export type OrderState = 'released' | 'downloaded' | 'installed' | 'error' | 'deleted';
/** States of one ES9+ RSP session (SGP.22 3.1.2/3.1.3). */
export type SessionState = 'initiated' | 'authenticated' | 'delivered' | 'cancelled' | 'failed' | 'expired';

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
  /** The profile package, sealed with AES-256-GCM (it holds K and OPc). */
  package_sealed: Buffer;
  transaction_id: string | null;
  /** The EID of the eUICC the bound profile package was delivered to: only it may report on the profile. */
  delivered_eid: string | null;
  created_at: number | string;
  updated_at: number | string;
}

export interface SessionsTable {
  transaction_id: string;
  state: SessionState;
  curve: string;
  ci_key_id: string;
  euicc_challenge: Buffer;
  server_challenge: Buffer;
  eid: string | null;
  euicc_certificate: Buffer | null;
  matching_id: string | null;
  smdp_signature2: Buffer | null;
  expires_at: number | string;
  created_at: number | string;
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

export interface McimTables {
  smdp_orders: OrdersTable;
  smdp_sessions: SessionsTable;
  smdp_notifications: NotificationsTable;
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

/** Opens the database and brings its schema to the latest migration. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  let db: Database;
  if (config.engine === 'sqlite') {
    const sqlite = new BetterSqlite3(config.file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    db = new Kysely<McimTables>({ dialect: new SqliteDialect({ database: sqlite }) });
  } else {
    if (config.schema !== undefined && !SCHEMA_NAME.test(config.schema)) {
      throw new McimError('INVALID_ARGUMENT', `'${config.schema}' is not a valid schema name`);
    }
    const pool = new pg.Pool({
      connectionString: config.connectionString,
      max: config.maxConnections ?? 10,
      ...(config.schema === undefined ? {} : { options: `-c search_path=${config.schema}` }),
    });
    db = new Kysely<McimTables>({ dialect: new PostgresDialect({ pool }) });
    if (config.schema !== undefined) await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(config.schema)}`.execute(db);
  }
  try {
    await migrate(db, config.engine);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return db;
}

async function migrate(db: Database, engine: 'sqlite' | 'postgres'): Promise<void> {
  const all = migrations(engine);
  const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(all) } });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '(unknown)';
    throw new McimError('MIGRATION_FAILED', `database migration ${failed} failed`, { cause: error });
  }
}

/** Reads a timestamp column (SQLite returns numbers, PostgreSQL returns BIGINT as strings). */
export function timeOf(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}
