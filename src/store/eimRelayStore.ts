// The eIM's relayed ES9+ sessions (SGP.32 v1.2 3.2.2 indirect profile download) and the notifications it forwards to their SM-DP+ (3.6): one call in flight per session by conditional UPDATE, forwards delivered with backoff.
import { type Kysely, type Selectable } from 'kysely';
import { timeOf, type Database, type McimTables } from './database.js';

/** initiated: InitiateAuthentication relayed; authenticated: AuthenticateClient relayed; ended: BPP delivered, cancelled or refused by the SM-DP+. */
export type RelayState = 'initiated' | 'authenticated' | 'ended';

interface RelaysTable {
  transaction_id: string;
  eid: string | null;
  eim_transaction_id: string | null;
  smdp_address: string;
  state: RelayState;
  smdp_signature2: Buffer | null;
  busy_until: number | string;
  expires_at: number | string;
  created_at: number | string;
}

/** pending: to deliver (at next_at); delivered; failed: given up after the last attempt. */
export type ForwardState = 'pending' | 'delivered' | 'failed';

interface ForwardsTable {
  eid: string;
  seq_number: number | string;
  address: string;
  notification: Buffer;
  state: ForwardState;
  attempts: number;
  next_at: number | string;
  last_error: string | null;
  created_at: number | string;
  delivered_at: number | string | null;
}

type RelayTables = { eim_relays: RelaysTable; eim_forwards: ForwardsTable };
type RelayDb = Kysely<McimTables & RelayTables>;

export interface Relay {
  /** The SM-DP+'s TransactionId, upper-case hex. */
  readonly transactionId: string;
  /** The device the session belongs to: known from the eimTransactionId of its trigger, else from its eUICC certificate at AuthenticateClient. */
  readonly eid: string | undefined;
  readonly eimTransactionId: string | undefined;
  readonly smdpAddress: string;
  readonly state: RelayState;
  /** The smdpSignature2 TLV the SM-DP+ sent at AuthenticateClient (euiccSignature2 covers it). */
  readonly smdpSignature2: Buffer | undefined;
  readonly expiresAt: number;
}

export interface Forward {
  readonly eid: string;
  readonly seqNumber: number;
  readonly address: string;
  /** The notification as the eUICC signed it (PendingNotification DER). */
  readonly notification: Buffer;
  readonly state: ForwardState;
  readonly attempts: number;
  readonly nextAt: number;
  readonly lastError: string | undefined;
}

const MAX_ERROR = 500;

function relayOf(r: Selectable<RelaysTable>): Relay {
  return {
    transactionId: r.transaction_id,
    eid: r.eid ?? undefined,
    eimTransactionId: r.eim_transaction_id ?? undefined,
    smdpAddress: r.smdp_address,
    state: r.state,
    smdpSignature2: r.smdp_signature2 === null ? undefined : Buffer.from(r.smdp_signature2),
    expiresAt: timeOf(r.expires_at),
  };
}

function forwardOf(r: Selectable<ForwardsTable>): Forward {
  return {
    eid: r.eid,
    seqNumber: Number(r.seq_number),
    address: r.address,
    notification: Buffer.from(r.notification),
    state: r.state,
    attempts: r.attempts,
    nextAt: timeOf(r.next_at),
    lastError: r.last_error ?? undefined,
  };
}

export class EimRelayStore {
  readonly #db: RelayDb;

  constructor(db: Database) {
    this.#db = db as unknown as RelayDb;
  }

  /** Open (unexpired, not ended) sessions of a device, or of no known device when `eid` is undefined. */
  async openRelayCount(eid: string | undefined, now: number): Promise<number> {
    let q = this.#db.selectFrom('eim_relays').select((e) => e.fn.countAll<number | string>().as('n')).where('expires_at', '>', now).where('state', '!=', 'ended');
    q = eid === undefined ? q.where('eid', 'is', null) : q.where('eid', '=', eid);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  /** Records a session the SM-DP+ opened; expired sessions are purged first. False if the transactionId is already known. */
  async startRelay(r: { transactionId: string; eid?: string; eimTransactionId?: string; smdpAddress: string; expiresAt: number }, now: number): Promise<boolean> {
    await this.#db.deleteFrom('eim_relays').where('expires_at', '<=', now).execute();
    const inserted = await this.#db
      .insertInto('eim_relays')
      .values({
        transaction_id: r.transactionId,
        eid: r.eid ?? null,
        eim_transaction_id: r.eimTransactionId ?? null,
        smdp_address: r.smdpAddress,
        state: 'initiated',
        smdp_signature2: null,
        busy_until: 0,
        expires_at: r.expiresAt,
        created_at: now,
      })
      .onConflict((oc) => oc.column('transaction_id').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async getRelay(transactionId: string): Promise<Relay | undefined> {
    const r = await this.#db.selectFrom('eim_relays').selectAll().where('transaction_id', '=', transactionId).executeTakeFirst();
    return r === undefined ? undefined : relayOf(r);
  }

  /**
   * Takes the session for one relayed call until `busyUntil`: only if it is unexpired, in one of `states` and no other
   * call holds it (one call in flight per transaction, across processes). Undefined otherwise.
   */
  async claimRelay(transactionId: string, states: readonly RelayState[], now: number, busyUntil: number): Promise<Relay | undefined> {
    const r = await this.#db
      .updateTable('eim_relays')
      .set({ busy_until: busyUntil })
      .where('transaction_id', '=', transactionId)
      .where('state', 'in', [...states])
      .where('expires_at', '>', now)
      .where('busy_until', '<=', now)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return undefined;
    return this.getRelay(transactionId);
  }

  /** Ends a call: the session's new state (and what it learned), released for the next call. */
  async releaseRelay(transactionId: string, change: { state: RelayState; eid?: string; smdpSignature2?: Buffer }): Promise<void> {
    await this.#db
      .updateTable('eim_relays')
      .set({
        state: change.state,
        busy_until: 0,
        ...(change.eid === undefined ? {} : { eid: change.eid }),
        ...(change.smdpSignature2 === undefined ? {} : { smdp_signature2: change.smdpSignature2 }),
      })
      .where('transaction_id', '=', transactionId)
      .execute();
  }

  /** Takes over a notification for delivery to its SM-DP+; a second time for the same (EID, seqNumber) changes nothing. */
  async addForward(f: { eid: string; seqNumber: number; address: string; notification: Buffer }, now: number): Promise<void> {
    await this.#db
      .insertInto('eim_forwards')
      .values({ eid: f.eid, seq_number: f.seqNumber, address: f.address, notification: f.notification, state: 'pending', attempts: 0, next_at: now, last_error: null, created_at: now, delivered_at: null })
      .onConflict((oc) => oc.columns(['eid', 'seq_number']).doNothing())
      .execute();
  }

  async getForward(eid: string, seqNumber: number): Promise<Forward | undefined> {
    const r = await this.#db.selectFrom('eim_forwards').selectAll().where('eid', '=', eid).where('seq_number', '=', seqNumber).executeTakeFirst();
    return r === undefined ? undefined : forwardOf(r);
  }

  /** Pending forwards due at `now`, oldest first, at most `limit`. */
  async dueForwards(now: number, limit: number): Promise<Forward[]> {
    const rows = await this.#db.selectFrom('eim_forwards').selectAll().where('state', '=', 'pending').where('next_at', '<=', now).orderBy('next_at').limit(limit).execute();
    return rows.map(forwardOf);
  }

  /** When the next pending forward is due (undefined: none pending). */
  async nextForwardAt(): Promise<number | undefined> {
    const r = await this.#db.selectFrom('eim_forwards').select((e) => e.fn.min('next_at').as('at')).where('state', '=', 'pending').executeTakeFirst();
    return r?.at === null || r?.at === undefined ? undefined : timeOf(r.at as number | string);
  }

  /** Takes a due forward for one delivery attempt (its next_at moved to `leaseUntil`); false if another process has it. */
  async claimForward(f: Forward, leaseUntil: number): Promise<boolean> {
    const r = await this.#db
      .updateTable('eim_forwards')
      .set({ next_at: leaseUntil })
      .where('eid', '=', f.eid)
      .where('seq_number', '=', f.seqNumber)
      .where('state', '=', 'pending')
      .where('next_at', '=', f.nextAt)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async forwardDelivered(f: Forward, now: number): Promise<void> {
    await this.#db.updateTable('eim_forwards').set({ state: 'delivered', attempts: f.attempts + 1, delivered_at: now, last_error: null }).where('eid', '=', f.eid).where('seq_number', '=', f.seqNumber).execute();
  }

  /** A failed attempt: tried again at `nextAt`, or given up (state failed) when `nextAt` is undefined. */
  async forwardFailed(f: Forward, error: string, nextAt: number | undefined): Promise<void> {
    await this.#db
      .updateTable('eim_forwards')
      .set({ attempts: f.attempts + 1, last_error: error.slice(0, MAX_ERROR), ...(nextAt === undefined ? { state: 'failed' as const } : { next_at: nextAt }) })
      .where('eid', '=', f.eid)
      .where('seq_number', '=', f.seqNumber)
      .execute();
  }
}
