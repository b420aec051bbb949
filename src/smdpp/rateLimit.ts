// Per-source and per-EID limits of the SM-DP+ under hostile load (issue 8): open sessions per source, and lockouts of EIDs and sources that guess matching IDs (SGP.22 5.6.3 codes kept).
import { isIPv4, isIPv6 } from 'node:net';
import type { LockoutPolicy } from '../store/lockouts.js';
import type { SmdpContext } from './context.js';

export interface AbuseLimits {
  /** Open sessions (initiated, not yet authenticated, unexpired) one source may hold; InitiateAuthentication beyond: 1.2/4.4. */
  readonly maxOpenSessionsPerSource: number;
  /** Matching-ID failures of one authenticated EID before it is locked out. */
  readonly eid: LockoutPolicy;
  /** Matching-ID failures from one source address (IPv6: its /64) before it is locked out. */
  readonly source: LockoutPolicy;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_ABUSE_LIMITS: AbuseLimits = {
  maxOpenSessionsPerSource: 64,
  eid: { maxFailures: 5, windowMs: HOUR, lockoutMs: 15 * MINUTE, maxLockoutMs: 24 * HOUR },
  source: { maxFailures: 20, windowMs: HOUR, lockoutMs: 15 * MINUTE, maxLockoutMs: 24 * HOUR },
};

/** The limits with the given ones replacing the defaults. */
export function abuseLimits(given: Partial<AbuseLimits> | undefined): AbuseLimits {
  return { ...DEFAULT_ABUSE_LIMITS, ...given };
}

/**
 * The source a limit counts: an IPv4 address (also IPv4-mapped IPv6), or the /64 prefix of an IPv6 address (one
 * subscriber line or host usually holds a whole /64, so counting single IPv6 addresses limits nothing).
 */
export function sourceOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1]!;
  if (isIPv4(address) || !isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('%')[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`;
}

export function eidKey(eid: string): string {
  return `eid:${eid}`;
}

export function sourceKey(address: string): string {
  return `source:${sourceOf(address)}`;
}

/** The EID or the source is locked out of matching-ID lookups now. */
export async function matchingIdLocked(ctx: SmdpContext, eid: string, address: string): Promise<boolean> {
  return (await ctx.store.lockouts.locked([eidKey(eid), sourceKey(address)], ctx.now())).length > 0;
}

/** Counts a matching-ID failure against the EID and the source (each may be locked out by it). */
export async function recordMatchingIdFailure(ctx: SmdpContext, eid: string, address: string): Promise<void> {
  const now = ctx.now();
  await ctx.store.lockouts.recordFailure(eidKey(eid), ctx.limits.eid, now);
  await ctx.store.lockouts.recordFailure(sourceKey(address), ctx.limits.source, now);
}
