// Failures counted per key (an EID, a source address) within a window, and the lockouts they lead to, growing exponentially: shared by every process through the database.
import { PostgresAdapter } from 'kysely';
import { timeOf, type Database } from './database.js';
import { PreparedQuery, slot } from './preparedQuery.js';

/** When failures lock a key, and for how long. */
export interface LockoutPolicy {
  /** Failures within `windowMs` that lock the key. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** The first lockout; each further one lasts twice as long as the one before, up to `maxLockoutMs`. */
  readonly lockoutMs: number;
  readonly maxLockoutMs: number;
}

export interface LockoutEntry {
  readonly key: string;
  /** Failures in the current window. */
  readonly failures: number;
  /** Lockouts so far (the next one is longer). */
  readonly lockouts: number;
  /** Locked until this time (ms since the epoch); undefined when not locked now. */
  readonly lockedUntil: number | undefined;
  readonly lastFailureAt: number;
  /** The entry is purged after this time. */
  readonly expiresAt: number;
}

export interface FailureOutcome {
  readonly failures: number;
  /** Set when the key is locked after this failure. */
  readonly lockedUntil: number | undefined;
  /** This failure locked the key. */
  readonly newlyLocked: boolean;
}

/** The duration of lockout number `n` (0-based): lockoutMs * 2^n, at most maxLockoutMs. */
export function lockoutDuration(policy: LockoutPolicy, n: number): number {
  return Math.min(policy.lockoutMs * 2 ** Math.min(n, 40), policy.maxLockoutMs);
}

/**
 * The smdp_lockouts table. A failure is counted in one transaction holding the key's row, so concurrent failures from
 * several processes are each counted once, on SQLite and PostgreSQL alike. An entry is
 * created only by a failure and purged once its window, its lockout and the memory of past lockouts (maxLockoutMs)
 * have passed.
 */
export class Lockouts {
  readonly #db: Database;

  /** The operator's and the tests' view of one or two keys (AuthenticateClient reads lockouts with its order lookup: SmdpOrders.getByMatchingIdUnlessLocked). */
  readonly #lockedAmong;

  constructor(db: Database) {
    this.#db = db;
    this.#lockedAmong = PreparedQuery.of(
      db
        .selectFrom('smdp_lockouts')
        .selectAll()
        .where('key', 'in', [slot<string>('first'), slot<string>('second')])
        .where('locked_until', '>', slot<number>('now')),
    ).slots<{ first: string; second: string; now: number }>('first', 'second', 'now');
  }

  /** The entries among `keys` (one or two: an EID and a source) that are locked at `now`. */
  async locked(keys: readonly [string] | readonly [string, string], now: number): Promise<LockoutEntry[]> {
    const { rows } = await this.#lockedAmong.execute(this.#db, { first: keys[0], second: keys[1] ?? keys[0], now });
    return rows.map((r) => entry(r, now));
  }

  /** Counts one failure against `key`; locks it when the policy's failures are reached within its window. */
  async recordFailure(key: string, policy: LockoutPolicy, now: number): Promise<FailureOutcome> {
    const postgres = this.#db.getExecutor().adapter instanceof PostgresAdapter;
    return this.#db.transaction().execute(async (trx) => {
      await trx
        .insertInto('smdp_lockouts')
        .values({ key, failures: 0, window_started_at: now, lockouts: 0, locked_until: 0, last_failure_at: now, expires_at: now + policy.windowMs + policy.maxLockoutMs })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      // The row is held until commit: PostgreSQL by FOR UPDATE, SQLite by the write lock of BEGIN IMMEDIATE.
      const row = await trx
        .selectFrom('smdp_lockouts')
        .selectAll()
        .where('key', '=', key)
        .$if(postgres, (q) => q.forUpdate())
        .executeTakeFirstOrThrow();
      const windowStart = timeOf(row.window_started_at);
      const lockedUntil = timeOf(row.locked_until);
      const lockouts = Number(row.lockouts);
      const fresh = now - windowStart >= policy.windowMs;
      let failures = fresh ? 1 : Number(row.failures) + 1;
      let nextWindowStart = fresh ? now : windowStart;
      let nextLockouts = lockouts;
      let nextLockedUntil = lockedUntil;
      const lock = failures >= policy.maxFailures && lockedUntil <= now;
      if (lock) {
        nextLockedUntil = now + lockoutDuration(policy, lockouts);
        nextLockouts = lockouts + 1;
        failures = 0;
        nextWindowStart = now;
      }
      const expiresAt = Math.max(nextWindowStart + policy.windowMs, nextLockedUntil) + policy.maxLockoutMs;
      await trx
        .updateTable('smdp_lockouts')
        .set({ failures, window_started_at: nextWindowStart, lockouts: nextLockouts, locked_until: nextLockedUntil, last_failure_at: now, expires_at: expiresAt })
        .where('key', '=', key)
        .execute();
      return { failures, lockedUntil: nextLockedUntil > now ? nextLockedUntil : undefined, newlyLocked: lock };
    });
  }

  /** Every entry not yet expired, locked ones first, then by key. */
  async list(now: number): Promise<LockoutEntry[]> {
    const rows = await this.#db.selectFrom('smdp_lockouts').selectAll().where('expires_at', '>=', now).orderBy('key').execute();
    const entries = rows.map((r) => entry(r, now));
    return [...entries.filter((e) => e.lockedUntil !== undefined), ...entries.filter((e) => e.lockedUntil === undefined)];
  }

  /** Forgets `key` (its failures, its lockout and its lockout history); false when there was no such entry. */
  async clear(key: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('smdp_lockouts').where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  /** Deletes the entries expired before `now`; returns how many. */
  async purge(now: number): Promise<number> {
    const r = await this.#db.deleteFrom('smdp_lockouts').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

function entry(
  r: { key: string; failures: number; lockouts: number; locked_until: number | string; last_failure_at: number | string; expires_at: number | string },
  now: number,
): LockoutEntry {
  const lockedUntil = timeOf(r.locked_until);
  return {
    key: r.key,
    failures: Number(r.failures),
    lockouts: Number(r.lockouts),
    lockedUntil: lockedUntil > now ? lockedUntil : undefined,
    lastFailureAt: timeOf(r.last_failure_at),
    expiresAt: timeOf(r.expires_at),
  };
}
