// The profile life cycle an operator drives over ES2+ (SGP.22 5.3.1-5.3.4): stock rows go available -> allocated/linked -> ordered; from ConfirmOrder on the order row carries the state (confirmed, released, downloaded, installed, error).
import { PostgresAdapter, sql, type Kysely, type Transaction } from 'kysely';
import type { Database, McimTables, OrderState } from './database.js';
import type { ProfileStock, StockState } from './profileStock.js';
import type { NewOrder, SmdpOrders } from './smdpOrders.js';

/** The states of a stock row: 'ordered' hands the profile's state on to its order (`order_key`). */
export type StockLifecycleState = StockState;

/** A profile's state as an operator sees it (SGP.22 5.3); 'deleted': the eUICC reported the profile deleted. */
export type ProfileState = Exclude<StockLifecycleState, 'ordered'> | OrderState;

interface StockLifecycleTable {
  iccid: string;
  profile_type: string;
  operator: string;
  state: StockLifecycleState;
  eid: string | null;
  order_key: string | null;
  package_sealed: Buffer;
  updated_at: number | string;
}

interface ProfileTypesTable {
  name: string;
  operator: string;
}

type LifecycleTables = { stock_profiles: StockLifecycleTable; stock_profile_types: ProfileTypesTable };

export interface OperatorProfile {
  readonly iccid: string;
  readonly profileType: string;
  readonly state: ProfileState;
  readonly eid: string | undefined;
  /** The order's key once confirmed (a matching ID, or an EID-only order's internal key). */
  readonly orderKey: string | undefined;
  /** The matching ID an eUICC presents; undefined for an EID-only order and before confirmation. */
  readonly matchingId: string | undefined;
}

/** What a DownloadOrder selects: one ICCID of the operator's stock, or the next available profile of a type. */
export type Allocation = { readonly iccid: string; readonly eid?: string } | { readonly profileType: string; readonly eid?: string };

export type AllocationOutcome =
  | { readonly allocated: OperatorProfile }
  | { readonly refused: 'iccid-unknown' | 'iccid-in-use' | 'type-unknown' | 'type-unavailable' };

export type ConfirmOutcome = { readonly confirmed: OperatorProfile } | { readonly refused: 'not-confirmable' | 'eid-mismatch' | 'matching-id-in-use' };

export type ReleaseOutcome = { readonly released: OperatorProfile } | { readonly refused: 'not-releasable' };

export type CancelOutcome = { readonly cancelled: OperatorProfile } | { readonly refused: 'not-cancellable' };

/** States CancelOrder accepts; the order, if any, is removed and the profile goes to the final state asked for. */
export const CANCELLABLE_STATES: readonly ProfileState[] = ['allocated', 'linked', 'confirmed', 'released', 'error'];

function rowsOf(n: bigint | undefined): number {
  return n === undefined ? 0 : Number(n);
}

/**
 * The operator-facing life cycle over the stock and order tables. Every method is scoped to one operator: another
 * operator's ICCID is unknown to it. Changes are conditional on the state read, in one transaction each.
 */
export class OperatorProfiles {
  readonly #db: Kysely<McimTables & LifecycleTables>;
  readonly #orders: SmdpOrders;
  readonly #stock: ProfileStock;
  readonly #postgres: boolean;

  /** `stock` opens packages with the operator's data key (under the KEK it was opened with). */
  constructor(db: Database, orders: SmdpOrders, stock: ProfileStock) {
    this.#db = db.withTables<LifecycleTables>();
    this.#orders = orders;
    this.#stock = stock;
    this.#postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  /** The operator's profile with this ICCID, its state read through to the order once it has one. */
  async get(operator: string, iccid: string): Promise<OperatorProfile | undefined> {
    return this.#read(this.#db, operator, iccid);
  }

  async #read(db: Kysely<McimTables & LifecycleTables>, operator: string, iccid: string): Promise<OperatorProfile | undefined> {
    const r = await db
      .selectFrom('stock_profiles')
      .leftJoin('smdp_orders', 'smdp_orders.matching_id', 'stock_profiles.order_key')
      .select(['stock_profiles.iccid', 'stock_profiles.profile_type', 'stock_profiles.state', 'stock_profiles.eid', 'stock_profiles.order_key', 'smdp_orders.state as order_state', 'smdp_orders.eid_only'])
      .where('stock_profiles.iccid', '=', iccid)
      .where('stock_profiles.operator', '=', operator)
      .executeTakeFirst();
    if (r === undefined) return undefined;
    // An ordered row whose order is gone can only be a fault: it reads as error, never as downloadable.
    const state: ProfileState = r.state === 'ordered' ? (r.order_state ?? 'error') : r.state;
    return {
      iccid: r.iccid,
      profileType: r.profile_type,
      state,
      eid: r.eid ?? undefined,
      orderKey: r.order_key ?? undefined,
      matchingId: r.order_key !== null && Number(r.eid_only ?? 0) === 0 ? r.order_key : undefined,
    };
  }

  /** DownloadOrder: available -> allocated, or linked when an EID is given (SGP.22 5.3.1). */
  async allocate(operator: string, what: Allocation, now: number): Promise<AllocationOutcome> {
    const state: StockLifecycleState = what.eid === undefined ? 'allocated' : 'linked';
    const set = { state, eid: what.eid ?? null, updated_at: now };
    if ('iccid' in what) {
      const r = await this.#db
        .updateTable('stock_profiles')
        .set(set)
        .where('iccid', '=', what.iccid)
        .where('operator', '=', operator)
        .where('state', '=', 'available')
        .returning(['iccid', 'profile_type'])
        .executeTakeFirst();
      if (r !== undefined) return { allocated: reserved(r.iccid, r.profile_type, state, what.eid) };
      return { refused: (await this.get(operator, what.iccid)) === undefined ? 'iccid-unknown' : 'iccid-in-use' };
    }
    const type = await this.#db.selectFrom('stock_profile_types').select('operator').where('name', '=', what.profileType).executeTakeFirst();
    if (type === undefined || type.operator !== operator) return { refused: 'type-unknown' };
    const lock = this.#postgres ? sql` FOR UPDATE SKIP LOCKED` : sql``;
    const candidate = sql<string>`(SELECT iccid FROM stock_profiles WHERE profile_type = ${what.profileType} AND state = 'available' ORDER BY iccid LIMIT 1${lock})`;
    const r = await this.#db.updateTable('stock_profiles').set(set).where('iccid', '=', candidate).where('state', '=', 'available').returning('iccid').executeTakeFirst();
    if (r === undefined) return { refused: 'type-unavailable' };
    return { allocated: reserved(r.iccid, what.profileType, state, what.eid) };
  }

  /** The profile package of an allocated or linked profile, opened with the operator's data key (for ConfirmOrder). */
  async openPackage(operator: string, iccid: string, now: number): Promise<Buffer | undefined> {
    const r = await this.#db
      .selectFrom('stock_profiles')
      .select('package_sealed')
      .where('iccid', '=', iccid)
      .where('operator', '=', operator)
      .where('state', 'in', ['allocated', 'linked'])
      .executeTakeFirst();
    if (r === undefined) return undefined;
    const box = await this.#stock.dataKey(operator, now);
    return box.open(r.package_sealed, `stock_profiles:package:${iccid}`);
  }

  /**
   * ConfirmOrder: an allocated or linked profile gets its order (confirmed, or released with `order.released`), in one
   * transaction with the stock row going to 'ordered'. A linked profile's EID must be the order's (eid-mismatch).
   */
  async confirm(operator: string, iccid: string, order: NewOrder, now: number): Promise<ConfirmOutcome> {
    return this.#db.transaction().execute(async (trx) => {
      const current = await this.#read(trx, operator, iccid);
      if (current === undefined || (current.state !== 'allocated' && current.state !== 'linked')) return { refused: 'not-confirmable' as const };
      if (current.eid !== undefined && current.eid !== order.eid) return { refused: 'eid-mismatch' as const };
      const moved = await trx
        .updateTable('stock_profiles')
        .set({ state: 'ordered', eid: order.eid ?? null, order_key: order.matchingId, updated_at: now })
        .where('iccid', '=', iccid)
        .where('state', '=', current.state)
        .executeTakeFirst();
      if (rowsOf(moved.numUpdatedRows) !== 1) return { refused: 'not-confirmable' as const };
      const inserted = await this.#orders.insertWithin(trx as unknown as Transaction<McimTables>, order, now, 'ES2+ ConfirmOrder');
      if (!inserted) {
        // The stock row's change is undone with the transaction.
        throw new MatchingIdTaken();
      }
      const confirmed: OperatorProfile = {
        ...current,
        state: order.released === false ? 'confirmed' : 'released',
        eid: order.eid,
        orderKey: order.matchingId,
        matchingId: order.eidOnly === true ? undefined : order.matchingId,
      };
      return { confirmed };
    }).catch((e: unknown) => {
      if (e instanceof MatchingIdTaken) return { refused: 'matching-id-in-use' as const };
      throw e;
    });
  }

  /** ReleaseProfile: confirmed -> released (SGP.22 5.3.4). */
  async release(operator: string, iccid: string, now: number): Promise<ReleaseOutcome> {
    return this.#db.transaction().execute(async (trx) => {
      const current = await this.#read(trx, operator, iccid);
      if (current?.state !== 'confirmed' || current.orderKey === undefined) return { refused: 'not-releasable' as const };
      const released = await this.#orders.releaseWithin(trx as unknown as Transaction<McimTables>, current.orderKey, now);
      if (!released) return { refused: 'not-releasable' as const };
      return { released: { ...current, state: 'released' as const } };
    });
  }

  /**
   * CancelOrder: from a CANCELLABLE_STATES state the order (if any) is removed with its package, and the profile goes
   * back to stock (available, its EID link dropped) or out of it for good (unavailable), SGP.22 5.3.3.
   */
  async cancel(operator: string, iccid: string, final: 'available' | 'unavailable', now: number): Promise<CancelOutcome> {
    return this.#db.transaction().execute(async (trx) => {
      const current = await this.#read(trx, operator, iccid);
      if (current === undefined || !CANCELLABLE_STATES.includes(current.state)) return { refused: 'not-cancellable' as const };
      if (current.orderKey !== undefined) {
        const from = CANCELLABLE_STATES.filter((s): s is OrderState => s === 'confirmed' || s === 'released' || s === 'error');
        const removed = await this.#orders.removeWithin(trx as unknown as Transaction<McimTables>, current.orderKey, from, `ES2+ CancelOrder (${final})`, now);
        if (removed === undefined) return { refused: 'not-cancellable' as const };
      }
      await trx
        .updateTable('stock_profiles')
        .set({ state: final, eid: null, order_key: null, updated_at: now })
        .where('iccid', '=', iccid)
        .execute();
      return { cancelled: { ...current, state: final, eid: undefined, orderKey: undefined, matchingId: undefined } };
    });
  }
}

/** A profile DownloadOrder just reserved, as the update that reserved it returned it. */
function reserved(iccid: string, profileType: string, state: 'allocated' | 'linked', eid: string | undefined): OperatorProfile {
  return { iccid, profileType, state, eid, orderKey: undefined, matchingId: undefined };
}

/** Thrown inside ConfirmOrder's transaction to roll it back when the matching ID is taken. */
class MatchingIdTaken extends Error {}
