// Profile stock (docs/operations.md, Profile stock): envelope encryption (one data key per operator, wrapped under the
// key-encryption key), profile types, personalized profiles written in batches, and the atomic claim of an available one.
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { McimError } from '../errors.js';
import { timeOf, type Database, type McimTables } from './database.js';
import { OperatorDataKeys } from './operatorDataKeys.js';
import { SecretBox } from './secretBox.js';

/**
 * 'available': in stock; 'allocated' / 'linked': reserved by ES2+ DownloadOrder (linked: to an EID) or a claim;
 * 'ordered': ConfirmOrder made its order, which carries the state on; 'unavailable': withdrawn for good (SGP.22 3.1.6).
 */
export type StockState = 'available' | 'allocated' | 'linked' | 'ordered' | 'unavailable';

export const STOCK_STATES: readonly StockState[] = ['available', 'allocated', 'linked', 'ordered', 'unavailable'];

interface DataKeysTable {
  operator: string;
  /** The operator's 32-byte data key sealed under the KEK. */
  wrapped_key: Buffer;
  created_at: number | string;
}

interface ProfileTypesTable {
  name: string;
  operator: string;
  /** The prepared template, sealed under the operator's data key. */
  template_sealed: Buffer;
  /** The rules without secrets (JSON): what listings show. */
  rules: string;
  /** The whole rules (OP/TOP, fixed codes) as JSON, sealed under the operator's data key. */
  rules_sealed: Buffer;
  created_at: number | string;
}

interface StockProfilesTable {
  iccid: string;
  imsi: string;
  profile_type: string;
  operator: string;
  state: StockState;
  /** The personalized profile package, sealed under the operator's data key. */
  package_sealed: Buffer;
  /** The subscriber's secrets for the operator's AuC (JSON), sealed under the operator's data key. */
  secrets_sealed: Buffer;
  created_at: number | string;
  updated_at: number | string;
}

// A type literal (not an interface): kysely's withTables needs its implicit index signature.
type StockTables = {
  stock_data_keys: DataKeysTable;
  stock_profile_types: ProfileTypesTable;
  stock_profiles: StockProfilesTable;
};

type StockDatabase = Kysely<McimTables & StockTables>;

export interface NewProfileType {
  readonly name: string;
  readonly operator: string;
  readonly template: Buffer;
  /** JSON without secrets. */
  readonly rules: string;
  /** JSON with secrets. */
  readonly secretRules: string;
}

export interface ProfileTypeRecord {
  readonly name: string;
  readonly operator: string;
  /** The public rules JSON. */
  readonly rules: string;
  readonly createdAt: number;
}

export interface OpenedProfileType extends ProfileTypeRecord {
  readonly template: Buffer;
  readonly secretRules: string;
}

export interface NewStockProfile {
  readonly iccid: string;
  readonly imsi: string;
  readonly package: Buffer;
  /** The subscriber's secrets (JSON bytes). */
  readonly secrets: Buffer;
}

export interface StockCount {
  readonly profileType: string;
  readonly operator: string;
  readonly state: StockState;
  readonly count: number;
}

export interface ClaimedProfile {
  readonly iccid: string;
  readonly imsi: string;
  readonly profileType: string;
  readonly operator: string;
  readonly package: Buffer;
}

export interface StockSubscriber {
  readonly iccid: string;
  readonly imsi: string;
  readonly profileType: string;
  /** The secrets JSON, opened. */
  readonly secrets: Buffer;
}

/** Rows per INSERT statement (within one transaction per batch): bounded SQL size and parameter count. */
const ROWS_PER_STATEMENT = 100;
/** Rows read per query when streaming an export (keyset pages on the ICCID). */
const EXPORT_PAGE = 500;

/**
 * The stock tables. Every secret is sealed under its operator's data key, itself sealed under the KEK: a wrong KEK
 * opens nothing (KEK_MISMATCH). Listings return no template, package, key or rule secret.
 */
export class ProfileStock {
  readonly #db: StockDatabase;
  readonly #dataKeys: OperatorDataKeys;

  constructor(db: Database, kek: SecretBox) {
    this.#db = db.withTables<StockTables>();
    this.#dataKeys = new OperatorDataKeys(kek, { table: 'stock_data_keys', operatorColumn: 'operator', aadPrefix: 'stock_data_keys:' });
  }

  /** The operator's data key; created (random, wrapped under the KEK) with `create` when it has none yet. */
  async dataKey(operator: string, now: number, create = false): Promise<SecretBox> {
    let box: SecretBox | undefined;
    try {
      box = await this.#dataKeys.get(this.#db as unknown as Kysely<unknown>, operator, now, create);
    } catch (cause) {
      if (!(cause instanceof McimError && cause.code === 'TAMPERED')) throw cause;
      throw new McimError('KEK_MISMATCH', `the key-encryption key does not unwrap the data key of operator '${operator}': nothing was decrypted or written`, { cause });
    }
    if (box === undefined) throw new McimError('NOT_FOUND', `operator '${operator}' has no profile stock`);
    return box;
  }

  /** Stores a profile type; PROFILE_TYPE_EXISTS when the name is taken. */
  async addType(t: NewProfileType, now: number): Promise<void> {
    const taken = await this.#db.selectFrom('stock_profile_types').select('name').where('name', '=', t.name).executeTakeFirst();
    if (taken !== undefined) throw new McimError('PROFILE_TYPE_EXISTS', `a profile type named '${t.name}' already exists`);
    const box = await this.dataKey(t.operator, now, true);
    const r = await this.#db
      .insertInto('stock_profile_types')
      .values({
        name: t.name,
        operator: t.operator,
        template_sealed: box.seal(t.template, `stock_profile_types:template:${t.name}`),
        rules: t.rules,
        rules_sealed: box.seal(Buffer.from(t.secretRules, 'utf8'), `stock_profile_types:rules:${t.name}`),
        created_at: now,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1) throw new McimError('PROFILE_TYPE_EXISTS', `a profile type named '${t.name}' already exists`);
  }

  /** A profile type with its template and rules opened; NOT_FOUND when there is none of that name. */
  async openType(name: string): Promise<OpenedProfileType> {
    const row = await this.#db.selectFrom('stock_profile_types').selectAll().where('name', '=', name).executeTakeFirst();
    if (row === undefined) throw new McimError('NOT_FOUND', `no profile type named '${name}'`);
    const box = await this.dataKey(row.operator, 0);
    return {
      name: row.name,
      operator: row.operator,
      rules: row.rules,
      createdAt: timeOf(row.created_at),
      template: box.open(row.template_sealed, `stock_profile_types:template:${name}`),
      secretRules: box.open(row.rules_sealed, `stock_profile_types:rules:${name}`).toString('utf8'),
    };
  }

  /** Every profile type, by name: no template, no secret. */
  async listTypes(): Promise<ProfileTypeRecord[]> {
    const rows = await this.#db.selectFrom('stock_profile_types').select(['name', 'operator', 'rules', 'created_at']).orderBy('name').execute();
    return rows.map((r) => ({ name: r.name, operator: r.operator, rules: r.rules, createdAt: timeOf(r.created_at) }));
  }

  /** Whether any profile in stock has an ICCID or an IMSI within the ranges (digit strings of equal length, inclusive). */
  async overlaps(iccids: readonly [string, string], imsis: readonly [string, string]): Promise<boolean> {
    const hit = await this.#db
      .selectFrom('stock_profiles')
      .select('iccid')
      .where((eb) => eb.or([eb.and([eb('iccid', '>=', iccids[0]), eb('iccid', '<=', iccids[1])]), eb.and([eb('imsi', '>=', imsis[0]), eb('imsi', '<=', imsis[1])])]))
      .limit(1)
      .executeTakeFirst();
    return hit !== undefined;
  }

  /**
   * Adds one batch of profiles of a type, available, in one transaction: each package and its secrets sealed under the
   * operator's data key. A duplicate ICCID or IMSI rolls the batch back (STOCK_CONFLICT).
   */
  async addProfiles(profileType: string, operator: string, profiles: readonly NewStockProfile[], now: number): Promise<void> {
    const box = await this.dataKey(operator, now);
    const rows = profiles.map((p) => ({
      iccid: p.iccid,
      imsi: p.imsi,
      profile_type: profileType,
      operator,
      state: 'available' as const,
      package_sealed: box.seal(p.package, `stock_profiles:package:${p.iccid}`),
      secrets_sealed: box.seal(p.secrets, `stock_profiles:secrets:${p.iccid}`),
      created_at: now,
      updated_at: now,
    }));
    try {
      await this.#db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) await trx.insertInto('stock_profiles').values(rows.slice(i, i + ROWS_PER_STATEMENT)).execute();
      });
    } catch (cause) {
      const code = String((cause as { code?: unknown }).code ?? '');
      // SQLite: SQLITE_CONSTRAINT_PRIMARYKEY / _UNIQUE; PostgreSQL: 23505 unique_violation.
      if (code.startsWith('SQLITE_CONSTRAINT') || code === '23505') {
        throw new McimError('STOCK_CONFLICT', `a profile of this batch (ICCIDs ${profiles[0]?.iccid} to ${profiles.at(-1)?.iccid}) has an ICCID or IMSI already in stock`, { cause });
      }
      throw cause;
    }
  }

  /** Profiles by type, operator and state: counts only. */
  async counts(): Promise<StockCount[]> {
    const rows = await this.#db
      .selectFrom('stock_profiles')
      .select(['profile_type', 'operator', 'state', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy(['profile_type', 'operator', 'state'])
      .orderBy('profile_type')
      .orderBy('state')
      .execute();
    return rows.map((r) => ({ profileType: r.profile_type, operator: r.operator, state: r.state, count: Number(r.n) }));
  }

  /**
   * Takes one available profile of the type (the lowest ICCID) and marks it allocated, atomically: two claimers never
   * get the same profile. PostgreSQL: the row is locked FOR UPDATE SKIP LOCKED, so concurrent claimers take different
   * rows without waiting; SQLite: one statement under the database's write lock. Undefined when none is available.
   */
  async claim(profileType: string, now: number): Promise<ClaimedProfile | undefined> {
    const type = await this.#db.selectFrom('stock_profile_types').select('operator').where('name', '=', profileType).executeTakeFirst();
    if (type === undefined) throw new McimError('NOT_FOUND', `no profile type named '${profileType}'`);
    // The data key first: a claimer without the right KEK takes nothing.
    const box = await this.dataKey(type.operator, now);
    const postgres = this.#db.getExecutor().adapter instanceof PostgresAdapter;
    const candidate = postgres
      ? sql<string>`(SELECT iccid FROM stock_profiles WHERE profile_type = ${profileType} AND state = 'available' ORDER BY iccid LIMIT 1 FOR UPDATE SKIP LOCKED)`
      : sql<string>`(SELECT iccid FROM stock_profiles WHERE profile_type = ${profileType} AND state = 'available' ORDER BY iccid LIMIT 1)`;
    // The package is opened inside the transaction: a profile that does not open stays available.
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('stock_profiles')
        .set({ state: 'allocated', updated_at: now })
        .where('iccid', '=', candidate)
        .where('state', '=', 'available')
        .returning(['iccid', 'imsi', 'profile_type', 'operator', 'package_sealed'])
        .executeTakeFirst();
      if (row === undefined) return undefined;
      return {
        iccid: row.iccid,
        imsi: row.imsi,
        profileType: row.profile_type,
        operator: row.operator,
        package: box.open(row.package_sealed, `stock_profiles:package:${row.iccid}`),
      };
    });
  }

  /** The operator's subscribers with their secrets opened, by ICCID, read in pages: memory stays flat. */
  async *subscribers(operator: string): AsyncGenerator<StockSubscriber> {
    const box = await this.dataKey(operator, 0);
    let after = '';
    for (;;) {
      const page = await this.#db
        .selectFrom('stock_profiles')
        .select(['iccid', 'imsi', 'profile_type', 'secrets_sealed'])
        .where('operator', '=', operator)
        .where('iccid', '>', after)
        .orderBy('iccid')
        .limit(EXPORT_PAGE)
        .execute();
      for (const r of page) yield { iccid: r.iccid, imsi: r.imsi, profileType: r.profile_type, secrets: box.open(r.secrets_sealed, `stock_profiles:secrets:${r.iccid}`) };
      if (page.length < EXPORT_PAGE) return;
      after = page.at(-1)!.iccid;
    }
  }
}
