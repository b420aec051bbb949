// The SM-DP+'s security events (docs/operations.md "Logs and security events"): one typed sink, logged as JSON lines and counted in the metrics.
import type { StatusCodeData } from '../http/jsonBinding.js';
import type { Logger } from '../http/logging.js';
import type { ServerMetrics } from '../http/metrics.js';
import type { CallRecord } from '../http/server.js';
import type { NotificationResult } from './es9plus/handleNotification.js';

/** Who made the request: its IP address as the socket reports it. */
interface FromClient {
  readonly client?: string;
}

/** An ES9+ function that ended Failed: which, with what code, for which transaction and eUICC. */
export interface FunctionFailedEvent extends FromClient {
  readonly function: string;
  readonly subjectCode: string;
  readonly reasonCode: string;
  readonly message?: string;
  /** Logged by its prefix only (src/http/logging.ts). */
  readonly transactionId?: string;
  readonly eid?: string;
}

/** A rate limit or lockout keyed by a source address, an EID or an order. */
export interface LimitEvent extends FromClient {
  /** What the limit counts by: e.g. 'source', 'eid', 'matchingId'. */
  readonly scope: string;
  /**
   * What is limited within the scope (an address, an EID); never a secret. Not named `key`: the redaction rule drops
   * fields of that name.
   */
  readonly subject: string;
  readonly reason?: string;
  /** When the lockout ends, ms since the epoch. */
  readonly until?: number;
}

/**
 * Every event name with its fields. Other parts of the SM-DP+ add their events here (one line each) and raise them with
 * `ctx.events.securityEvent(name, fields)`.
 */
export interface SecurityEventMap {
  /** Any ES9+ Failed status but the two below: authentication, certificates, transaction, order, malformed input. */
  'es9.failed': FunctionFailedEvent;
  /** 8.2.6/3.8 at AuthenticateClient: a matching ID no order has (guessing shows as a stream of these). */
  'matchingId.refused': FunctionFailedEvent;
  /** 8.2.7 at GetBoundProfilePackage (or 6.4 at AuthenticateClient): a confirmation code missing, wrong, or exhausted. */
  'confirmationCode.failed': FunctionFailedEvent;
  /** A HandleNotification that did not verify or does not belong to its sender: nothing changed. */
  'notification.discarded': FromClient & { readonly reason: string; readonly eid?: string };
  /** A notification already recorded (same EID and sequence number): nothing changed. */
  'notification.replayed': FromClient & { readonly eid?: string };
  /** A request refused by a rate limit. */
  'rateLimit.hit': LimitEvent;
  /** A key locked out (authentication or matching-ID failures over the limit). */
  'lockout.started': LimitEvent;
}

export type SecurityEventName = keyof SecurityEventMap;

export interface SecurityEvents {
  securityEvent<N extends SecurityEventName>(name: N, fields: SecurityEventMap[N]): void;
}

/** Events that go nowhere (an SM-DP+ built without a logger or metrics). */
export const NO_SECURITY_EVENTS: SecurityEvents = { securityEvent: () => undefined };

/** Level of each event: refusals an attacker causes are warnings; a replay is normal retry behaviour. */
const LEVEL: Readonly<Record<SecurityEventName, 'info' | 'warn'>> = {
  'es9.failed': 'warn',
  'matchingId.refused': 'warn',
  'confirmationCode.failed': 'warn',
  'notification.discarded': 'warn',
  'notification.replayed': 'info',
  'rateLimit.hit': 'warn',
  'lockout.started': 'warn',
};

/** How repeated events are logged: the first `burst` lines per kind and client in each window, the rest as one summary. */
export interface CoalescingPolicy {
  readonly windowMs: number;
  readonly burst: number;
  /** Kinds tracked at once; beyond, new kinds share one overflow kind (memory stays bounded under any flood). */
  readonly maxKinds: number;
}

export const DEFAULT_COALESCING: CoalescingPolicy = { windowMs: 10_000, burst: 10, maxKinds: 4096 };

/** The kind of an event for coalescing: its name, the client, and its status code or its limit. */
function kindOf(name: SecurityEventName, fields: SecurityEventMap[SecurityEventName]): string {
  const f = fields as Partial<FunctionFailedEvent & LimitEvent>;
  return `${name}|${f.client ?? ''}|${f.subjectCode ?? f.scope ?? ''}/${f.reasonCode ?? f.subject ?? ''}`;
}

interface Window {
  readonly name: SecurityEventName;
  /** The last event's fields (the summary repeats them). */
  fields: Record<string, unknown>;
  startedAt: number;
  logged: number;
  suppressed: number;
}

/**
 * Logs the first `burst` events of each kind per window and counts the others: when the window ends, one summary line
 * (the event's last fields with `suppressed` and `windowMs`) says how many were not logged. A client flooding the
 * SM-DP+ with refused requests costs a few lines per window instead of one per request; the metrics count every event.
 */
class EventCoalescer {
  readonly #policy: CoalescingPolicy;
  readonly #now: () => number;
  readonly #summarize: (name: SecurityEventName, line: Record<string, unknown>) => void;
  readonly #windows = new Map<string, Window>();

  constructor(policy: CoalescingPolicy, now: () => number, summarize: (name: SecurityEventName, line: Record<string, unknown>) => void) {
    this.#policy = policy;
    this.#now = now;
    this.#summarize = summarize;
  }

  /** True when this event is to be logged; otherwise it is counted in its window's summary. */
  admit(name: SecurityEventName, fields: Record<string, unknown>): boolean {
    const now = this.#now();
    let kind = kindOf(name, fields as SecurityEventMap[SecurityEventName]);
    if (!this.#windows.has(kind) && this.#windows.size >= this.#policy.maxKinds) {
      this.flush(now);
      if (this.#windows.size >= this.#policy.maxKinds) kind = `${name}|overflow`;
    }
    let w = this.#windows.get(kind);
    if (w !== undefined && now - w.startedAt >= this.#policy.windowMs) {
      this.#close(kind, w);
      w = undefined;
    }
    if (w === undefined) {
      w = { name, fields, startedAt: now, logged: 0, suppressed: 0 };
      this.#windows.set(kind, w);
    }
    if (w.logged < this.#policy.burst) {
      w.logged++;
      return true;
    }
    w.suppressed++;
    w.fields = fields;
    return false;
  }

  /** Ends the windows that are over at `now` (each with its summary, if it suppressed any); at +Infinity, all of them. */
  flush(now = this.#now()): void {
    for (const [kind, w] of this.#windows) if (now - w.startedAt >= this.#policy.windowMs) this.#close(kind, w);
  }

  #close(kind: string, w: Window): void {
    this.#windows.delete(kind);
    if (w.suppressed > 0) this.#summarize(w.name, { event: w.name, ...w.fields, suppressed: w.suppressed, windowMs: this.#policy.windowMs });
  }
}

export interface SecurityEventSinkOptions {
  readonly coalescing?: CoalescingPolicy;
  readonly clock?: () => number;
}

/**
 * The sink: a JSON line per event (`event` names it, the message is the same), repeated ones coalesced per kind and
 * client (EventCoalescer), and one count per event in the metrics. `close` writes the pending summaries and stops their timer.
 */
export function securityEventSink(
  logger: Logger | undefined,
  metrics: ServerMetrics | undefined,
  options: SecurityEventSinkOptions = {},
): SecurityEvents & { close(): void } {
  if (logger === undefined && metrics === undefined) return { ...NO_SECURITY_EVENTS, close: () => undefined };
  const policy = options.coalescing ?? DEFAULT_COALESCING;
  const log = (name: SecurityEventName, line: Record<string, unknown>) => logger?.[LEVEL[name]](line, name as string);
  const coalescer = new EventCoalescer(policy, options.clock ?? Date.now, log);
  // Summaries of kinds that went quiet are written within a window of its end; the timer never keeps the process up.
  const timer = logger === undefined ? undefined : setInterval(() => coalescer.flush(), policy.windowMs).unref();
  return {
    securityEvent(name, fields) {
      const line: Record<string, unknown> = { event: name, ...fields };
      if (logger !== undefined && coalescer.admit(name, line)) log(name, line);
      metrics?.securityEvent(name);
      if (name === 'rateLimit.hit') metrics?.rateLimitHit((fields as LimitEvent).scope);
    },
    close: () => {
      clearInterval(timer);
      coalescer.flush(Number.POSITIVE_INFINITY);
    },
  };
}

function eventOfFailure(status: StatusCodeData): SecurityEventName {
  if (status.subjectCode === '8.2.7') return 'confirmationCode.failed';
  if (status.subjectCode === '8.2.6') return 'matchingId.refused';
  return 'es9.failed';
}

/** registerJsonFunction's observer: every Failed or refused call is one event, every call counted in the metrics. */
export function callObserver(events: SecurityEvents, metrics: ServerMetrics | undefined): (call: CallRecord) => void {
  return (call) => {
    metrics?.observeCall(call);
    if (call.status === undefined) return;
    const fields: FunctionFailedEvent = {
      function: call.path.slice(call.path.lastIndexOf('/') + 1),
      subjectCode: call.status.subjectCode,
      reasonCode: call.status.reasonCode,
      message: call.status.message,
      transactionId: call.transactionId,
      eid: call.notes.eid,
      client: call.client.address,
    };
    events.securityEvent(eventOfFailure(call.status), fields);
  };
}

/** HandleNotification's outcome as an event: discarded and replayed notifications (recorded ones are in the audit trail). */
export function notificationEvent(events: SecurityEvents, result: NotificationResult, client: string, eid: string | undefined): void {
  if (result.outcome === 'discarded') events.securityEvent('notification.discarded', { reason: result.reason, client, eid });
  else if (result.outcome === 'replayed') events.securityEvent('notification.replayed', { client, eid });
}
