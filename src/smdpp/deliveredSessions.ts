// The eUICC of each session this process delivered a bound profile package to (SGP.22 3.1.3, 3.5): the installation result is verified without reading the session again.
// An ES9+ session usually runs on one TLS connection, so the process that delivered the package also gets its Profile
// Installation Result. What is kept never changes once a session is authenticated (its EID and the eUICC certificate
// whose chain verified), so a hit answers exactly what the session row would; a miss (another process delivered, the
// entry went out, a second PIR) reads the row as before. Entries are made only on a delivery, after the eUICC
// authenticated: nobody without an eUICC fills it, and it is bounded in entries all the same.
import type { GsmaCertificate } from '../pki/certificate.js';

/** Default bound: deliveries awaiting their PIR in one process (a PIR follows its delivery within seconds). */
export const DEFAULT_DELIVERED_SESSIONS = 2048;

/** What the PIR of a delivered session is checked against. */
export interface DeliveredSession {
  readonly eid: string;
  /** The eUICC certificate the session authenticated with (parsed; its chain verified then). */
  readonly certificate: GsmaCertificate;
}

export class DeliveredSessions {
  readonly #max: number;
  readonly #entries = new Map<string, DeliveredSession>();

  constructor(max = DEFAULT_DELIVERED_SESSIONS) {
    if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`the delivered-session bound must be a non-negative integer, got ${max}`);
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Keeps the session of `transactionId` (upper-case hex); the oldest entry goes when the bound is reached. */
  remember(transactionId: string, session: DeliveredSession): void {
    if (this.#max === 0) return;
    this.#entries.delete(transactionId);
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(transactionId, session);
  }

  /** The session of `transactionId`, removed: one PIR per delivery (a replay or a second PIR reads the session row). */
  take(transactionId: string): DeliveredSession | undefined {
    const session = this.#entries.get(transactionId);
    if (session !== undefined) this.#entries.delete(transactionId);
    return session;
  }
}
