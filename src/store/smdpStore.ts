// The SM-DP+'s persistent state: profile orders, ES9+ sessions, notifications seen. Each change is one conditional statement or one transaction.
import { PostgresAdapter, sql, type Selectable, type Transaction } from 'kysely';
import { McimError } from '../errors.js';
import { timeOf, type Database, type McimTables, type OrderState, type OrdersTable, type SessionState, type SessionsTable } from './database.js';
import { Lockouts } from './lockouts.js';
import { PreparedQuery, slot } from './preparedQuery.js';
import { AuditLog } from './auditLog.js';
import { ProgressOutbox } from './progressOutbox.js';
import type { SecretBox } from './secretBox.js';

export interface NewOrder {
  /** The order's key: its matching ID, or for an EID-only order an internal key (see `eidOnly`). */
  readonly matchingId: string;
  readonly iccid: string;
  readonly eid?: string;
  /**
   * The order has no matching ID: it is found by `eid` alone (default SM-DP+, SM-DS without an event ID), never by a
   * matchingId an eUICC presents, whatever `matchingId` (then an internal key) holds.
   */
  readonly eidOnly?: boolean;
  /** SHA-256 of the confirmation code (stored sealed with the at-rest key). */
  readonly ccHash?: Buffer;
  readonly profileName: string;
  readonly serviceProviderName: string;
  readonly profileClass: number;
  readonly profilePackage: Buffer;
  /** False: stored confirmed, not yet released (8.2/1.2 until `releaseOrder`); default true. */
  readonly released?: boolean;
  /** The order cannot be downloaded after this time, ms since the epoch (8.8.5/4.10). */
  readonly expiresAt?: number;
  /** Download attempts (authenticated sessions) allowed (8.8.5/6.4); unlimited when absent. */
  readonly maxDownloadAttempts?: number;
  /** PprIds as a bit mask (bit n = PprId n) for StoreMetadata profilePolicyRules. */
  readonly profilePolicyRules?: number;
  /** StoreMetadata profileOwner: the OperatorId DER. */
  readonly profileOwner?: Buffer;
  readonly iconType?: number;
  readonly icon?: Buffer;
  /** The ES2+ operator whose order this is (called back on its progress); absent: imported locally. */
  readonly operator?: string;
  /** The profile type of an ES2+ order. */
  readonly profileType?: string;
}

export interface Order {
  /** The order's key: its matching ID, or for an EID-only order an internal key no eUICC can present. */
  readonly matchingId: string;
  readonly iccid: string;
  readonly eid: string | undefined;
  /** Found by its EID alone (no matching ID). */
  readonly eidOnly: boolean;
  readonly ccHash: Buffer | undefined;
  readonly ccAttempts: number;
  readonly state: OrderState;
  readonly errorReason: string | undefined;
  readonly profileName: string;
  readonly serviceProviderName: string;
  readonly profileClass: number;
  readonly transactionId: string | undefined;
  /** The eUICC the bound profile package was last delivered to (only it may report on the profile). */
  readonly deliveredEid: string | undefined;
  readonly updatedAt: number;
  readonly expiresAt: number | undefined;
  readonly maxDownloadAttempts: number | undefined;
  readonly downloadAttempts: number;
  readonly profilePolicyRules: number | undefined;
  readonly profileOwner: Buffer | undefined;
  readonly iconType: number | undefined;
  readonly icon: Buffer | undefined;
  /** otPK.EUICC.ECKA of the retained binding (SmdpSigned2.bppEuiccOtpk), if one is retained. */
  readonly bppEuiccOtpk: Buffer | undefined;
  /** The ES2+ operator to call back (HandleDownloadProgressInfo); undefined: an order imported locally. */
  readonly operator: string | undefined;
  readonly profileType: string | undefined;
}

/**
 * The secrets of a binding kept for a retry by the same eUICC with the same one-time key (SGP.22 5.6.2): opaque bytes
 * here (src/smdpp/boundProfilePackageRetry.ts gives them their layout), sealed at rest.
 */
export interface RetainedBinding {
  readonly secrets: Buffer;
  readonly euiccOtpk: Buffer;
}

/** Outcome of counting a download attempt: counted, or refused because the order's attempts are spent (now in error). */
export type DownloadAttempt = 'counted' | 'exceeded' | 'unavailable';

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

/** Outcome of a wrong confirmation code: the attempts counted so far and whether the order is now locked. */
export interface CcFailure {
  readonly attempts: number;
  readonly locked: boolean;
}

export type NotificationOutcome = 'recorded' | 'replayed';

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
interface ReportedOrder {
  readonly iccid: string;
  readonly operator: string | null;
  readonly profile_type: string | null;
}

export interface SmdpStoreOptions {
  /** Run `purgeSessions` after this many new sessions (default 100; 0 disables the opportunistic purge). */
  readonly purgeSessionsEvery?: number;
}

export const DEFAULT_PURGE_SESSIONS_EVERY = 100;

function packageAad(matchingId: string): string {
  return `mcim:smdp_orders:${matchingId}:package`;
}

function bindingAad(matchingId: string): string {
  return `mcim:smdp_orders:${matchingId}:binding`;
}

function ccAad(matchingId: string): string {
  return `mcim:smdp_orders:${matchingId}:cc_hash`;
}

/** Every column of an order (its sealed package is in smdp_order_packages). */
const ORDER_COLUMNS = [
  'matching_id',
  'iccid',
  'eid',
  'cc_hash',
  'cc_attempts',
  'state',
  'error_reason',
  'profile_name',
  'service_provider_name',
  'profile_class',
  'transaction_id',
  'delivered_eid',
  'eid_only',
  'updated_at',
  'order_expires_at',
  'max_download_attempts',
  'download_attempts',
  'profile_policy_rules',
  'profile_owner',
  'icon_type',
  'icon',
  'bpp_euicc_otpk',
  'operator',
  'profile_type',
] as const satisfies readonly (keyof OrdersTable)[];

type OrderRow = Pick<Selectable<OrdersTable>, (typeof ORDER_COLUMNS)[number]>;

/** Length of a bare SHA-256 in hex: cc_hash as written before it was sealed. */
const LEGACY_CC_HEX_LENGTH = 64;

function rows(n: bigint | undefined): number {
  return n === undefined ? 0 : Number(n);
}

/** A session row as the SM-DP+ reads it. */
function sessionOf(r: Selectable<SessionsTable>): Session {
  return {
    transactionId: r.transaction_id,
    state: r.state,
    curve: r.curve,
    ciKeyId: r.ci_key_id,
    euiccCiKeyId: r.euicc_ci_key_id ?? r.ci_key_id,
    euiccChallenge: Buffer.from(r.euicc_challenge),
    serverChallenge: Buffer.from(r.server_challenge),
    expiresAt: timeOf(r.expires_at),
    eid: r.eid ?? undefined,
    euiccCertificate: r.euicc_certificate === null ? undefined : Buffer.from(r.euicc_certificate),
    matchingId: r.matching_id ?? undefined,
    smdpSignature2: r.smdp_signature2 === null ? undefined : Buffer.from(r.smdp_signature2),
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
    getOrder: PreparedQuery.of(
      db.selectFrom('smdp_orders').select(ORDER_COLUMNS).where('matching_id', '=', matchingId),
    ).slots<{ matchingId: string }>('matchingId'),
    getOrderByMatchingId: PreparedQuery.of(
      db.selectFrom('smdp_orders').select(ORDER_COLUMNS).where('matching_id', '=', matchingId).where('eid_only', '=', 0),
    ).slots<{ matchingId: string }>('matchingId'),
    getEidOnlyOrder: PreparedQuery.of(
      db
        .selectFrom('smdp_orders')
        .select(ORDER_COLUMNS)
        .where('eid', '=', slot<string>('eid'))
        .where('state', '=', 'released')
        .where('eid_only', '=', 1)
        .orderBy('created_at')
        .orderBy('matching_id')
        .limit(1),
    ).slots<{ eid: string }>('eid'),
    getOrderWithPackage: PreparedQuery.of(
      db
        .selectFrom('smdp_orders')
        .innerJoin('smdp_order_packages', 'smdp_order_packages.matching_id', 'smdp_orders.matching_id')
        .select([...ORDER_COLUMNS.map((c) => `smdp_orders.${c}` as const), 'smdp_order_packages.package_sealed'])
        .where('smdp_orders.matching_id', '=', matchingId),
    ).slots<{ matchingId: string }>('matchingId'),
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
    insertNotification: PreparedQuery.of(
      db
        .insertInto('smdp_notifications')
        .values({
          notification_key: slot('key'),
          eid: slot('eid'),
          seq_number: slot('seqNumber'),
          operation: slot('operation'),
          iccid: slot('iccid'),
          transaction_id: transactionId,
          received_at: now,
        })
        .onConflict((oc) => oc.column('notification_key').doNothing()),
    ).slots<{
      key: string;
      eid: string;
      seqNumber: number;
      operation: string;
      iccid: string | null;
      transactionId: string | null;
      now: number;
    }>('key', 'eid', 'seqNumber', 'operation', 'iccid', 'transactionId', 'now'),
    recordInstallation: PreparedQuery.of(
      db
        .updateTable('smdp_orders')
        .set({ state: slot('state'), error_reason: slot('errorReason'), binding_sealed: null, bpp_euicc_otpk: null, updated_at: now })
        .where('transaction_id', '=', transactionId)
        .where('state', '=', 'downloaded')
        .returning(['matching_id', 'iccid', 'operator', 'profile_type', 'delivered_eid']),
    ).slots<{ transactionId: string; state: OrderState; errorReason: string | null; now: number }>('transactionId', 'state', 'errorReason', 'now'),
  };
}

export class SmdpStore {
  readonly db: Database;
  /** Failures and lockouts of EIDs and source addresses (src/store/lockouts.ts). */
  readonly lockouts: Lockouts;
  /** The hash-chained trail of order state changes, appended in each change's transaction. */
  readonly audit: AuditLog;
  readonly #box: SecretBox;
  readonly #purgeEvery: number;
  readonly #q: ReturnType<typeof sessionQueries>;
  #sessionsSincePurge = 0;

  /** HandleDownloadProgressInfo calls waiting for delivery (src/store/progressOutbox.ts). */
  readonly outbox: ProgressOutbox;

  constructor(db: Database, box: SecretBox, options: SmdpStoreOptions = {}) {
    this.db = db;
    this.#box = box;
    this.#purgeEvery = options.purgeSessionsEvery ?? DEFAULT_PURGE_SESSIONS_EVERY;
    this.#q = sessionQueries(db);
    this.lockouts = new Lockouts(db);
    this.audit = new AuditLog(db);
    this.outbox = new ProgressOutbox(db);
  }

  /** Queues `report` for the operator of `order` on its own (a step that changes nothing else). */
  async reportProgress(order: Order, eid: string | undefined, report: ProgressReport, now: number): Promise<void> {
    if (order.operator === undefined) return;
    await this.db.transaction().execute((trx) => this.#report(trx, { iccid: order.iccid, operator: order.operator!, profile_type: order.profileType ?? null }, eid, report, now));
  }

  /** Queues `report` for the order's operator in `trx`; nothing for an order imported locally or without a report. */
  async #report(trx: Transaction<McimTables>, order: ReportedOrder, eid: string | null | undefined, report: ProgressReport | undefined, now: number): Promise<void> {
    if (report === undefined || order.operator === null) return;
    await this.outbox.enqueueWithin(
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

  /** The confirmation code hash from its column: sealed (bound to the order), or a bare hash from before sealing. */
  #openCcHash(matchingId: string, stored: string): Buffer {
    if (stored.length === LEGACY_CC_HEX_LENGTH) return Buffer.from(stored, 'hex');
    return this.#box.open(Buffer.from(stored, 'hex'), ccAad(matchingId));
  }

  /** Stores a released order; ORDER_EXISTS when the matching ID is taken. An EID-only order needs its EID. */
  async insertOrder(order: NewOrder, now: number): Promise<void> {
    const inserted = await this.db.transaction().execute(async (trx) => this.insertOrderWithin(trx, order, now, 'order imported'));
    if (!inserted) {
      throw new McimError('ORDER_EXISTS', `an order with matching ID '${order.matchingId}' already exists`);
    }
  }

  /**
   * Inserts an order, its sealed package and its audit row within the caller's transaction (ES2+ ConfirmOrder changes
   * the stock row in the same one); false when the matching ID is taken, and nothing is written.
   */
  async insertOrderWithin(trx: Transaction<McimTables>, order: NewOrder, now: number, cause: string): Promise<boolean> {
    if (order.eidOnly === true && order.eid === undefined) throw new McimError('INVALID_ARGUMENT', 'an order without a matching ID needs an EID');
    const state = order.released === false ? 'confirmed' : 'released';
    {
      const result = await trx
        .insertInto('smdp_orders')
        .values({
          matching_id: order.matchingId,
          iccid: order.iccid,
          eid: order.eid ?? null,
          cc_hash: order.ccHash === undefined ? null : this.#box.seal(order.ccHash, ccAad(order.matchingId)).toString('hex'),
          state,
          error_reason: null,
          profile_name: order.profileName,
          service_provider_name: order.serviceProviderName,
          profile_class: order.profileClass,
          transaction_id: null,
          delivered_eid: null,
          eid_only: order.eidOnly === true ? 1 : 0,
          created_at: now,
          updated_at: now,
          order_expires_at: order.expiresAt ?? null,
          max_download_attempts: order.maxDownloadAttempts ?? null,
          profile_policy_rules: order.profilePolicyRules ?? null,
          profile_owner: order.profileOwner?.toString('hex') ?? null,
          icon_type: order.iconType ?? null,
          icon: order.icon ?? null,
          binding_sealed: null,
          bpp_euicc_otpk: null,
          operator: order.operator ?? null,
          profile_type: order.profileType ?? null,
        })
        .onConflict((oc) => oc.column('matching_id').doNothing())
        .executeTakeFirst();
      if (rows(result.numInsertedOrUpdatedRows) !== 1) return false;
      await trx
        .insertInto('smdp_order_packages')
        .values({ matching_id: order.matchingId, package_sealed: this.#box.seal(order.profilePackage, packageAad(order.matchingId)) })
        .execute();
      await this.audit.append(trx, { matchingId: order.matchingId, iccid: order.iccid, from: null, to: state, cause, at: now });
      return true;
    }
  }

  /**
   * Removes an order in one of `from` states with its package, within the caller's transaction (ES2+ CancelOrder): a
   * session still running on it then finds no order. Returns the state it had, undefined when it was in none of them.
   */
  async removeOrderWithin(trx: Transaction<McimTables>, matchingId: string, from: readonly OrderState[], cause: string, now: number): Promise<OrderState | undefined> {
    const r = await trx.deleteFrom('smdp_orders').where('matching_id', '=', matchingId).where('state', 'in', from).returning(['iccid', 'state']).executeTakeFirst();
    if (r === undefined) return undefined;
    await trx.deleteFrom('smdp_order_packages').where('matching_id', '=', matchingId).execute();
    await this.audit.append(trx, { matchingId, iccid: r.iccid, from: r.state, to: 'cancelled', cause, at: now });
    return r.state;
  }

  /** confirmed -> released within the caller's transaction (ES2+ ReleaseProfile); false when the order is not confirmed. */
  async releaseOrderWithin(trx: Transaction<McimTables>, matchingId: string, now: number): Promise<boolean> {
    const r = await trx
      .updateTable('smdp_orders')
      .set({ state: 'released', updated_at: now })
      .where('matching_id', '=', matchingId)
      .where('state', '=', 'confirmed')
      .returning('iccid')
      .executeTakeFirst();
    if (r === undefined) return false;
    await this.audit.append(trx, { matchingId, iccid: r.iccid, from: 'confirmed', to: 'released', cause: 'order released', at: now });
    return true;
  }

  /** The order with this key (matching ID or internal key), whatever its kind. */
  async getOrder(matchingId: string): Promise<Order | undefined> {
    const r = await this.#q.getOrder.first(this.db, { matchingId });
    return r === undefined ? undefined : this.#order(r);
  }

  /** The order a matchingId presented by an eUICC designates: never an EID-only order. */
  async getOrderByMatchingId(matchingId: string): Promise<Order | undefined> {
    const r = await this.#q.getOrderByMatchingId.first(this.db, { matchingId });
    return r === undefined ? undefined : this.#order(r);
  }

  /** The oldest released EID-only order for this EID (default SM-DP+: no matching ID presented), if any. */
  async getEidOnlyOrder(eid: string): Promise<Order | undefined> {
    const r = await this.#q.getEidOnlyOrder.first(this.db, { eid });
    return r === undefined ? undefined : this.#order(r);
  }

  /**
   * The order and, in the same read, its sealed profile package: `openProfilePackage()` decrypts it when the caller has
   * decided to bind it (one statement instead of getOrder then openProfilePackage).
   */
  async getOrderWithPackage(matchingId: string): Promise<{ order: Order; openProfilePackage: () => Buffer } | undefined> {
    const r = await this.#q.getOrderWithPackage.first(this.db, { matchingId });
    if (r === undefined) return undefined;
    const sealed = r.package_sealed;
    return { order: this.#order(r), openProfilePackage: () => this.#box.open(sealed, packageAad(matchingId)) };
  }

  #order(r: OrderRow): Order {
    return {
      matchingId: r.matching_id,
      iccid: r.iccid,
      eid: r.eid ?? undefined,
      eidOnly: Number(r.eid_only) === 1,
      ccHash: r.cc_hash === null ? undefined : this.#openCcHash(r.matching_id, r.cc_hash),
      ccAttempts: Number(r.cc_attempts),
      state: r.state,
      errorReason: r.error_reason ?? undefined,
      profileName: r.profile_name,
      serviceProviderName: r.service_provider_name,
      profileClass: Number(r.profile_class),
      transactionId: r.transaction_id ?? undefined,
      deliveredEid: r.delivered_eid ?? undefined,
      updatedAt: timeOf(r.updated_at),
      expiresAt: r.order_expires_at === null ? undefined : timeOf(r.order_expires_at),
      maxDownloadAttempts: r.max_download_attempts === null ? undefined : Number(r.max_download_attempts),
      downloadAttempts: Number(r.download_attempts),
      profilePolicyRules: r.profile_policy_rules === null ? undefined : Number(r.profile_policy_rules),
      profileOwner: r.profile_owner === null ? undefined : Buffer.from(r.profile_owner, 'hex'),
      iconType: r.icon_type === null ? undefined : Number(r.icon_type),
      icon: r.icon === null ? undefined : Buffer.from(r.icon),
      bppEuiccOtpk: r.bpp_euicc_otpk === null ? undefined : Buffer.from(r.bpp_euicc_otpk),
      operator: r.operator ?? undefined,
      profileType: r.profile_type ?? undefined,
    };
  }

  /** The decrypted profile package of an order. */
  async openProfilePackage(matchingId: string): Promise<Buffer> {
    const r = await this.db.selectFrom('smdp_order_packages').select('package_sealed').where('matching_id', '=', matchingId).executeTakeFirst();
    if (r === undefined) throw new McimError('ORDER_NOT_FOUND', `no order with matching ID '${matchingId}'`);
    return this.#box.open(r.package_sealed, packageAad(matchingId));
  }

  /**
   * Opens a session; every `purgeSessionsEvery` sessions, purges the expired and ended ones (unauthenticated calls must
   * not grow the database). With `limit` (and `s.source`), the session is opened only while its source has fewer than
   * `maxOpen` open sessions (initiated, not yet authenticated, unexpired) and the lockout `unlessLocked` is not in force:
   * false otherwise.
   */
  async createSession(s: NewSession, now: number, limit?: { readonly maxOpen: number; readonly unlessLocked: string }): Promise<boolean> {
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
      if ((await this.#q.createSessionWithin.affected(this.db, { ...values, maxOpen: limit.maxOpen, lockKey: limit.unlessLocked })) !== 1) return false;
    } else {
      await this.#q.createSession.execute(this.db, values);
    }
    if (this.#purgeEvery > 0 && ++this.#sessionsSincePurge >= this.#purgeEvery) {
      this.#sessionsSincePurge = 0;
      await this.purgeSessions(now);
      await this.lockouts.purge(now);
    }
    return true;
  }

  /**
   * initiated -> authenticating: one AuthenticateClient call takes the session, so concurrent calls on the same
   * transactionId cannot each try a matching ID. The session as taken (one statement reads and claims it); undefined
   * when it does not exist, is not initiated or has expired.
   */
  async claimSession(transactionId: string, now: number): Promise<Session | undefined> {
    const r = await this.#q.claimSession.first(this.db, { transactionId, now });
    return r === undefined ? undefined : sessionOf(r);
  }

  /**
   * Deletes the sessions that have ended (failed, cancelled, expired: nothing reads them again) and those expired
   * before `now`, whatever their state (an expired session can no longer be used), except a delivering session whose
   * order still awaits its installation result: the PIR is verified with that session's eUICC certificate. What
   * outlives the session is on the order (its delivery EID) and in smdp_notifications (replay detection). Returns the
   * number of sessions deleted.
   */
  async purgeSessions(now: number): Promise<number> {
    // Two statements, each on its own index (smdp_sessions_ended, smdp_sessions_expires_at): as one OR, SQLite scans.
    const ended = await this.db
      .deleteFrom('smdp_sessions')
      .where(sql.ref('state'), 'in', ENDED_SESSION_STATES.map((state) => sql.lit(state)))
      .executeTakeFirst();
    const expired = await this.db
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

  async getSession(transactionId: string): Promise<Session | undefined> {
    const r = await this.#q.getSession.first(this.db, { transactionId });
    return r === undefined ? undefined : sessionOf(r);
  }

  /** initiated -> authenticated, binding the session to one eUICC and one order; false if the session moved on or expired. */
  async authenticateSession(transactionId: string, a: SessionAuthentication, now: number): Promise<boolean> {
    const changed = await this.#q.authenticateSession.affected(this.db, {
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
  async setSessionState(transactionId: string, from: readonly SessionState[], to: SessionState): Promise<boolean> {
    const r = await this.db
      .updateTable('smdp_sessions')
      .set({ state: to })
      .where('transaction_id', '=', transactionId)
      .where('state', 'in', [...from])
      .executeTakeFirst();
    return rows(r.numUpdatedRows) === 1;
  }

  /**
   * Counts a wrong (or missing) confirmation code on a released order; at `maxAttempts` the order goes to error.
   * Undefined when the order is no longer released (locked by an earlier failure, or delivered).
   */
  async recordCcFailure(matchingId: string, maxAttempts: number, now: number, report?: (failure: CcFailure) => ProgressReport): Promise<CcFailure | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('smdp_orders')
        .set((eb) => ({ cc_attempts: eb('cc_attempts', '+', 1), updated_at: now }))
        .where('matching_id', '=', matchingId)
        .where('state', '=', 'released')
        .returning(['cc_attempts', 'iccid', 'operator', 'profile_type', 'eid'])
        .executeTakeFirst();
      if (r === undefined) return undefined;
      const attempts = Number(r.cc_attempts);
      const locked = attempts >= maxAttempts;
      await this.#report(trx, r, r.eid, report?.({ attempts, locked }), now);
      if (locked) {
        await trx
          .updateTable('smdp_orders')
          .set({ state: 'error', error_reason: 'confirmation code attempts exceeded', binding_sealed: null, bpp_euicc_otpk: null, updated_at: now })
          .where('matching_id', '=', matchingId)
          .execute();
        await this.audit.append(trx, { matchingId, iccid: r.iccid, from: 'released', to: 'error', cause: 'confirmation code attempts exceeded', at: now });
      }
      return { attempts, locked };
    });
  }

  /**
   * authenticated session + released order -> delivered + downloaded, atomically, recording on the order the EID
   * the profile went to and, sealed, the secrets of the binding with the one-time key it was made for (kept for a retry
   * by that eUICC); false when either moved on.
   */
  async deliver(transactionId: string, matchingId: string, now: number, retained?: RetainedBinding, report?: ProgressReport): Promise<boolean> {
    const bindingSealed = retained === undefined ? null : this.#box.seal(retained.secrets, bindingAad(matchingId));
    const bppEuiccOtpk = retained === undefined ? null : retained.euiccOtpk;
    return this.db.transaction().execute(async (trx) => {
      const s = await this.#q.deliverSession.first(trx, { transactionId, now });
      if (s === undefined) return false;
      if (s.eid === null) throw new Error(`session ${transactionId} was authenticated without an EID`);
      const delivered = await this.#q.deliverOrder.first(trx, { transactionId, eid: s.eid, bindingSealed, bppEuiccOtpk, matchingId, now });
      if (delivered === undefined) throw new OrderUnavailable();
      await this.#report(trx, delivered, s.eid, report, now);
      await this.audit.append(trx, { matchingId, iccid: delivered.iccid, from: 'released', to: 'downloaded', cause: `bound profile package delivered to the eUICC ${s.eid}`, at: now });
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
    return this.db.transaction().execute(async (trx) => {
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
        if (released !== undefined) await this.#report(trx, released, s.eid, report?.(false), now);
        if (delivered !== undefined) await this.#report(trx, delivered, s.eid, report?.(true), now);
        if (orderState === 'released' && delivered !== undefined && s.eid === null) {
          throw new Error(`session ${transactionId} delivered a profile without an EID`);
        }
        if (released !== undefined && orderState !== 'released') await this.audit.append(trx, { matchingId: s.matching_id, iccid: released.iccid, from: 'released', to: orderState, cause: reason, at: now });
        if (delivered !== undefined) await this.audit.append(trx, { matchingId: s.matching_id, iccid: delivered.iccid, from: 'downloaded', to: orderState, cause: reason, at: now });
      }
      return true;
    });
  }

  /**
   * The secrets of the binding retained for the eUICC `eid` and its `euiccOtpk` (SGP.22 5.6.2 retry), opened; undefined
   * when none is retained for that eUICC and key.
   */
  async retainedBinding(matchingId: string, eid: string, euiccOtpk: Buffer): Promise<Buffer | undefined> {
    const r = await this.db
      .selectFrom('smdp_orders')
      .select(['binding_sealed', 'bpp_euicc_otpk'])
      .where('matching_id', '=', matchingId)
      .where('delivered_eid', '=', eid)
      .executeTakeFirst();
    if (r?.binding_sealed == null || r.bpp_euicc_otpk === null || !Buffer.from(r.bpp_euicc_otpk).equals(euiccOtpk)) return undefined;
    return this.#box.open(r.binding_sealed, bindingAad(matchingId));
  }

  /**
   * Counts one download attempt on a released order (SGP.22 3.1.3: the retry limit). When the order's attempts are
   * already spent it goes to error and the attempt is refused ('exceeded'); 'unavailable' when it is not released.
   */
  async countDownloadAttempt(matchingId: string, now: number, eid?: string, report?: (attempt: 'counted' | 'exceeded') => ProgressReport | undefined): Promise<DownloadAttempt> {
    return this.db.transaction().execute(async (trx) => {
      const counted = await trx
        .updateTable('smdp_orders')
        .set((eb) => ({ download_attempts: eb('download_attempts', '+', 1), updated_at: now }))
        .where('matching_id', '=', matchingId)
        .where('state', '=', 'released')
        .where((eb) => eb.or([eb('max_download_attempts', 'is', null), eb('download_attempts', '<', eb.ref('max_download_attempts'))]))
        .returning(['iccid', 'operator', 'profile_type'])
        .executeTakeFirst();
      if (counted !== undefined) {
        await this.#report(trx, counted, eid, report?.('counted'), now);
        return 'counted';
      }
      const spent = await trx
        .updateTable('smdp_orders')
        .set({ state: 'error', error_reason: 'maximum download attempts exceeded', binding_sealed: null, bpp_euicc_otpk: null, updated_at: now })
        .where('matching_id', '=', matchingId)
        .where('state', '=', 'released')
        .returning(['iccid', 'operator', 'profile_type'])
        .executeTakeFirst();
      if (spent === undefined) return 'unavailable';
      await this.#report(trx, spent, eid, report?.('exceeded'), now);
      await this.audit.append(trx, { matchingId, iccid: spent.iccid, from: 'released', to: 'error', cause: 'maximum download attempts exceeded', at: now });
      return 'exceeded';
    });
  }

  /** confirmed -> released (what ES2+.ReleaseProfile does); false when the order is not confirmed. */
  async releaseOrder(matchingId: string, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => this.releaseOrderWithin(trx, matchingId, now));
  }

  /**
   * Records a verified Profile Installation Result once: downloaded -> installed (success) or error. A replay
   * (same EID and sequence number) changes nothing.
   */
  async recordInstallationResult(
    transactionId: string,
    eid: string,
    seqNumber: number,
    iccid: string | undefined,
    success: boolean,
    now: number,
    report?: ProgressReport,
  ): Promise<NotificationOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const inserted = await this.#q.insertNotification.affected(trx, {
        key: `${eid}:${seqNumber}`,
        eid,
        seqNumber,
        operation: 'install',
        iccid: iccid ?? null,
        transactionId,
        now,
      });
      if (inserted !== 1) return 'replayed';
      const errorReason = 'installation failed on the eUICC';
      const o = await this.#q.recordInstallation.first(trx, { transactionId, state: success ? 'installed' : 'error', errorReason: success ? null : errorReason, now });
      if (o !== undefined) await this.#report(trx, o, eid, report, now);
      if (o !== undefined) await this.audit.append(trx, { matchingId: o.matching_id, iccid: o.iccid, from: 'downloaded', to: success ? 'installed' : 'error', cause: success ? `installed on the eUICC ${eid}` : errorReason, at: now });
      return 'recorded';
    });
  }

  /**
   * Records a verified enable/disable/delete notification once; delete moves the installed order to deleted.
   * 'foreign' (nothing recorded) when no profile with this ICCID was delivered to this EID: an eUICC reports only on
   * the profiles it received.
   */
  async recordOtherNotification(
    eid: string,
    seqNumber: number,
    operation: string,
    iccid: string | undefined,
    now: number,
    report?: ProgressReport,
  ): Promise<NotificationOutcome | 'foreign'> {
    if (iccid === undefined) return 'foreign';
    return this.db.transaction().execute(async (trx) => {
      const ours = await trx
        .selectFrom('smdp_orders')
        .select(['matching_id', 'iccid', 'operator', 'profile_type'])
        .where('iccid', '=', iccid)
        .where('delivered_eid', '=', eid)
        .limit(1)
        .executeTakeFirst();
      if (ours === undefined) return 'foreign';
      const inserted = await this.#q.insertNotification.affected(trx, { key: `${eid}:${seqNumber}`, eid, seqNumber, operation, iccid, transactionId: null, now });
      if (inserted !== 1) return 'replayed';
      await this.#report(trx, ours, eid, report, now);
      if (operation === 'delete') {
        const deleted = await trx
          .updateTable('smdp_orders')
          .set({ state: 'deleted', updated_at: now })
          .where('iccid', '=', iccid)
          .where('delivered_eid', '=', eid)
          .where('state', '=', 'installed')
          .returning('matching_id')
          .execute();
        for (const d of deleted) await this.audit.append(trx, { matchingId: d.matching_id, iccid, from: 'installed', to: 'deleted', cause: `deleted on the eUICC ${eid}`, at: now });
      }
      return 'recorded';
    });
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** Rolls back the delivery transaction when the order is no longer released. */
class OrderUnavailable extends Error {}
