// The SM-DP+'s ES9+ download sessions (SGP.22 3.1.2/3.1.3): opened under per-source limits, claimed by one AuthenticateClient, bound to one eUICC and one order, then delivering (with the order in one transaction), cancelled or purged.
import { PostgresAdapter, sql, type Selectable } from 'kysely';
import type { AuditLog } from './auditLog.js';
import { timeOf, type Database, type SessionState, type SessionsTable } from './database.js';
import type { Lockouts } from './lockouts.js';
import { PreparedQuery, slot } from './preparedQuery.js';
import type { ProgressOutbox, ProgressReport } from './progressOutbox.js';
import { ORDER_COLUMNS, type Order, type OrderRow, type RetainedBinding, type SmdpOrders } from './smdpOrders.js';

export interface NewSession {
  readonly transactionId: string;
  readonly curve: string;
  /** The CI of the credential (CERT.DPauth, CERT.DPpb) the session runs under, hex. */
  readonly ciKeyId: string;
  /** euiccCiPKIdToBeUsed: the CI the eUICC's certificate chain must end at, hex (default: `ciKeyId`). */
  readonly euiccCiKeyId?: string;
  readonly euiccChallenge: Buffer;
  readonly serverChallenge: Buffer;
  readonly expiresAt: number;
  /** The network address the session was opened from (per-source limit on open sessions). */
  readonly source?: string;
}

/**
 * Session states that are open: initiated, not yet authenticated (counted by the per-source limit). Written into queries
 * as literals: the partial index smdp_sessions_open_by_source (migration 0011) serves a query that names them so.
 */
const OPEN_SESSION_STATES: readonly SessionState[] = ['initiated', 'authenticating'];
/** Session states that have ended: purged at once, whatever their expiry (literals: partial index smdp_sessions_ended). */
const ENDED_SESSION_STATES: readonly SessionState[] = ['failed', 'cancelled', 'expired'];

export interface Session extends NewSession {
  readonly euiccCiKeyId: string;
  readonly state: SessionState;
  readonly eid: string | undefined;
  readonly euiccCertificate: Buffer | undefined;
  readonly matchingId: string | undefined;
  readonly smdpSignature2: Buffer | undefined;
}

export interface SessionAuthentication {
  readonly eid: string;
  readonly euiccCertificate: Buffer;
  readonly matchingId: string;
  readonly smdpSignature2: Buffer;
}

export const DEFAULT_PURGE_SESSIONS_EVERY = 100;

function rows(n: bigint | undefined): number {
  return n === undefined ? 0 : Number(n);
}

/** A session row as the SM-DP+ reads it (both drivers return a fresh Buffer for each binary column: not copied again). */
function sessionOf(r: Selectable<SessionsTable>): Session {
  return {
    transactionId: r.transaction_id,
    state: r.state,
    curve: r.curve,
    ciKeyId: r.ci_key_id,
    euiccCiKeyId: r.euicc_ci_key_id ?? r.ci_key_id,
    euiccChallenge: r.euicc_challenge,
    serverChallenge: r.server_challenge,
    expiresAt: timeOf(r.expires_at),
    eid: r.eid ?? undefined,
    euiccCertificate: r.euicc_certificate ?? undefined,
    matchingId: r.matching_id ?? undefined,
    smdpSignature2: r.smdp_signature2 ?? undefined,
    ...(r.source === null ? {} : { source: r.source }),
  };
}

type SessionValues = {
  transactionId: string;
  curve: string;
  ciKeyId: string;
  euiccCiKeyId: string;
  euiccChallenge: Buffer;
  serverChallenge: Buffer;
  expiresAt: number;
  now: number;
  source: string | null;
};

/**
 * A new session, inserted only while its source has fewer than maxOpen open sessions and the lockout key is not locked
 * (src/store/lockouts.ts): one statement, so concurrent
 * calls cannot both take the last place (on PostgreSQL, two concurrent transactions may each see the count before
 * the other's row: at most one more per concurrent writer). Values are cast: PostgreSQL types a SELECT list's
 * parameters as text.
 */
function createSessionWithin(db: Database) {
  const bin = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  const v = (name: string, type: string) => sql`cast(${slot(name)} as ${sql.raw(type)})`;
  const raw = sql`insert into smdp_sessions (transaction_id, state, curve, ci_key_id, euicc_ci_key_id, euicc_challenge, server_challenge, expires_at, created_at, source)
    select ${v('transactionId', 'text')}, 'initiated', ${v('curve', 'text')}, ${v('ciKeyId', 'text')}, ${v('euiccCiKeyId', 'text')}, ${v('euiccChallenge', bin)}, ${v('serverChallenge', bin)}, ${v('expiresAt', 'bigint')}, ${v('now', 'bigint')}, ${v('source', 'text')}
    where (select count(*) from smdp_sessions where source = ${slot('source')} and state in (${sql.join(OPEN_SESSION_STATES.map((state) => sql.lit(state)))}) and expires_at >= ${slot('now')}) < ${slot('maxOpen')}
    and not exists (select 1 from smdp_lockouts where key = ${slot('lockKey')} and locked_until > ${slot('now')})`;
  return { compile: () => raw.compile(db) };
}

/** The statements of a download session (SGP.22 3.1.2/3.1.3), compiled once per store. */
function sessionQueries(db: Database) {
  const now = slot<number>('now');
  const transactionId = slot<string>('transactionId');
  const matchingId = slot<string>('matchingId');
  return {
    createSession: PreparedQuery.of(
      db.insertInto('smdp_sessions').values({
        transaction_id: transactionId,
        state: 'initiated',
        curve: slot('curve'),
        ci_key_id: slot('ciKeyId'),
        euicc_ci_key_id: slot('euiccCiKeyId'),
        euicc_challenge: slot('euiccChallenge'),
        server_challenge: slot('serverChallenge'),
        eid: null,
        euicc_certificate: null,
        matching_id: null,
        smdp_signature2: null,
        expires_at: slot('expiresAt'),
        created_at: now,
        source: slot('source'),
      }),
    ).slots<SessionValues>('transactionId', 'curve', 'ciKeyId', 'euiccCiKeyId', 'euiccChallenge', 'serverChallenge', 'expiresAt', 'now', 'source'),
    createSessionWithin: PreparedQuery.of(createSessionWithin(db)).slots<SessionValues & { maxOpen: number; lockKey: string }>(
      'transactionId',
      'curve',
      'ciKeyId',
      'euiccCiKeyId',
      'euiccChallenge',
      'serverChallenge',
      'expiresAt',
      'now',
      'source',
      'maxOpen',
      'lockKey',
    ),
    claimSession: PreparedQuery.of(
      db
        .updateTable('smdp_sessions')
        .set({ state: 'authenticating' })
        .where('transaction_id', '=', transactionId)
        .where('state', '=', 'initiated')
        .where('expires_at', '>=', now)
        .returningAll(),
    ).slots<{ transactionId: string; now: number }>('transactionId', 'now'),
    getSession: PreparedQuery.of(
      db.selectFrom('smdp_sessions').selectAll().where('transaction_id', '=', transactionId),
    ).slots<{ transactionId: string }>('transactionId'),
    // GetBoundProfilePackage's reads in one statement: the session, its order (columns prefixed o_) and sealed package.
    getSessionWithOrder: PreparedQuery.of({
      compile: () =>
        sql<Selectable<SessionsTable> & Record<string, unknown>>`select s.*, ${sql.join(ORDER_COLUMNS.map((c) => sql`${sql.ref(`o.${c}`)} as ${sql.ref(`o_${c}`)}`))},
            p.package_sealed as o_package_sealed
          from smdp_sessions s
          left join smdp_orders o on o.matching_id = s.matching_id
          left join smdp_order_packages p on p.matching_id = s.matching_id
          where s.transaction_id = ${slot('transactionId')}`.compile(db),
    }).slots<{ transactionId: string }>('transactionId'),
    authenticateSession: PreparedQuery.of(
      db
        .updateTable('smdp_sessions')
        .set({ state: 'authenticated', eid: slot('eid'), euicc_certificate: slot('euiccCertificate'), matching_id: matchingId, smdp_signature2: slot('smdpSignature2') })
        .where('transaction_id', '=', transactionId)
        .where('state', 'in', [...OPEN_SESSION_STATES])
        .where('expires_at', '>=', now),
    ).slots<{
      transactionId: string;
      eid: string;
      euiccCertificate: Buffer;
      matchingId: string;
      smdpSignature2: Buffer;
      now: number;
    }>('transactionId', 'eid', 'euiccCertificate', 'matchingId', 'smdpSignature2', 'now'),
    deliverSession: PreparedQuery.of(
      db
        .updateTable('smdp_sessions')
        .set({ state: 'delivered' })
        .where('transaction_id', '=', transactionId)
        .where('state', '=', 'authenticated')
        .where('expires_at', '>=', now)
        .returning('eid'),
    ).slots<{ transactionId: string; now: number }>('transactionId', 'now'),
    deliverOrder: PreparedQuery.of(
      db
        .updateTable('smdp_orders')
        .set({
          state: 'downloaded',
          transaction_id: transactionId,
          delivered_eid: slot('eid'),
          binding_sealed: slot('bindingSealed'),
          bpp_euicc_otpk: slot('bppEuiccOtpk'),
          updated_at: now,
        })
        .where('matching_id', '=', matchingId)
        .where('state', '=', 'released')
        // An order bound to an EID is delivered to that eUICC only.
        .where((eb) => eb.or([eb('eid', 'is', null), eb('eid', '=', slot<string>('eid'))]))
        .returning(['iccid', 'operator', 'profile_type']),
    ).slots<{ transactionId: string; eid: string; bindingSealed: Buffer | null; bppEuiccOtpk: Buffer | null; matchingId: string; now: number }>(
      'transactionId',
      'eid',
      'bindingSealed',
      'bppEuiccOtpk',
      'matchingId',
      'now',
    ),
  };
}

/** The sessions aggregate: smdp_sessions, and the steps that move a session's order with it (delivery, cancellation). */
export class SmdpSessions {
  readonly #db: Database;
  readonly #orders: SmdpOrders;
  readonly #audit: AuditLog;
  readonly #outbox: ProgressOutbox;
  readonly #lockouts: Lockouts;
  readonly #purgeEvery: number;
  readonly #q: ReturnType<typeof sessionQueries>;
  #sessionsSincePurge = 0;

  constructor(db: Database, orders: SmdpOrders, audit: AuditLog, outbox: ProgressOutbox, lockouts: Lockouts, purgeEvery: number) {
    this.#db = db;
    this.#orders = orders;
    this.#audit = audit;
    this.#outbox = outbox;
    this.#lockouts = lockouts;
    this.#purgeEvery = purgeEvery;
    this.#q = sessionQueries(db);
  }

  /**
   * Opens a session; every `purgeSessionsEvery` sessions, purges the expired and ended ones (unauthenticated calls must
   * not grow the database). With `limit` (and `s.source`), the session is opened only while its source has fewer than
   * `maxOpen` open sessions (initiated, not yet authenticated, unexpired) and the lockout `unlessLocked` is not in force:
   * false otherwise.
   */
  async create(s: NewSession, now: number, limit?: { readonly maxOpen: number; readonly unlessLocked: string }): Promise<boolean> {
    const values: SessionValues = {
      transactionId: s.transactionId,
      curve: s.curve,
      ciKeyId: s.ciKeyId,
      euiccCiKeyId: s.euiccCiKeyId ?? s.ciKeyId,
      euiccChallenge: s.euiccChallenge,
      serverChallenge: s.serverChallenge,
      expiresAt: s.expiresAt,
      now,
      source: s.source ?? null,
    };
    if (limit !== undefined && s.source !== undefined) {
      if ((await this.#q.createSessionWithin.affected(this.#db, { ...values, maxOpen: limit.maxOpen, lockKey: limit.unlessLocked })) !== 1) return false;
    } else {
      await this.#q.createSession.execute(this.#db, values);
    }
    if (this.#purgeEvery > 0 && ++this.#sessionsSincePurge >= this.#purgeEvery) {
      this.#sessionsSincePurge = 0;
      await this.purge(now);
      await this.#lockouts.purge(now);
    }
    return true;
  }


  /**
   * initiated -> authenticating: one AuthenticateClient call takes the session, so concurrent calls on the same
   * transactionId cannot each try a matching ID. The session as taken (one statement reads and claims it); undefined
   * when it does not exist, is not initiated or has expired.
   */
  async claim(transactionId: string, now: number): Promise<Session | undefined> {
    const r = await this.#q.claimSession.first(this.#db, { transactionId, now });
    return r === undefined ? undefined : sessionOf(r);
  }


  /**
   * Deletes the sessions that have ended (failed, cancelled, expired: nothing reads them again) and those expired
   * before `now`, whatever their state (an expired session can no longer be used), except a delivering session whose
   * order still awaits its installation result: the PIR is verified with that session's eUICC certificate. What
   * outlives the session is on the order (its delivery EID) and in smdp_notifications (replay detection). Returns the
   * number of sessions deleted.
   */
  async purge(now: number): Promise<number> {
    // Two statements, each on its own index (smdp_sessions_ended, smdp_sessions_expires_at): as one OR, SQLite scans.
    const ended = await this.#db
      .deleteFrom('smdp_sessions')
      .where(sql.ref('state'), 'in', ENDED_SESSION_STATES.map((state) => sql.lit(state)))
      .executeTakeFirst();
    const expired = await this.#db
      .deleteFrom('smdp_sessions')
      .where('expires_at', '<', now)
      .where((eb) =>
        eb.or([
          eb('state', '!=', 'delivered'),
          eb.not(
            eb.exists(
              eb
                .selectFrom('smdp_orders')
                .select(sql<number>`1`.as('one'))
                .whereRef('smdp_orders.transaction_id', '=', 'smdp_sessions.transaction_id')
                .where('smdp_orders.state', '=', 'downloaded'),
            ),
          ),
        ]),
      )
      .executeTakeFirst();
    return rows(ended.numDeletedRows) + rows(expired.numDeletedRows);
  }


  async get(transactionId: string): Promise<Session | undefined> {
    const r = await this.#q.getSession.first(this.#db, { transactionId });
    return r === undefined ? undefined : sessionOf(r);
  }


  /** The session and, read in the same statement, the order it is bound to with its sealed package (if both exist). */
  async getWithOrder(transactionId: string): Promise<{ session: Session; order?: { order: Order; openProfilePackage: () => Buffer } } | undefined> {
    const r = await this.#q.getSessionWithOrder.first(this.#db, { transactionId });
    if (r === undefined) return undefined;
    const session = sessionOf(r);
    const sealed = r['o_package_sealed'];
    if (r['o_matching_id'] === null || !(sealed instanceof Uint8Array)) return { session };
    const order: Record<string, unknown> = {};
    for (const c of ORDER_COLUMNS) order[c] = r[`o_${c}`];
    return { session, order: this.#orders.withPackageOf(order as unknown as OrderRow, sealed) };
  }


  /** initiated -> authenticated, binding the session to one eUICC and one order; false if the session moved on or expired. */
  async authenticate(transactionId: string, a: SessionAuthentication, now: number): Promise<boolean> {
    const changed = await this.#q.authenticateSession.affected(this.#db, {
      transactionId,
      eid: a.eid,
      euiccCertificate: a.euiccCertificate,
      matchingId: a.matchingId,
      smdpSignature2: a.smdpSignature2,
      now,
    });
    return changed === 1;
  }


  /** Moves a session from one of `from` to `to`; false when it was in another state. */
  async setState(transactionId: string, from: readonly SessionState[], to: SessionState): Promise<boolean> {
    const r = await this.#db
      .updateTable('smdp_sessions')
      .set({ state: to })
      .where('transaction_id', '=', transactionId)
      .where('state', 'in', [...from])
      .executeTakeFirst();
    return rows(r.numUpdatedRows) === 1;
  }


  /**
   * authenticated session + released order -> delivered + downloaded, atomically, recording on the order the EID
   * the profile went to and, sealed, the secrets of the binding with the one-time key it was made for (kept for a retry
   * by that eUICC); false when either moved on.
   */
  async deliver(transactionId: string, matchingId: string, now: number, retained?: RetainedBinding, report?: ProgressReport): Promise<boolean> {
    const bindingSealed = retained === undefined ? null : this.#orders.sealBinding(matchingId, retained.secrets);
    const bppEuiccOtpk = retained === undefined ? null : retained.euiccOtpk;
    return this.#db.transaction().execute(async (trx) => {
      const s = await this.#q.deliverSession.first(trx, { transactionId, now });
      if (s === undefined) return false;
      if (s.eid === null) throw new Error(`session ${transactionId} was authenticated without an EID`);
      const delivered = await this.#q.deliverOrder.first(trx, { transactionId, eid: s.eid, bindingSealed, bppEuiccOtpk, matchingId, now });
      if (delivered === undefined) throw new OrderUnavailable();
      await this.#outbox.reportWithin(trx, delivered, s.eid, report, now);
      await this.#audit.append(trx, { matchingId, iccid: delivered.iccid, from: 'released', to: 'downloaded', cause: `bound profile package delivered to the eUICC ${s.eid}`, at: now });
      return true;
    }).catch((e: unknown) => {
      if (e instanceof OrderUnavailable) return false;
      throw e;
    });
  }


  /**
   * Ends a session on the eUICC's signed CancelSession; false when the session had already ended. The order goes
   * to `orderState` if it was released, or downloaded by this session. An order whose bound profile package this
   * session delivered is released again only to the same eUICC (its EID is written on the order): the profile's
   * ICCID and keys have left the SM-DP+ for that eUICC and must never be bound for another one.
   */
  async cancel(transactionId: string, orderState: 'released' | 'error', reason: string, now: number, report?: (delivered: boolean) => ProgressReport | undefined): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const s = await trx
        .updateTable('smdp_sessions')
        .set({ state: 'cancelled' })
        .where('transaction_id', '=', transactionId)
        .where('state', 'in', ['initiated', 'authenticated', 'delivered'])
        .returning(['matching_id', 'eid'])
        .executeTakeFirst();
      if (s === undefined) return false;
      if (s.matching_id !== null) {
        const errorReason = orderState === 'error' ? reason : null;
        const released = await trx
          .updateTable('smdp_orders')
          .set({ state: orderState, error_reason: errorReason, updated_at: now })
          .where('matching_id', '=', s.matching_id)
          .where('state', '=', 'released')
          // A session of another eUICC than the one the order is bound to cannot end it.
          .where((eb) => eb.or([eb('eid', 'is', null), eb('eid', '=', s.eid)]))
          .returning(['iccid', 'operator', 'profile_type'])
          .executeTakeFirst();
        const delivered = await trx
          .updateTable('smdp_orders')
          .set({
            state: orderState,
            error_reason: errorReason,
            updated_at: now,
            ...(orderState === 'released' ? { eid: s.eid } : { binding_sealed: null, bpp_euicc_otpk: null }),
          })
          .where('matching_id', '=', s.matching_id)
          .where('state', '=', 'downloaded')
          .where('transaction_id', '=', transactionId)
          .returning(['iccid', 'operator', 'profile_type'])
          .executeTakeFirst();
        if (released !== undefined) await this.#outbox.reportWithin(trx, released, s.eid, report?.(false), now);
        if (delivered !== undefined) await this.#outbox.reportWithin(trx, delivered, s.eid, report?.(true), now);
        if (orderState === 'released' && delivered !== undefined && s.eid === null) {
          throw new Error(`session ${transactionId} delivered a profile without an EID`);
        }
        if (released !== undefined && orderState !== 'released') await this.#audit.append(trx, { matchingId: s.matching_id, iccid: released.iccid, from: 'released', to: orderState, cause: reason, at: now });
        if (delivered !== undefined) await this.#audit.append(trx, { matchingId: s.matching_id, iccid: delivered.iccid, from: 'downloaded', to: orderState, cause: reason, at: now });
      }
      return true;
    });
  }

}

/** Rolls back the delivery transaction when the order is no longer released. */
class OrderUnavailable extends Error {}
