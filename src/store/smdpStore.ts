// The SM-DP+'s persistent state, one aggregate per file: orders (src/store/smdpOrders.ts), sessions (smdpSessions.ts), notifications (smdpNotifications.ts), the ES2+ progress outbox (progressOutbox.ts), lockouts and the audit trail, over one database.
import { AuditLog } from './auditLog.js';
import type { Database } from './database.js';
import { Lockouts } from './lockouts.js';
import { ProgressOutbox } from './progressOutbox.js';
import type { SecretBox } from './secretBox.js';
import { SmdpNotifications } from './smdpNotifications.js';
import { SmdpOrders } from './smdpOrders.js';
import { DEFAULT_PURGE_SESSIONS_EVERY, SmdpSessions } from './smdpSessions.js';

export type { CcFailure, DownloadAttempt, NewOrder, Order, RetainedBinding } from './smdpOrders.js';
export type { NewSession, Session, SessionAuthentication } from './smdpSessions.js';
export type { NotificationOutcome } from './smdpNotifications.js';
export type { ProgressReport } from './progressOutbox.js';
export { DEFAULT_PURGE_SESSIONS_EVERY } from './smdpSessions.js';

export interface SmdpStoreOptions {
  /** Run the sessions' purge after this many new sessions (default 100; 0 disables the opportunistic purge). */
  readonly purgeSessionsEvery?: number;
}

/** The SM-DP+'s aggregates over one database; each state change is one conditional statement or one transaction. */
export class SmdpStore {
  readonly db: Database;
  readonly orders: SmdpOrders;
  readonly sessions: SmdpSessions;
  readonly notifications: SmdpNotifications;
  /** HandleDownloadProgressInfo calls waiting for delivery. */
  readonly outbox: ProgressOutbox;
  /** Failures and lockouts of EIDs and source addresses. */
  readonly lockouts: Lockouts;
  /** The hash-chained trail of order state changes, appended in each change's transaction. */
  readonly audit: AuditLog;

  constructor(db: Database, box: SecretBox, options: SmdpStoreOptions = {}) {
    this.db = db;
    this.lockouts = new Lockouts(db);
    this.audit = new AuditLog(db);
    this.outbox = new ProgressOutbox(db);
    this.orders = new SmdpOrders(db, box, this.audit, this.outbox);
    this.sessions = new SmdpSessions(db, this.orders, this.audit, this.outbox, this.lockouts, options.purgeSessionsEvery ?? DEFAULT_PURGE_SESSIONS_EVERY);
    this.notifications = new SmdpNotifications(db, this.audit, this.outbox);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
