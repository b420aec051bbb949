// The SM-DP+'s persistent state: profile orders, ES9+ sessions, notifications seen. Each change is one conditional statement or one transaction.
import { McimError } from '../errors.js';
import { timeOf, type Database, type OrderState, type SessionState } from './database.js';
import type { SecretBox } from './secretBox.js';

export interface NewOrder {
  readonly matchingId: string;
  readonly iccid: string;
  readonly eid?: string;
  /** SHA-256 of the confirmation code. */
  readonly ccHash?: Buffer;
  readonly profileName: string;
  readonly serviceProviderName: string;
  readonly profileClass: number;
  readonly profilePackage: Buffer;
}

export interface Order {
  readonly matchingId: string;
  readonly iccid: string;
  readonly eid: string | undefined;
  readonly ccHash: Buffer | undefined;
  readonly ccAttempts: number;
  readonly state: OrderState;
  readonly errorReason: string | undefined;
  readonly profileName: string;
  readonly serviceProviderName: string;
  readonly profileClass: number;
  readonly transactionId: string | undefined;
  readonly updatedAt: number;
}

export interface NewSession {
  readonly transactionId: string;
  readonly curve: string;
  readonly ciKeyId: string;
  readonly euiccChallenge: Buffer;
  readonly serverChallenge: Buffer;
  readonly expiresAt: number;
}

export interface Session extends NewSession {
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

function packageAad(matchingId: string): string {
  return `mcim:smdp_orders:${matchingId}:package`;
}

function rows(n: bigint | undefined): number {
  return n === undefined ? 0 : Number(n);
}

export class SmdpStore {
  readonly db: Database;
  readonly #box: SecretBox;

  constructor(db: Database, box: SecretBox) {
    this.db = db;
    this.#box = box;
  }

  /** Stores a released order; ORDER_EXISTS when the matching ID is taken. */
  async insertOrder(order: NewOrder, now: number): Promise<void> {
    const result = await this.db
      .insertInto('smdp_orders')
      .values({
        matching_id: order.matchingId,
        iccid: order.iccid,
        eid: order.eid ?? null,
        cc_hash: order.ccHash?.toString('hex') ?? null,
        state: 'released',
        error_reason: null,
        profile_name: order.profileName,
        service_provider_name: order.serviceProviderName,
        profile_class: order.profileClass,
        package_sealed: this.#box.seal(order.profilePackage, packageAad(order.matchingId)),
        transaction_id: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('matching_id').doNothing())
      .executeTakeFirst();
    if (rows(result.numInsertedOrUpdatedRows) !== 1) {
      throw new McimError('ORDER_EXISTS', `an order with matching ID '${order.matchingId}' already exists`);
    }
  }

  async getOrder(matchingId: string): Promise<Order | undefined> {
    const r = await this.db.selectFrom('smdp_orders').selectAll().where('matching_id', '=', matchingId).executeTakeFirst();
    if (r === undefined) return undefined;
    return {
      matchingId: r.matching_id,
      iccid: r.iccid,
      eid: r.eid ?? undefined,
      ccHash: r.cc_hash === null ? undefined : Buffer.from(r.cc_hash, 'hex'),
      ccAttempts: Number(r.cc_attempts),
      state: r.state,
      errorReason: r.error_reason ?? undefined,
      profileName: r.profile_name,
      serviceProviderName: r.service_provider_name,
      profileClass: Number(r.profile_class),
      transactionId: r.transaction_id ?? undefined,
      updatedAt: timeOf(r.updated_at),
    };
  }

  /** The decrypted profile package of an order. */
  async openProfilePackage(matchingId: string): Promise<Buffer> {
    const r = await this.db.selectFrom('smdp_orders').select('package_sealed').where('matching_id', '=', matchingId).executeTakeFirst();
    if (r === undefined) throw new McimError('ORDER_NOT_FOUND', `no order with matching ID '${matchingId}'`);
    return this.#box.open(r.package_sealed, packageAad(matchingId));
  }

  async createSession(s: NewSession, now: number): Promise<void> {
    await this.db
      .insertInto('smdp_sessions')
      .values({
        transaction_id: s.transactionId,
        state: 'initiated',
        curve: s.curve,
        ci_key_id: s.ciKeyId,
        euicc_challenge: s.euiccChallenge,
        server_challenge: s.serverChallenge,
        eid: null,
        euicc_certificate: null,
        matching_id: null,
        smdp_signature2: null,
        expires_at: s.expiresAt,
        created_at: now,
      })
      .execute();
  }

  async getSession(transactionId: string): Promise<Session | undefined> {
    const r = await this.db.selectFrom('smdp_sessions').selectAll().where('transaction_id', '=', transactionId).executeTakeFirst();
    if (r === undefined) return undefined;
    return {
      transactionId: r.transaction_id,
      state: r.state,
      curve: r.curve,
      ciKeyId: r.ci_key_id,
      euiccChallenge: Buffer.from(r.euicc_challenge),
      serverChallenge: Buffer.from(r.server_challenge),
      expiresAt: timeOf(r.expires_at),
      eid: r.eid ?? undefined,
      euiccCertificate: r.euicc_certificate === null ? undefined : Buffer.from(r.euicc_certificate),
      matchingId: r.matching_id ?? undefined,
      smdpSignature2: r.smdp_signature2 === null ? undefined : Buffer.from(r.smdp_signature2),
    };
  }

  /** initiated -> authenticated, binding the session to one eUICC and one order; false if the session moved on or expired. */
  async authenticateSession(transactionId: string, a: SessionAuthentication, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('smdp_sessions')
      .set({ state: 'authenticated', eid: a.eid, euicc_certificate: a.euiccCertificate, matching_id: a.matchingId, smdp_signature2: a.smdpSignature2 })
      .where('transaction_id', '=', transactionId)
      .where('state', '=', 'initiated')
      .where('expires_at', '>=', now)
      .executeTakeFirst();
    return rows(r.numUpdatedRows) === 1;
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
  async recordCcFailure(matchingId: string, maxAttempts: number, now: number): Promise<CcFailure | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('smdp_orders')
        .set((eb) => ({ cc_attempts: eb('cc_attempts', '+', 1), updated_at: now }))
        .where('matching_id', '=', matchingId)
        .where('state', '=', 'released')
        .returning('cc_attempts')
        .executeTakeFirst();
      if (r === undefined) return undefined;
      const attempts = Number(r.cc_attempts);
      const locked = attempts >= maxAttempts;
      if (locked) {
        await trx
          .updateTable('smdp_orders')
          .set({ state: 'error', error_reason: 'confirmation code attempts exceeded', updated_at: now })
          .where('matching_id', '=', matchingId)
          .execute();
      }
      return { attempts, locked };
    });
  }

  /** authenticated session + released order -> delivered + downloaded, atomically; false when either moved on. */
  async deliver(transactionId: string, matchingId: string, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const s = await trx
        .updateTable('smdp_sessions')
        .set({ state: 'delivered' })
        .where('transaction_id', '=', transactionId)
        .where('state', '=', 'authenticated')
        .where('expires_at', '>=', now)
        .executeTakeFirst();
      if (rows(s.numUpdatedRows) !== 1) return false;
      const o = await trx
        .updateTable('smdp_orders')
        .set({ state: 'downloaded', transaction_id: transactionId, updated_at: now })
        .where('matching_id', '=', matchingId)
        .where('state', '=', 'released')
        .executeTakeFirst();
      if (rows(o.numUpdatedRows) !== 1) throw new OrderUnavailable();
      return true;
    }).catch((e: unknown) => {
      if (e instanceof OrderUnavailable) return false;
      throw e;
    });
  }

  /**
   * Ends a session on the eUICC's signed CancelSession. The order goes to `orderState` if it was released or
   * delivered by this session; false when the session had already ended.
   */
  async cancel(transactionId: string, orderState: 'released' | 'error', reason: string, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const s = await trx
        .updateTable('smdp_sessions')
        .set({ state: 'cancelled' })
        .where('transaction_id', '=', transactionId)
        .where('state', 'in', ['initiated', 'authenticated', 'delivered'])
        .returning('matching_id')
        .executeTakeFirst();
      if (s === undefined) return false;
      if (s.matching_id !== null) {
        await trx
          .updateTable('smdp_orders')
          .set({ state: orderState, error_reason: orderState === 'error' ? reason : null, updated_at: now })
          .where('matching_id', '=', s.matching_id)
          .where((eb) => eb.or([eb('state', '=', 'released'), eb.and([eb('state', '=', 'downloaded'), eb('transaction_id', '=', transactionId)])]))
          .execute();
      }
      return true;
    });
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
  ): Promise<NotificationOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('smdp_notifications')
        .values({
          notification_key: `${eid}:${seqNumber}`,
          eid,
          seq_number: seqNumber,
          operation: 'install',
          iccid: iccid ?? null,
          transaction_id: transactionId,
          received_at: now,
        })
        .onConflict((oc) => oc.column('notification_key').doNothing())
        .executeTakeFirst();
      if (rows(inserted.numInsertedOrUpdatedRows) !== 1) return 'replayed';
      await trx
        .updateTable('smdp_orders')
        .set({ state: success ? 'installed' : 'error', error_reason: success ? null : 'installation failed on the eUICC', updated_at: now })
        .where('transaction_id', '=', transactionId)
        .where('state', '=', 'downloaded')
        .execute();
      return 'recorded';
    });
  }

  /** Records a verified enable/disable/delete notification once; delete moves the installed order to deleted. */
  async recordOtherNotification(eid: string, seqNumber: number, operation: string, iccid: string | undefined, now: number): Promise<NotificationOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('smdp_notifications')
        .values({ notification_key: `${eid}:${seqNumber}`, eid, seq_number: seqNumber, operation, iccid: iccid ?? null, transaction_id: null, received_at: now })
        .onConflict((oc) => oc.column('notification_key').doNothing())
        .executeTakeFirst();
      if (rows(inserted.numInsertedOrUpdatedRows) !== 1) return 'replayed';
      if (operation === 'delete' && iccid !== undefined) {
        await trx
          .updateTable('smdp_orders')
          .set({ state: 'deleted', updated_at: now })
          .where('iccid', '=', iccid)
          .where('state', '=', 'installed')
          .execute();
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
