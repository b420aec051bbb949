// The durable outbox of ES2+ HandleDownloadProgressInfo calls (SGP.22 5.3.5): written in the transaction of the change it reports, delivered under a lease by any process, never again once the operator accepted it.
import { randomBytes } from 'node:crypto';
import { PostgresAdapter, sql, type Generated, type Kysely, type Selectable, type Transaction } from 'kysely';
import { timeOf, type Database, type McimTables } from './database.js';

/** 'skipped': a point the operator did not ask for, settled without a call. */
export type OutboxState = 'pending' | 'delivered' | 'skipped';

interface OutboxTable {
  id: Generated<number | string>;
  operator: string;
  iccid: string;
  /** The HandleDownloadProgressInfo request body without its header (JSON): no secret is ever in it. */
  payload: string;
  state: OutboxState;
  attempts: number;
  next_attempt_at: number | string;
  /** The process that holds the entry while it sends it; null: free. */
  lease_token: string | null;
  lease_until: number | string;
  last_error: string | null;
  created_at: number | string;
  delivered_at: number | string | null;
}

type OutboxTables = { es2_progress_outbox: OutboxTable };
type OutboxDatabase = Kysely<McimTables & OutboxTables>;

export interface NewOutboxEntry {
  readonly operator: string;
  readonly iccid: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface OutboxEntry {
  readonly id: number;
  readonly operator: string;
  readonly iccid: string;
  readonly payload: Record<string, unknown>;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | undefined;
  readonly createdAt: number;
  readonly deliveredAt: number | undefined;
}

/** A claimed entry: deliver it, then report with its lease token. */
export interface LeasedEntry extends OutboxEntry {
  readonly leaseToken: string;
}

/**
 * What an ES9+ step tells the operator of an ES2+ order (HandleDownloadProgressInfo, SGP.22 5.3.5): written to the
 * progress outbox in the transaction of the step, only for orders that have an operator.
 */
export interface ProgressReport {
  readonly notificationPointId: number;
  readonly status: 'Executed-Success' | 'Failed';
  readonly statusCodeData?: { readonly subjectCode: string; readonly reasonCode: string; readonly message?: string };
  /** The eUICC's signed result or notification (resultData, base64 on the wire). */
  readonly resultData?: Buffer;
}

/** The order columns a progress report needs. */
export interface ReportedOrder {
  readonly iccid: string;
  readonly operator: string | null;
  readonly profile_type: string | null;
}

/** The longest error text kept per entry (a hostile endpoint's answer must not grow the table). */
const MAX_ERROR_LENGTH = 300;

/** The outbox table: enqueue within a change's transaction, claim due entries under a lease, settle them. */
export class ProgressOutbox {
  readonly #db: OutboxDatabase;
  readonly #postgres: boolean;

  constructor(db: Database) {
    this.#db = db.withTables<OutboxTables>();
    this.#postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  /** Adds an entry due at once, in the caller's transaction (the change it reports and the entry commit together). */
  async enqueueWithin(trx: Transaction<McimTables>, entry: NewOutboxEntry, now: number): Promise<void> {
    await trx
      .withTables<OutboxTables>()
      .insertInto('es2_progress_outbox')
      .values({
        operator: entry.operator,
        iccid: entry.iccid,
        payload: JSON.stringify(entry.payload),
        state: 'pending',
        attempts: 0,
        next_attempt_at: now,
        lease_token: null,
        lease_until: 0,
        last_error: null,
        created_at: now,
        delivered_at: null,
      })
      .execute();
  }

  /**
   * Queues `report` for the order's operator in `trx` (the transaction of the step it reports); nothing for an order
   * imported locally (no operator) or without a report. The body is the HandleDownloadProgressInfo request without
   * its header (SGP.22 5.3.5).
   */
  async reportWithin(trx: Transaction<McimTables>, order: ReportedOrder, eid: string | null | undefined, report: ProgressReport | undefined, now: number): Promise<void> {
    if (report === undefined || order.operator === null) return;
    await this.enqueueWithin(
      trx,
      {
        operator: order.operator,
        iccid: order.iccid,
        payload: {
          ...(eid === null || eid === undefined ? {} : { eid }),
          iccid: order.iccid,
          profileType: order.profile_type ?? '',
          timestamp: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          notificationPointId: report.notificationPointId,
          notificationPointStatus: { status: report.status, ...(report.statusCodeData === undefined ? {} : { statusCodeData: report.statusCodeData }) },
          ...(report.resultData === undefined ? {} : { resultData: report.resultData.toString('base64') }),
        },
      },
      now,
    );
  }

  async enqueue(entry: NewOutboxEntry, now: number): Promise<void> {
    await this.#db.transaction().execute((trx) => this.enqueueWithin(trx as unknown as Transaction<McimTables>, entry, now));
  }

  /**
   * Leases up to `limit` due entries for `leaseMs`: pending, due, not leased, and the oldest pending entry of their
   * ICCID (an operator hears of one profile's progress in order). Two processes never lease the same entry: the
   * update is conditional on the lease being free (PostgreSQL skips rows another claimer has locked).
   */
  async claimDue(now: number, limit: number, leaseMs: number): Promise<LeasedEntry[]> {
    const token = randomBytes(12).toString('hex');
    const lock = this.#postgres ? sql` FOR UPDATE SKIP LOCKED` : sql``;
    const due = sql<number>`(SELECT o.id FROM es2_progress_outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= ${now} AND o.lease_until <= ${now}
      AND NOT EXISTS (SELECT 1 FROM es2_progress_outbox p WHERE p.iccid = o.iccid AND p.state = 'pending' AND p.id < o.id)
      ORDER BY o.next_attempt_at, o.id LIMIT ${limit}${lock})`;
    const rows = await this.#db
      .updateTable('es2_progress_outbox')
      .set({ lease_token: token, lease_until: now + leaseMs })
      .where('id', 'in', due)
      .where('state', '=', 'pending')
      .where('lease_until', '<=', now)
      .returningAll()
      .execute();
    return rows.map((r) => ({ ...entryOf(r), leaseToken: token })).sort((a, b) => a.id - b.id);
  }

  /** The operator accepted the entry: delivered for good. False when the lease was lost (another process holds it). */
  async markDelivered(id: number, leaseToken: string, now: number): Promise<boolean> {
    const r = await this.#db
      .updateTable('es2_progress_outbox')
      .set({ state: 'delivered', delivered_at: now, lease_token: null, lease_until: 0, last_error: null })
      .where('id', '=', id)
      .where('lease_token', '=', leaseToken)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The operator did not ask for this entry's notification point: settled without a call (kept like a delivered one). */
  async markSkipped(id: number, leaseToken: string, now: number): Promise<boolean> {
    const r = await this.#db
      .updateTable('es2_progress_outbox')
      .set({ state: 'skipped', delivered_at: now, lease_token: null, lease_until: 0 })
      .where('id', '=', id)
      .where('lease_token', '=', leaseToken)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The attempt failed: counted, retried at `nextAttemptAt`, the lease released. */
  async markFailed(id: number, leaseToken: string, error: string, nextAttemptAt: number): Promise<boolean> {
    const r = await this.#db
      .updateTable('es2_progress_outbox')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: nextAttemptAt, lease_token: null, lease_until: 0, last_error: error.slice(0, MAX_ERROR_LENGTH) }))
      .where('id', '=', id)
      .where('lease_token', '=', leaseToken)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The operator's entries, newest first, at most `limit`. */
  async list(operator: string | undefined, limit: number, state?: OutboxState): Promise<OutboxEntry[]> {
    let q = this.#db.selectFrom('es2_progress_outbox').selectAll().orderBy('id', 'desc').limit(limit);
    if (operator !== undefined) q = q.where('operator', '=', operator);
    if (state !== undefined) q = q.where('state', '=', state);
    return (await q.execute()).map(entryOf);
  }

  /** Deletes delivered entries older than `before`: the table holds what is pending plus a bounded history. */
  async purgeDelivered(before: number): Promise<number> {
    const r = await this.#db.deleteFrom('es2_progress_outbox').where('state', 'in', ['delivered', 'skipped']).where('delivered_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

function entryOf(r: Selectable<OutboxTable>): OutboxEntry {
  return {
    id: Number(r.id),
    operator: r.operator,
    iccid: r.iccid,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    state: r.state,
    attempts: Number(r.attempts),
    nextAttemptAt: timeOf(r.next_attempt_at),
    lastError: r.last_error ?? undefined,
    createdAt: timeOf(r.created_at),
    deliveredAt: r.delivered_at === null ? undefined : timeOf(r.delivered_at),
  };
}
