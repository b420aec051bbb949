// The notifications an SM-DP+ receives (SGP.22 3.5, ES9+.HandleNotification): each recorded once per eUICC and sequence number, moving its order (installed, error, deleted) in the same transaction.
import type { AuditLog } from './auditLog.js';
import type { Database, OrderState } from './database.js';
import { PreparedQuery, slot } from './preparedQuery.js';
import type { ProgressOutbox, ProgressReport } from './progressOutbox.js';

export type NotificationOutcome = 'recorded' | 'replayed';

/** The statements of notifications, compiled once per store. */
function notificationQueries(db: Database) {
  const now = slot<number>('now');
  const transactionId = slot<string>('transactionId');
  return {
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

/** The notifications aggregate: smdp_notifications. */
export class SmdpNotifications {
  readonly #db: Database;
  readonly #audit: AuditLog;
  readonly #outbox: ProgressOutbox;
  readonly #q: ReturnType<typeof notificationQueries>;

  constructor(db: Database, audit: AuditLog, outbox: ProgressOutbox) {
    this.#db = db;
    this.#audit = audit;
    this.#outbox = outbox;
    this.#q = notificationQueries(db);
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
    return this.#db.transaction().execute(async (trx) => {
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
      if (o !== undefined) await this.#outbox.reportWithin(trx, o, eid, report, now);
      if (o !== undefined) await this.#audit.append(trx, { matchingId: o.matching_id, iccid: o.iccid, from: 'downloaded', to: success ? 'installed' : 'error', cause: success ? `installed on the eUICC ${eid}` : errorReason, at: now });
      return 'recorded';
    });
  }


  /**
   * Records a verified enable/disable/delete notification once; delete moves the installed order to deleted.
   * 'foreign' (nothing recorded) when no profile with this ICCID was delivered to this EID: an eUICC reports only on
   * the profiles it received.
   */
  async recordOther(
    eid: string,
    seqNumber: number,
    operation: string,
    iccid: string | undefined,
    now: number,
    report?: ProgressReport,
  ): Promise<NotificationOutcome | 'foreign'> {
    if (iccid === undefined) return 'foreign';
    return this.#db.transaction().execute(async (trx) => {
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
      await this.#outbox.reportWithin(trx, ours, eid, report, now);
      if (operation === 'delete') {
        const deleted = await trx
          .updateTable('smdp_orders')
          .set({ state: 'deleted', updated_at: now })
          .where('iccid', '=', iccid)
          .where('delivered_eid', '=', eid)
          .where('state', '=', 'installed')
          .returning('matching_id')
          .execute();
        for (const d of deleted) await this.#audit.append(trx, { matchingId: d.matching_id, iccid, from: 'installed', to: 'deleted', cause: `deleted on the eUICC ${eid}`, at: now });
      }
      return 'recorded';
    });
  }

}
