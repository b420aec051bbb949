// SGP.32 v1.2 3.6 (notifications through the eIM) with SGP.22 5.6.4 ES9+.HandleNotification: the eUICC notifications the eIM has taken over, delivered to the SM-DP+ at their notificationAddress as signed, with retries and backoff; the IPA may delete them once the eIM has stored them.
import { McimError } from '../errors.js';
import { callEs9Plus } from '../http/es9plusCaller.js';
import type { Forward } from '../store/eimRelayStore.js';
import type { RelayContext } from './relayContext.js';

export interface ForwarderOptions {
  /** Delay after the first failed attempt (default 1 s), doubled each time up to maxDelayMs (default 5 minutes). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Attempts before a forward is given up (state failed; default 20). */
  readonly maxAttempts?: number;
  /** Called when a delivery attempt fails (the next one is scheduled) or is given up. */
  readonly onFailure?: (f: Forward, error: string, givenUp: boolean) => void;
}

/** Forwards taken per round; the next round follows at once while some are due. */
const BATCH = 32;

export class NotificationForwarder {
  readonly #relay: RelayContext;
  readonly #now: () => number;
  readonly #o: Required<Omit<ForwarderOptions, 'onFailure'>> & Pick<ForwarderOptions, 'onFailure'>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(relay: RelayContext, now: () => number, o: ForwarderOptions = {}) {
    this.#relay = relay;
    this.#now = now;
    this.#o = { baseDelayMs: o.baseDelayMs ?? 1000, maxDelayMs: o.maxDelayMs ?? 300_000, maxAttempts: o.maxAttempts ?? 20, ...(o.onFailure === undefined ? {} : { onFailure: o.onFailure }) };
  }

  /**
   * Takes a notification over (stored before this returns, once per EID and seqNumber) and starts its delivery. One
   * whose address is not an SM-DP+ the eIM may call is not taken: false.
   */
  async take(eid: string, seqNumber: number, address: string, notification: Buffer): Promise<boolean> {
    if (!this.#relay.allows(address)) return false;
    await this.#relay.store.addForward({ eid, seqNumber, address, notification }, this.#now());
    this.kick();
    return true;
  }

  /** Delivers what is due now, then sleeps until the next forward is due. */
  kick(): void {
    if (this.#closed) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // A store failure ends the round; the timer tries again.
    this.#running = this.#rounds().catch(() => undefined).finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      } else {
        void this.#schedule();
      }
    });
  }

  /** Stops: no new round; the one under way finishes. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  async #schedule(): Promise<void> {
    if (this.#closed) return;
    // With nothing due, a look every maxDelayMs anyway: forwards another process leased and never finished come back.
    const at = (await this.#relay.store.nextForwardAt().catch(() => undefined)) ?? this.#now() + this.#o.maxDelayMs;
    if (this.#closed || this.#running !== undefined) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.kick(), Math.max(0, Math.min(at - this.#now(), this.#o.maxDelayMs)));
    this.#timer.unref();
  }

  async #rounds(): Promise<void> {
    for (;;) {
      if (this.#closed) return;
      const due = await this.#relay.store.dueForwards(this.#now(), BATCH);
      for (const f of due) await this.#deliver(f);
      if (due.length < BATCH) return;
    }
  }

  async #deliver(f: Forward): Promise<void> {
    // The lease: past the call's timeout, another process may take it again.
    if (!(await this.#relay.store.claimForward(f, this.#now() + this.#relay.timeoutMs + 5_000))) return;
    try {
      await callEs9Plus(f.address, 'handleNotification', { pendingNotification: f.notification }, this.#relay.es9);
      await this.#relay.store.forwardDelivered(f, this.#now());
    } catch (e) {
      if (!(e instanceof McimError)) throw e;
      const givenUp = f.attempts + 1 >= this.#o.maxAttempts;
      const delay = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** Math.min(f.attempts, 30));
      await this.#relay.store.forwardFailed(f, e.message, givenUp ? undefined : this.#now() + delay);
      this.#o.onFailure?.(f, e.message, givenUp);
    }
  }
}
