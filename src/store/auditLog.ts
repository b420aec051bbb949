// The audit trail of profile (order) state changes: append-only rows, each hash-chained to the one before it, written in the transaction of the change.
import { createHash } from 'node:crypto';
import { PostgresAdapter, sql, type CompiledQuery, type Transaction } from 'kysely';
import type { Database, McimTables, OrderState } from './database.js';
import { PreparedQuery, slot, type QueryRunner } from './preparedQuery.js';

/** prev_hash of the first row. */
export const GENESIS_HASH = '0'.repeat(64);
/** The SQL function (registered on each SQLite connection by openDatabase) computing `rowHash` inside a statement. */
export const AUDIT_ROW_HASH_FUNCTION = 'mcim_audit_row_hash';
/** Hex digits of SHA-256(matching ID) kept as the order reference: 128 bits, enough to find an order's rows, not its ID. */
const ORDER_REF_LENGTH = 32;
/** Rows read at a time when verifying or listing (memory stays bounded whatever the table holds). */
const PAGE = 1000;

/** One state change of an order. */
export interface AuditChange {
  /** The order's key (matching ID or internal key): stored only as its reference (`orderRef`). */
  readonly matchingId: string;
  readonly iccid: string;
  /** Null when the order comes into existence. */
  readonly from: OrderState | null;
  /** 'cancelled': the order was withdrawn (ES2+ CancelOrder) and no longer exists. */
  readonly to: OrderState | 'cancelled';
  /** Why: the import, the function or notification that moved it, the limit that locked it. */
  readonly cause: string;
  readonly at: number;
}

export interface AuditRow {
  readonly seq: number;
  readonly at: number;
  readonly orderRef: string;
  readonly iccid: string;
  readonly fromState: string | null;
  readonly toState: string;
  readonly cause: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** The reference of an order in the audit trail: SHA-256 of its key, hex, truncated. */
export function orderRef(matchingId: string): string {
  return createHash('sha256').update(`mcim:order:${matchingId}`).digest('hex').slice(0, ORDER_REF_LENGTH);
}

/** hash = SHA-256(prev_hash || canonical row), the canonical row a JSON array of its fields in column order. */
export function rowHash(prevHash: string, row: Omit<AuditRow, 'prevHash' | 'hash'>): string {
  const canonical = JSON.stringify([row.seq, row.at, row.orderRef, row.iccid, row.fromState, row.toState, row.cause]);
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(canonical, 'utf8').digest('hex');
}

/** The outcome of `verify`: rows checked, the last hash (record it elsewhere to detect a truncated tail), the first bad row. */
export interface AuditVerification {
  readonly rows: number;
  readonly head: string;
  readonly firstBad?: { readonly seq: number; readonly problem: string };
}

function rowOf(r: { seq: number | string; at: number | string; order_ref: string; iccid: string; from_state: string | null; to_state: string; cause: string; prev_hash: string; hash: string }): AuditRow {
  return {
    seq: Number(r.seq),
    at: Number(r.at),
    orderRef: r.order_ref,
    iccid: r.iccid,
    fromState: r.from_state,
    toState: r.to_state,
    cause: r.cause,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * Appends and reads the chain. Appends are serialized across processes: on SQLite by the database's single writer (the
 * caller's transaction began IMMEDIATE), the head read and the row written in one statement that hashes inside SQLite;
 * on PostgreSQL by a transaction-scoped advisory lock taken at the append (the last statement of each state change, so
 * no holder of the lock waits for a row lock). seq is the primary key: a chain that would fork fails instead.
 */
export class AuditLog {
  readonly #db: Database;
  readonly #lock: CompiledQuery | undefined;
  readonly #last;
  readonly #insert;
  readonly #insertAfterHead;
  readonly #appendAtHead;
  /**
   * PostgreSQL only: the last row this process appended (or read before appending): the next append names it and is
   * inserted only if it is still the last row of the table, one statement instead of a read and an insert. Another
   * process's append, or a rolled-back transaction, makes that insert change nothing, and the append reads the real
   * last row instead.
   */
  #head: { readonly seq: number; readonly hash: string } | undefined;

  constructor(db: Database) {
    this.#db = db;
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    this.#lock = postgres ? sql`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.smdp_audit_log'))`.compile(db) : undefined;
    this.#last = PreparedQuery.of(db.selectFrom('smdp_audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1)).slots<Record<string, never>>();
    this.#insert = PreparedQuery.of(
      db.insertInto('smdp_audit_log').values({
        seq: slot<number>('seq'),
        at: slot<number>('at'),
        order_ref: slot('orderRef'),
        iccid: slot('iccid'),
        from_state: slot('fromState'),
        to_state: slot('toState'),
        cause: slot('cause'),
        prev_hash: slot('prevHash'),
        hash: slot('hash'),
      }),
    ).slots<{ readonly [K in keyof AuditRow]: AuditRow[K] }>('seq', 'at', 'orderRef', 'iccid', 'fromState', 'toState', 'cause', 'prevHash', 'hash');
    // Values are cast: PostgreSQL types a SELECT list's parameters as text.
    const v = (name: string, type: string) => sql`cast(${slot(name)} as ${sql.raw(type)})`;
    const afterHead = sql`insert into smdp_audit_log (seq, at, order_ref, iccid, from_state, to_state, cause, prev_hash, hash)
      select ${v('seq', 'integer')}, ${v('at', 'bigint')}, ${v('orderRef', 'text')}, ${v('iccid', 'text')}, ${v('fromState', 'text')}, ${v('toState', 'text')}, ${v('cause', 'text')}, ${v('prevHash', 'text')}, ${v('hash', 'text')}
      where exists (select 1 from smdp_audit_log where seq = ${slot('headSeq')} and hash = ${slot('prevHash')})
      and not exists (select 1 from smdp_audit_log where seq > ${slot('headSeq')})`;
    this.#insertAfterHead = PreparedQuery.of({ compile: () => afterHead.compile(db) }).slots<{ readonly [K in keyof AuditRow]: AuditRow[K] } & { readonly headSeq: number }>(
      'seq',
      'at',
      'orderRef',
      'iccid',
      'fromState',
      'toState',
      'cause',
      'prevHash',
      'hash',
      'headSeq',
    );
    const hashed = sql.raw(AUDIT_ROW_HASH_FUNCTION);
    const atHead = sql`insert into smdp_audit_log (seq, at, order_ref, iccid, from_state, to_state, cause, prev_hash, hash)
      select h.seq + 1, ${v('at', 'integer')}, ${slot('orderRef')}, ${slot('iccid')}, ${slot('fromState')}, ${slot('toState')}, ${slot('cause')}, h.hash,
        ${hashed}(h.hash, h.seq + 1, ${v('at', 'integer')}, ${slot('orderRef')}, ${slot('iccid')}, ${slot('fromState')}, ${slot('toState')}, ${slot('cause')})
      from (select coalesce((select seq from smdp_audit_log order by seq desc limit 1), 0) as seq,
                   coalesce((select hash from smdp_audit_log order by seq desc limit 1), ${GENESIS_HASH}) as hash) h`;
    this.#appendAtHead = postgres
      ? undefined
      : PreparedQuery.of({ compile: () => atHead.compile(db) }).slots<Omit<AuditRow, 'seq' | 'prevHash' | 'hash'>>('at', 'orderRef', 'iccid', 'fromState', 'toState', 'cause');
  }

  /** Appends one change in the caller's transaction (call it after the transaction's other writes). */
  async append(trx: Transaction<McimTables>, change: AuditChange): Promise<void> {
    const runner: QueryRunner = trx;
    if (this.#appendAtHead !== undefined) {
      if ((await this.#appendAtHead.affected(runner, this.#fields(change))) !== 1) throw new Error('the audit row was not appended');
      return;
    }
    if (this.#lock !== undefined) await runner.executeQuery(this.#lock);
    const head = this.#head;
    if (head !== undefined) {
      const row = this.#row(head.seq + 1, change);
      const hash = rowHash(head.hash, row);
      if ((await this.#insertAfterHead.affected(runner, { ...row, prevHash: head.hash, hash, headSeq: head.seq })) === 1) {
        this.#head = { seq: row.seq, hash };
        return;
      }
    }
    const last = await this.#last.first(runner, {});
    const prevHash = last?.hash ?? GENESIS_HASH;
    const row = this.#row(last === undefined ? 1 : Number(last.seq) + 1, change);
    const hash = rowHash(prevHash, row);
    await this.#insert.execute(runner, { ...row, prevHash, hash });
    this.#head = { seq: row.seq, hash };
  }

  #row(seq: number, change: AuditChange): Omit<AuditRow, 'prevHash' | 'hash'> {
    return { seq, ...this.#fields(change) };
  }

  #fields(change: AuditChange): Omit<AuditRow, 'seq' | 'prevHash' | 'hash'> {
    return { at: change.at, orderRef: orderRef(change.matchingId), iccid: change.iccid, fromState: change.from, toState: change.to, cause: change.cause };
  }

  /** Rows in seq order from `afterSeq` (exclusive), at most `limit`; only those of one order with `matchingId`. */
  async list(options: { afterSeq?: number; limit?: number; matchingId?: string } = {}): Promise<AuditRow[]> {
    let q = this.#db.selectFrom('smdp_audit_log').selectAll().where('seq', '>', options.afterSeq ?? 0);
    if (options.matchingId !== undefined) q = q.where('order_ref', '=', orderRef(options.matchingId));
    const rows = await q.orderBy('seq').limit(options.limit ?? PAGE).execute();
    return rows.map(rowOf);
  }

  /** The last `limit` rows, oldest first. */
  async tail(limit: number, matchingId?: string): Promise<AuditRow[]> {
    let q = this.#db.selectFrom('smdp_audit_log').selectAll();
    if (matchingId !== undefined) q = q.where('order_ref', '=', orderRef(matchingId));
    const rows = await q.orderBy('seq', 'desc').limit(limit).execute();
    return rows.map(rowOf).reverse();
  }

  /**
   * Recomputes the chain from the first row: seq must count 1, 2, 3... (a gap is a deleted row), each prev_hash must
   * be the hash of the row before, each hash must match its row (an altered or moved row does not). Reads by pages.
   */
  async verify(): Promise<AuditVerification> {
    let prevHash = GENESIS_HASH;
    let expected = 1;
    for (;;) {
      const page = await this.list({ afterSeq: expected - 1, limit: PAGE });
      for (const row of page) {
        if (row.seq !== expected) return { rows: expected - 1, head: prevHash, firstBad: { seq: row.seq, problem: `rows ${expected} to ${row.seq - 1} are missing` } };
        if (row.prevHash !== prevHash) return { rows: expected - 1, head: prevHash, firstBad: { seq: row.seq, problem: 'prev_hash is not the hash of the row before' } };
        if (rowHash(prevHash, row) !== row.hash) return { rows: expected - 1, head: prevHash, firstBad: { seq: row.seq, problem: 'the row does not match its hash (altered)' } };
        prevHash = row.hash;
        expected++;
      }
      if (page.length < PAGE) return { rows: expected - 1, head: prevHash };
    }
  }
}
