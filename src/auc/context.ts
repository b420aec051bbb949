// The AuC's state and settings shared by its functions (TS 33.501 6.1.3.2: the pending 5G AKA authentications' lifetime and bound).
import { randomBytes } from 'node:crypto';
import type { AucStore } from '../store/aucStore.js';

export interface AucOptions {
  /** How long a 5G AKA authentication waits for RES* (default 60 s). */
  readonly pendingTtlMs?: number;
  /** Authentications of one subscriber waiting for RES* at once: older ones are dropped (default 4). */
  readonly maxPendingPerSubscriber?: number;
  /** Random bytes (RAND, authentication context IDs); default node:crypto randomBytes. */
  readonly random?: (n: number) => Buffer;
  /** Default Date.now. */
  readonly now?: () => number;
}

export interface AucContext {
  readonly store: AucStore;
  readonly pendingTtlMs: number;
  readonly maxPendingPerSubscriber: number;
  readonly random: (n: number) => Buffer;
  readonly now: () => number;
}

export function createAucContext(store: AucStore, options: AucOptions = {}): AucContext {
  return {
    store,
    pendingTtlMs: options.pendingTtlMs ?? 60_000,
    maxPendingPerSubscriber: options.maxPendingPerSubscriber ?? 4,
    random: options.random ?? randomBytes,
    now: options.now ?? Date.now,
  };
}
