// Per-source and per-EID limits of the SM-DP+ under hostile load (issue 8): open sessions per source, lockouts of sources that fail to authenticate and of EIDs and sources that guess matching IDs (SGP.22 5.6.1, 5.6.3 codes).
import { sourceKey as connectionSourceKey } from '../http/connectionLimits.js';
import { FunctionFailure } from '../http/jsonBinding.js';
import type { LockoutPolicy } from '../store/lockouts.js';
import type { SmdpContext } from './context.js';

export interface AbuseLimits {
  /** Open sessions (initiated, not yet authenticated, unexpired) one source may hold; InitiateAuthentication beyond: 1.2/4.4. */
  readonly maxOpenSessionsPerSource: number;
  /** Matching-ID failures of one authenticated EID before it is locked out. */
  readonly eid: LockoutPolicy;
  /** Matching-ID failures from one source address (IPv6: its /64) before it is locked out. */
  readonly source: LockoutPolicy;
  /**
   * Failed eUICC authentications (AuthenticateClient refused: eUICC signature, certificates, CI) from one source before
   * it is locked out of InitiateAuthentication (1.2/4.4).
   */
  readonly authentication: LockoutPolicy;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_ABUSE_LIMITS: AbuseLimits = {
  maxOpenSessionsPerSource: 64,
  eid: { maxFailures: 5, windowMs: HOUR, lockoutMs: 15 * MINUTE, maxLockoutMs: 24 * HOUR },
  source: { maxFailures: 20, windowMs: HOUR, lockoutMs: 15 * MINUTE, maxLockoutMs: 24 * HOUR },
  authentication: { maxFailures: 50, windowMs: 10 * MINUTE, lockoutMs: 5 * MINUTE, maxLockoutMs: HOUR },
};

/** The limits with the given ones replacing the defaults. */
export function abuseLimits(given: Partial<AbuseLimits> | undefined): AbuseLimits {
  return { ...DEFAULT_ABUSE_LIMITS, ...given };
}

/**
 * The source a limit counts: the key the connection caps count a source under (src/http/connectionLimits.ts): an IPv4
 * address (also IPv4-mapped IPv6), or the /64 prefix of an IPv6 address (one subscriber line or host usually holds a
 * whole /64, so counting single IPv6 addresses limits nothing).
 */
export function sourceOf(address: string): string {
  return connectionSourceKey(address);
}

export function eidKey(eid: string): string {
  return `eid:${eid}`;
}

export function sourceKey(address: string): string {
  return `source:${sourceOf(address)}`;
}

/** The key of a source's failed authentications (a lockout keeps it from InitiateAuthentication). */
export function authenticationKey(address: string): string {
  return `auth:${sourceOf(address)}`;
}

/**
 * The refusals of AuthenticateClient that say the caller could not authenticate as an eUICC (SGP.22 5.6.3): its
 * signature or challenge (8.1), its EUM or eUICC certificate (8.1.2, 8.1.3), its CI (8.11.1).
 */
const AUTHENTICATION_FAILURES: ReadonlySet<string> = new Set(['8.1', '8.1.2', '8.1.3', '8.11.1']);

/** Counts a refused AuthenticateClient against its source when the refusal was a failed eUICC authentication. */
export async function recordAuthenticationFailure(ctx: SmdpContext, e: unknown, address: string): Promise<void> {
  if (!(e instanceof FunctionFailure) || !AUTHENTICATION_FAILURES.has(e.subjectCode)) return;
  await countFailure(ctx, authenticationKey(address), ctx.limits.authentication, 'failed eUICC authentications', address);
}

/** A lockout key as the security events name it: its scope (eid, source, auth) and what it limits. */
function limitOf(key: string): { scope: string; subject: string } {
  const colon = key.indexOf(':');
  return { scope: key.slice(0, colon), subject: key.slice(colon + 1) };
}

/** The lockout keys that refuse matching-ID lookups: the EID's and the source's. */
export function matchingIdLockoutKeys(eid: string, address: string): readonly [string, string] {
  return [eidKey(eid), sourceKey(address)];
}

/** A matching-ID lookup refused by a lockout: a rateLimit.hit event (the device itself is answered as a wrong guess). */
export function matchingIdLockoutHit(ctx: SmdpContext, lockout: { readonly key: string; readonly lockedUntil: number }, address: string): void {
  ctx.events.securityEvent('rateLimit.hit', { ...limitOf(lockout.key), reason: 'matching-ID lockout', until: lockout.lockedUntil, client: address });
}

/** Counts one failure against `key`; a lockout it starts is a lockout.started event. */
async function countFailure(ctx: SmdpContext, key: string, policy: LockoutPolicy, reason: string, address: string): Promise<void> {
  const outcome = await ctx.store.lockouts.recordFailure(key, policy, ctx.now());
  if (outcome.newlyLocked) ctx.events.securityEvent('lockout.started', { ...limitOf(key), reason, until: outcome.lockedUntil, client: address });
}

/** Counts a matching-ID failure against the EID and the source (each may be locked out by it). */
export async function recordMatchingIdFailure(ctx: SmdpContext, eid: string, address: string): Promise<void> {
  await countFailure(ctx, eidKey(eid), ctx.limits.eid, 'matching-ID failures', address);
  await countFailure(ctx, sourceKey(address), ctx.limits.source, 'matching-ID failures', address);
}

/** InitiateAuthentication refused (open sessions or an authentication lockout of the source): a rateLimit.hit event. */
export function sessionRefused(ctx: SmdpContext, address: string): void {
  ctx.events.securityEvent('rateLimit.hit', { scope: 'source', subject: sourceOf(address), reason: 'open sessions or authentication lockout', client: address });
}
