// The SM-DP+'s orders (SGP.22 3.1.1, 3.1.3; ES2+ 5.3): one row per profile order with its sealed package apart, and every state change of an order in one conditional statement or one transaction with its audit row and its progress report.
import { sql, type Selectable, type Transaction } from 'kysely';
import { McimError } from '../errors.js';
import type { AuditLog } from './auditLog.js';
import { timeOf, type Database, type McimTables, type OrderState, type OrdersTable } from './database.js';
import { PreparedQuery, slot } from './preparedQuery.js';
import type { ProgressOutbox, ProgressReport } from './progressOutbox.js';
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

/** Outcome of a wrong confirmation code: the attempts counted so far and whether the order is now locked. */
export interface CcFailure {
  readonly attempts: number;
  readonly locked: boolean;
}

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
export const ORDER_COLUMNS = [
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

export type OrderRow = Pick<Selectable<OrdersTable>, (typeof ORDER_COLUMNS)[number]>;

/** Length of a bare SHA-256 in hex: cc_hash as written before it was sealed. */
const LEGACY_CC_HEX_LENGTH = 64;

function rows(n: bigint | undefined): number {
  return n === undefined ? 0 : Number(n);
}

/** The statements that read orders, compiled once per store. */
function orderQueries(db: Database) {
  const matchingId = slot<string>('matchingId');
  return {
    getOrder: PreparedQuery.of(
      db.selectFrom('smdp_orders').select(ORDER_COLUMNS).where('matching_id', '=', matchingId),
    ).slots<{ matchingId: string }>('matchingId'),
    getEidOnlyOrder: PreparedQuery.of(
      db
        .selectFrom('smdp_orders')
        .select(ORDER_COLUMNS)
        .where('eid', '=', slot<string>('eid'))
        .where('state', '=', 'released')
        // A literal: the partial index smdp_orders_eid_only (migration 0019) serves a query that names it so.
        .where('eid_only', '=', sql.lit(1))
        .orderBy('created_at')
        .orderBy('matching_id')
        .limit(1),
    ).slots<{ eid: string }>('eid'),
    // The lockout check and the lookup in one statement: a lockout of either key leaves the order unread.
    getOrderByMatchingIdUnlessLocked: PreparedQuery.of({
      compile: () =>
        sql<OrderRow & { locked_key: string | null; locked_until: number | string | null }>`select ${sql.join(ORDER_COLUMNS.map((c) => sql.ref(`o.${c}`)))},
            l.key as locked_key, l.locked_until as locked_until
          from (select 1 as one) x
          left join smdp_lockouts l on l.key in (${slot('firstKey')}, ${slot('secondKey')}) and l.locked_until > ${slot('now')}
          left join smdp_orders o on l.key is null and o.matching_id = ${slot('matchingId')} and o.eid_only = 0
          order by l.locked_until desc
          limit 1`.compile(db),
    }).slots<{ matchingId: string; firstKey: string; secondKey: string; now: number }>('matchingId', 'firstKey', 'secondKey', 'now'),
    getOrderWithPackage: PreparedQuery.of(
      db
        .selectFrom('smdp_orders')
        .innerJoin('smdp_order_packages', 'smdp_order_packages.matching_id', 'smdp_orders.matching_id')
        .select([...ORDER_COLUMNS.map((c) => `smdp_orders.${c}` as const), 'smdp_order_packages.package_sealed'])
        .where('smdp_orders.matching_id', '=', matchingId),
    ).slots<{ matchingId: string }>('matchingId'),
  };
}

/** The orders aggregate: smdp_orders and smdp_order_packages. */
export class SmdpOrders {
  readonly #db: Database;
  readonly #box: SecretBox;
  readonly #audit: AuditLog;
  readonly #outbox: ProgressOutbox;
  readonly #q: ReturnType<typeof orderQueries>;

  constructor(db: Database, box: SecretBox, audit: AuditLog, outbox: ProgressOutbox) {
    this.#db = db;
    this.#box = box;
    this.#audit = audit;
    this.#outbox = outbox;
    this.#q = orderQueries(db);
  }

  /** Queues `report` for the operator of `order` on its own (a step that changes nothing else). */
  async reportProgress(order: Order, eid: string | undefined, report: ProgressReport, now: number): Promise<void> {
    if (order.operator === undefined) return;
    await this.#db.transaction().execute((trx) => this.#outbox.reportWithin(trx, { iccid: order.iccid, operator: order.operator!, profile_type: order.profileType ?? null }, eid, report, now));
  }


  /** The confirmation code hash from its column: sealed (bound to the order), or a bare hash from before sealing. */
  #openCcHash(matchingId: string, stored: string): Buffer {
    if (stored.length === LEGACY_CC_HEX_LENGTH) return Buffer.from(stored, 'hex');
    return this.#box.open(Buffer.from(stored, 'hex'), ccAad(matchingId));
  }


  /** Stores a released order; ORDER_EXISTS when the matching ID is taken. An EID-only order needs its EID. */
  async insert(order: NewOrder, now: number): Promise<void> {
    const inserted = await this.#db.transaction().execute(async (trx) => this.insertWithin(trx, order, now, 'order imported'));
    if (!inserted) {
      throw new McimError('ORDER_EXISTS', `an order with matching ID '${order.matchingId}' already exists`);
    }
  }


  /**
   * Inserts an order, its sealed package and its audit row within the caller's transaction (ES2+ ConfirmOrder changes
   * the stock row in the same one); false when the matching ID is taken, and nothing is written.
   */
  async insertWithin(trx: Transaction<McimTables>, order: NewOrder, now: number, cause: string): Promise<boolean> {
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
      await this.#audit.append(trx, { matchingId: order.matchingId, iccid: order.iccid, from: null, to: state, cause, at: now });
      return true;
    }
  }


  /**
   * Removes an order in one of `from` states with its package, within the caller's transaction (ES2+ CancelOrder): a
   * session still running on it then finds no order. Returns the state it had, undefined when it was in none of them.
   */
  async removeWithin(trx: Transaction<McimTables>, matchingId: string, from: readonly OrderState[], cause: string, now: number): Promise<OrderState | undefined> {
    const r = await trx.deleteFrom('smdp_orders').where('matching_id', '=', matchingId).where('state', 'in', from).returning(['iccid', 'state']).executeTakeFirst();
    if (r === undefined) return undefined;
    await trx.deleteFrom('smdp_order_packages').where('matching_id', '=', matchingId).execute();
    await this.#audit.append(trx, { matchingId, iccid: r.iccid, from: r.state, to: 'cancelled', cause, at: now });
    return r.state;
  }


  /** confirmed -> released within the caller's transaction (ES2+ ReleaseProfile); false when the order is not confirmed. */
  async releaseWithin(trx: Transaction<McimTables>, matchingId: string, now: number): Promise<boolean> {
    const r = await trx
      .updateTable('smdp_orders')
      .set({ state: 'released', updated_at: now })
      .where('matching_id', '=', matchingId)
      .where('state', '=', 'confirmed')
      .returning('iccid')
      .executeTakeFirst();
    if (r === undefined) return false;
    await this.#audit.append(trx, { matchingId, iccid: r.iccid, from: 'confirmed', to: 'released', cause: 'order released', at: now });
    return true;
  }


  /** The order with this key (matching ID or internal key), whatever its kind. */
  async get(matchingId: string): Promise<Order | undefined> {
    const r = await this.#q.getOrder.first(this.#db, { matchingId });
    return r === undefined ? undefined : this.#order(r);
  }


  /** The order a matchingId presented by an eUICC designates: never an EID-only order. */
  async getByMatchingId(matchingId: string): Promise<Order | undefined> {
    // No lockout has an empty key.
    const found = await this.getByMatchingIdUnlessLocked(matchingId, ['', ''], 0);
    return found.lockout === undefined ? found.order : undefined;
  }


  /**
   * As getByMatchingId, unless one of the lockout keys (an EID's, a source's: src/store/lockouts.ts) is locked at `now`:
   * then that lockout (the longest) and no order, which is not read. One statement for both (SGP.22 5.6.3 lookups).
   */
  async getByMatchingIdUnlessLocked(
    matchingId: string,
    lockoutKeys: readonly [string, string],
    now: number,
  ): Promise<{ readonly lockout: { readonly key: string; readonly lockedUntil: number } } | { readonly lockout?: undefined; readonly order: Order | undefined }> {
    const r = await this.#q.getOrderByMatchingIdUnlessLocked.first(this.#db, { matchingId, firstKey: lockoutKeys[0], secondKey: lockoutKeys[1], now });
    if (r !== undefined && r.locked_key !== null) return { lockout: { key: r.locked_key, lockedUntil: timeOf(r.locked_until ?? 0) } };
    return { order: r === undefined || r.matching_id === null ? undefined : this.#order(r) };
  }


  /** The oldest released EID-only order for this EID (default SM-DP+: no matching ID presented), if any. */
  async getEidOnly(eid: string): Promise<Order | undefined> {
    const r = await this.#q.getEidOnlyOrder.first(this.#db, { eid });
    return r === undefined ? undefined : this.#order(r);
  }


  /**
   * The order and, in the same read, its sealed profile package: `openProfilePackage()` decrypts it when the caller has
   * decided to bind it (one statement instead of getOrder then openProfilePackage).
   */
  async getWithPackage(matchingId: string): Promise<{ order: Order; openProfilePackage: () => Buffer } | undefined> {
    const r = await this.#q.getOrderWithPackage.first(this.#db, { matchingId });
    return r === undefined ? undefined : this.withPackageOf(r, r.package_sealed);
  }


  /** An order row and its sealed package read by a statement of another aggregate (a session's, joined). */
  withPackageOf(r: OrderRow, sealed: Uint8Array): { order: Order; openProfilePackage: () => Buffer } {
    return { order: this.#order(r), openProfilePackage: () => this.#box.open(Buffer.from(sealed), packageAad(r.matching_id)) };
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
  async openPackage(matchingId: string): Promise<Buffer> {
    const r = await this.#db.selectFrom('smdp_order_packages').select('package_sealed').where('matching_id', '=', matchingId).executeTakeFirst();
    if (r === undefined) throw new McimError('ORDER_NOT_FOUND', `no order with matching ID '${matchingId}'`);
    return this.#box.open(r.package_sealed, packageAad(matchingId));
  }


  /** The binding secrets of a delivery, sealed for the order's row (read back by `retainedBinding`). */
  sealBinding(matchingId: string, secrets: Buffer): Buffer {
    return this.#box.seal(secrets, bindingAad(matchingId));
  }

  /**
   * Counts a wrong (or missing) confirmation code on a released order; at `maxAttempts` the order goes to error.
   * Undefined when the order is no longer released (locked by an earlier failure, or delivered).
   */
  async recordCcFailure(matchingId: string, maxAttempts: number, now: number, report?: (failure: CcFailure) => ProgressReport): Promise<CcFailure | undefined> {
    return this.#db.transaction().execute(async (trx) => {
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
      await this.#outbox.reportWithin(trx, r, r.eid, report?.({ attempts, locked }), now);
      if (locked) {
        await trx
          .updateTable('smdp_orders')
          .set({ state: 'error', error_reason: 'confirmation code attempts exceeded', binding_sealed: null, bpp_euicc_otpk: null, updated_at: now })
          .where('matching_id', '=', matchingId)
          .execute();
        await this.#audit.append(trx, { matchingId, iccid: r.iccid, from: 'released', to: 'error', cause: 'confirmation code attempts exceeded', at: now });
      }
      return { attempts, locked };
    });
  }


  /**
   * The secrets of the binding retained for the eUICC `eid` and its `euiccOtpk` (SGP.22 5.6.2 retry), opened; undefined
   * when none is retained for that eUICC and key.
   */
  async retainedBinding(matchingId: string, eid: string, euiccOtpk: Buffer): Promise<Buffer | undefined> {
    const r = await this.#db
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
    return this.#db.transaction().execute(async (trx) => {
      const counted = await trx
        .updateTable('smdp_orders')
        .set((eb) => ({ download_attempts: eb('download_attempts', '+', 1), updated_at: now }))
        .where('matching_id', '=', matchingId)
        .where('state', '=', 'released')
        .where((eb) => eb.or([eb('max_download_attempts', 'is', null), eb('download_attempts', '<', eb.ref('max_download_attempts'))]))
        .returning(['iccid', 'operator', 'profile_type'])
        .executeTakeFirst();
      if (counted !== undefined) {
        await this.#outbox.reportWithin(trx, counted, eid, report?.('counted'), now);
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
      await this.#outbox.reportWithin(trx, spent, eid, report?.('exceeded'), now);
      await this.#audit.append(trx, { matchingId, iccid: spent.iccid, from: 'released', to: 'error', cause: 'maximum download attempts exceeded', at: now });
      return 'exceeded';
    });
  }


  /** confirmed -> released (what ES2+.ReleaseProfile does); false when the order is not confirmed. */
  async release(matchingId: string, now: number): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => this.releaseWithin(trx, matchingId, now));
  }

}
