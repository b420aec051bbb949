// One of several processes writing to the same SM-DP+ database at once (test/store/concurrency.test.ts): prints what it managed, and every error it met.
import { openDatabase, type DatabaseConfig } from '../../src/store/database.js';
import { SecretBox } from '../../src/store/secretBox.js';
import { SmdpStore } from '../../src/store/smdpStore.js';
import { randomBytes } from 'node:crypto';

export interface WorkerPlan {
  readonly config: DatabaseConfig;
  readonly keyFile: string;
  readonly worker: number;
  readonly now: number;
  /** Failures each worker records against one shared lockout key. */
  readonly failures: number;
  /** Sessions each worker tries to open from one shared source, capped at `sessionCap`. */
  readonly sessions: number;
  readonly sessionCap: number;
  /** Transactions awaiting their PIR (every worker reports each one, with the same sequence number). */
  readonly pirTransactions: readonly string[];
  /** Orders delivered to `eid` (ICCIDs): every worker sends enable notifications for each, with its own sequence numbers. */
  readonly eid: string;
  readonly iccids: readonly string[];
  /** Notifications sent per ICCID. */
  readonly notificationRounds: number;
  /** An order with a download-attempt limit that every worker counts attempts on. */
  readonly limitedOrder: string;
  readonly attempts: number;
}

export interface WorkerReport {
  readonly errors: string[];
  readonly sessionsOpened: number;
  readonly pirsRecorded: number;
  readonly notificationsRecorded: number;
  readonly attemptsCounted: number;
}

const plan = JSON.parse(process.argv[2]!) as WorkerPlan;
const store = new SmdpStore(await openDatabase(plan.config), SecretBox.fromKeyFile(plan.keyFile), { purgeSessionsEvery: 0 });
const errors: string[] = [];
let sessionsOpened = 0;
let pirsRecorded = 0;
let notificationsRecorded = 0;
let attemptsCounted = 0;

async function guarded(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    errors.push(e instanceof Error ? `${(e as { code?: string }).code ?? ''} ${e.message}` : String(e));
  }
}

const policy = { maxFailures: 1_000_000, windowMs: 3_600_000, lockoutMs: 60_000, maxLockoutMs: 3_600_000 };
const jobs: (() => Promise<void>)[] = [];
for (let i = 0; i < plan.failures; i++) jobs.push(() => store.lockouts.recordFailure('source:concurrency', policy, plan.now).then(() => undefined));
for (let i = 0; i < plan.sessions; i++) {
  jobs.push(async () => {
    const session = { transactionId: `W${plan.worker}-${i}-${randomBytes(4).toString('hex')}`, curve: 'P-256', ciKeyId: 'aa', euiccChallenge: randomBytes(16), serverChallenge: randomBytes(16), expiresAt: plan.now + 60_000, source: 'flood' };
    if (await store.sessions.create(session, plan.now, { maxOpen: plan.sessionCap, unlessLocked: 'auth:flood' })) sessionsOpened++;
  });
}
plan.pirTransactions.forEach((transactionId, i) => {
  jobs.push(async () => {
    if ((await store.notifications.recordInstallationResult(transactionId, plan.eid, 1_000 + i, undefined, true, plan.now)) === 'recorded') pirsRecorded++;
  });
});
for (let round = 0; round < plan.notificationRounds; round++) {
  plan.iccids.forEach((iccid, i) => {
    const seq = 1_000_000 * (plan.worker + 1) + 1_000 * round + i;
    jobs.push(async () => {
      if ((await store.notifications.recordOther(plan.eid, seq, 'enable', iccid, plan.now)) === 'recorded') notificationsRecorded++;
    });
  });
}
for (let i = 0; i < plan.attempts; i++) {
  jobs.push(async () => {
    if ((await store.orders.countDownloadAttempt(plan.limitedOrder, plan.now)) === 'counted') attemptsCounted++;
  });
}
// Interleave the kinds, several at a time (as a worker serving concurrent requests does).
jobs.sort(() => Math.random() - 0.5);
const CONCURRENCY = 8;
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < jobs.length) await guarded(jobs[next++]!);
  }),
);
await store.close();
const report: WorkerReport = { errors, sessionsOpened, pirsRecorded, notificationsRecorded, attemptsCounted };
process.stdout.write(JSON.stringify(report));
