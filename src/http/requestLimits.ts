// Request limits of an HTTPS interface under hostile load (docs/operations.md, ESipa limits): a per-source request rate in a fixed window, its table of sources bounded (least recently seen evicted), and a cap on requests in progress.
import { McimError } from '../errors.js';

export interface RequestRateLimit {
  /** Requests one source (IPv4 address, IPv6 /64: connectionLimits.sourceKey) may make per window; 0: no limit. */
  readonly maxRequestsPerSource: number;
  readonly windowMs: number;
  /** Sources tracked at most; a new source beyond evicts the least recently seen one. */
  readonly maxSources: number;
}

const MAX_COUNT = 1_000_000;
const MAX_WINDOW_MS = 3_600_000;

/** Checks a limit: counts 0..1,000,000 (maxSources at least 1), a window of 1 ms..1 h. */
export function checkRateLimit(l: RequestRateLimit): RequestRateLimit {
  if (!Number.isInteger(l.maxRequestsPerSource) || l.maxRequestsPerSource < 0 || l.maxRequestsPerSource > MAX_COUNT) {
    throw new McimError('INVALID_ARGUMENT', `maxRequestsPerSource is 0 to ${MAX_COUNT}, got ${l.maxRequestsPerSource}`);
  }
  if (!Number.isInteger(l.maxSources) || l.maxSources < 1 || l.maxSources > MAX_COUNT) throw new McimError('INVALID_ARGUMENT', `maxSources is 1 to ${MAX_COUNT}, got ${l.maxSources}`);
  if (!Number.isInteger(l.windowMs) || l.windowMs < 1 || l.windowMs > MAX_WINDOW_MS) throw new McimError('INVALID_ARGUMENT', `windowMs is 1 to ${MAX_WINDOW_MS} ms, got ${l.windowMs}`);
  return l;
}

interface Window {
  start: number;
  count: number;
}

/**
 * Counts each source's requests in a fixed window starting at its first request. The table holds at most maxSources
 * entries, kept in order of last use (a Map re-inserted on each request): a new source in a full table evicts the least
 * recently seen one, which then starts again from zero (memory stays bounded; an attacker with more addresses than the
 * table holds can reset its own counts, not exceed the rate per address). Work per request: O(1).
 */
export class SourceRateLimiter {
  readonly #limit: RequestRateLimit;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();

  constructor(limit: RequestRateLimit, now: () => number = Date.now) {
    this.#limit = checkRateLimit(limit);
    this.#now = now;
  }

  /** Counts a request of `source`: true when it is within the limit, false when refused (a refused request counts too). */
  admit(source: string): boolean {
    if (this.#limit.maxRequestsPerSource === 0) return true;
    const now = this.#now();
    let w = this.#windows.get(source);
    if (w !== undefined) this.#windows.delete(source);
    else if (this.#windows.size >= this.#limit.maxSources) this.#windows.delete(this.#windows.keys().next().value!);
    if (w === undefined || now - w.start >= this.#limit.windowMs) w = { start: now, count: 0 };
    w.count++;
    this.#windows.set(source, w);
    return w.count <= this.#limit.maxRequestsPerSource;
  }

  /** Milliseconds until `source`'s window ends (0 when it has none). */
  retryAfterMs(source: string): number {
    const w = this.#windows.get(source);
    return w === undefined ? 0 : Math.max(0, w.start + this.#limit.windowMs - this.#now());
  }

  /** Sources tracked now. */
  get size(): number {
    return this.#windows.size;
  }
}

/** A cap on requests in progress at once: enter() refuses beyond it; every admitted request leaves once. */
export class ConcurrencyGate {
  readonly #max: number;
  #active = 0;

  /** `max` 0: no cap. */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0 || max > MAX_COUNT) throw new McimError('INVALID_ARGUMENT', `the concurrent request cap is 0 to ${MAX_COUNT}, got ${max}`);
    this.#max = max;
  }

  /** Takes a place: a function that gives it back (idempotent), or undefined when the cap is reached. */
  enter(): (() => void) | undefined {
    if (this.#max !== 0 && this.#active >= this.#max) return undefined;
    this.#active++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#active--;
    };
  }

  get active(): number {
    return this.#active;
  }
}
