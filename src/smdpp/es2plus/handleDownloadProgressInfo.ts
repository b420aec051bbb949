// ES2+.HandleDownloadProgressInfo (SGP.22 5.3.5), the SM-DP+ calling the operator: entries of the progress outbox delivered to the operator's endpoint with retries and backoff until it accepts one (HTTP 204, or 200 Executed-Success).
import { ES2PLUS_PATH } from '../../http/es2plusFunctions.js';
import { postJson, type JsonClientOptions } from '../../http/jsonClient.js';
import type { OperatorTenants } from '../../store/operatorTenants.js';
import type { LeasedEntry, ProgressOutbox } from '../../store/progressOutbox.js';

/** Where each notification point is reached (SGP.22 5.3.5 Table 32a; 100 and above: mcim's own, agreed with the operator). */
export const NOTIFICATION_POINT = {
  eligibilityAndRetryLimit: 1,
  confirmationFailure: 2,
  bppDownload: 3,
  bppInstallation: 4,
  profileEnabled: 100,
  profileDisabled: 101,
  profileDeleted: 102,
} as const;

export interface ProgressDeliveryOptions {
  readonly outbox: ProgressOutbox;
  readonly tenants: OperatorTenants;
  /** The SM-DP+'s functionRequesterIdentifier in the header of its calls (its OID). */
  readonly requesterIdentifier: string;
  /** The SM-DP+'s TLS client certificate and key (ES2+ is mutually authenticated). */
  readonly tls: Pick<JsonClientOptions, 'cert' | 'key'>;
  readonly now: () => number;
  /** Entries leased per round (default 20), lease length (default 60 s: above the call timeout). */
  readonly batch?: number;
  readonly leaseMs?: number;
  readonly timeoutMs?: number;
  /** First retry delay and the longest one (defaults 5 s and 1 h), doubling in between. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Called with each attempt's outcome, for logs (no payload secrets: there are none). */
  readonly onAttempt?: (entry: LeasedEntry, outcome: { delivered: boolean; error?: string }) => void;
}

/** The delay before attempt n+1 after n failed ones: doubling from the initial backoff, capped, with 0-20 % jitter. */
export function backoffMs(failedAttempts: number, initial: number, max: number): number {
  const base = Math.min(max, initial * 2 ** Math.min(failedAttempts, 30));
  return Math.round(base * (1 + Math.random() * 0.2));
}

/** A call's outcome: accepted (204, or 200 with Executed-Success), else why not. */
function accepted(status: number, body: unknown): string | undefined {
  if (status === 204) return undefined;
  if (status === 200) {
    const execution = (body as { header?: { functionExecutionStatus?: { status?: unknown } } } | undefined)?.header?.functionExecutionStatus?.status;
    if (execution === 'Executed-Success' || execution === 'Executed-WithWarning') return undefined;
    return `the operator answered status ${String(execution)}`;
  }
  return `the operator answered HTTP ${status}`;
}

/** One round: leases due entries and calls each operator's endpoint; returns how many were settled (delivered or skipped). */
export async function deliverDueProgress(options: ProgressDeliveryOptions): Promise<number> {
  const { outbox, tenants, now } = options;
  const leaseMs = options.leaseMs ?? 60_000;
  const entries = await outbox.claimDue(now(), options.batch ?? 20, leaseMs);
  let delivered = 0;
  for (const entry of entries) {
    const tenant = await tenants.get(entry.operator);
    const point = entry.payload['notificationPointId'];
    if (tenant?.notificationPoints !== undefined && typeof point === 'number' && !tenant.notificationPoints.includes(point)) {
      // A point the operator did not ask for (SGP.22 5.3.5: the points are agreed): settled without a call.
      if (await outbox.markSkipped(entry.id, entry.leaseToken, now())) delivered++;
      continue;
    }
    let error: string | undefined;
    if (tenant?.callbackUrl === undefined) {
      error = 'the operator has no callback endpoint configured';
    } else {
      const body = {
        // The same call identifier on every attempt of one entry: an operator that saw it accepted can drop a repeat (the
        // SM-DP+ may send an entry again if it stopped between the operator's answer and recording it).
        header: { functionRequesterIdentifier: options.requesterIdentifier, functionCallIdentifier: `hdpi-${entry.id}` },
        ...entry.payload,
      };
      try {
        const response = await postJson(`${tenant.callbackUrl.replace(/\/+$/, '')}${ES2PLUS_PATH}/handleDownloadProgressInfo`, body, {
          ...options.tls,
          ...(tenant.callbackCa === undefined ? {} : { ca: tenant.callbackCa }),
          timeoutMs: options.timeoutMs ?? 15_000,
        });
        error = accepted(response.status, response.body);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
    }
    if (error === undefined) {
      if (await outbox.markDelivered(entry.id, entry.leaseToken, now())) delivered++;
    } else {
      const delay = backoffMs(entry.attempts, options.initialBackoffMs ?? 5_000, options.maxBackoffMs ?? 3_600_000);
      await outbox.markFailed(entry.id, entry.leaseToken, error, now() + delay);
    }
    options.onAttempt?.(entry, error === undefined ? { delivered: true } : { delivered: false, error });
  }
  return delivered;
}

/** Delivered entries are kept this long (for `mcim operator progress`), then purged. */
export const DELIVERED_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** Rounds between two purges of old delivered entries. */
const PURGE_EVERY_ROUNDS = 600;

/** Delivers in the background every `intervalMs` (default 1 s) until stopped; a round never overlaps the next. */
export function startProgressDelivery(options: ProgressDeliveryOptions & { readonly intervalMs?: number; readonly onError?: (e: unknown) => void }): { stop: () => Promise<void> } {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let rounds = 0;
  const tick = (): void => {
    const purge = rounds++ % PURGE_EVERY_ROUNDS === 0 ? options.outbox.purgeDelivered(options.now() - DELIVERED_RETENTION_MS) : Promise.resolve(0);
    running = purge
      .then(() => deliverDueProgress(options))
      .then(() => undefined)
      .catch((e: unknown) => options.onError?.(e))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.intervalMs ?? 1_000).unref();
      });
  };
  timer = setTimeout(tick, 0).unref();
  return {
    stop: async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
