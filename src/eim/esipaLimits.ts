// Abuse bounds of the eIM's ESipa interface (SGP.32 v1.2 6.1-6.4 over HTTPS, docs/operations.md "ESipa limits"): ESipa needs no client credential, so requests are limited per source address and in total before any body is read or any database touched.
import type { FastifyInstance } from 'fastify';
import { sourceKey } from '../http/connectionLimits.js';
import { ADMIN_PROTOCOL, failureHeader } from '../http/jsonBinding.js';
import { checkRateLimit, ConcurrencyGate, SourceRateLimiter, type RequestRateLimit } from '../http/requestLimits.js';

export interface EsipaLimits extends RequestRateLimit {
  /** ESipa requests in progress at once in this process; beyond it: HTTP 503 (0: no cap). */
  readonly maxConcurrentRequests: number;
}

export const DEFAULT_ESIPA_LIMITS: EsipaLimits = {
  maxRequestsPerSource: 600,
  windowMs: 60_000,
  maxSources: 10_000,
  maxConcurrentRequests: 256,
};

/** The limits with each given one replacing its default, checked. */
export function esipaLimits(given: Partial<EsipaLimits> = {}): EsipaLimits {
  const limits: EsipaLimits = { ...DEFAULT_ESIPA_LIMITS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  checkRateLimit(limits);
  return limits;
}

/** The JSON binding's answer to a limited request: SGP.22's 1.2 / 4.4 (the function provider is busy), as the SM-DP+ answers a source over its limits. */
export const ESIPA_LIMITED_STATUS = { subjectCode: '1.2', reasonCode: '4.4' } as const;

export type LimitedBy = 'rate' | 'concurrency';

/**
 * Guards the ESipa routes (paths starting with one of `prefixes`) of `app`, on each request's arrival (before its body
 * is read): a source over its rate is answered HTTP 429, a request beyond the concurrency cap HTTP 503, both with
 * Retry-After (seconds) and X-Admin-Protocol; on the JSON binding (`jsonPrefix`) with a Failed header, 1.2 / 4.4; on the
 * ASN.1 binding without a body. Other routes (the fleet API) are not counted.
 */
export function limitEsipa(
  app: FastifyInstance,
  o: { limits: EsipaLimits; prefixes: readonly string[]; jsonPrefix: string; now?: () => number; onLimited?: (by: LimitedBy, source: string) => void },
): { readonly rate: SourceRateLimiter; readonly gate: ConcurrencyGate } {
  const rate = new SourceRateLimiter(o.limits, o.now);
  const gate = new ConcurrencyGate(o.limits.maxConcurrentRequests);
  app.addHook('onRequest', (request, reply, done) => {
    const url = request.url;
    if (!o.prefixes.some((p) => url.startsWith(p))) {
      done();
      return;
    }
    const source = sourceKey(request.ip);
    const refuse = (by: LimitedBy, status: number, retryAfterS: number): void => {
      o.onLimited?.(by, source);
      void reply.code(status).header('X-Admin-Protocol', ADMIN_PROTOCOL).header('Retry-After', String(retryAfterS));
      if (url.startsWith(o.jsonPrefix)) {
        const message = by === 'rate' ? 'too many requests from this source: try again later' : 'the eIM is busy: try again later';
        void reply.send({ header: failureHeader({ ...ESIPA_LIMITED_STATUS, message }) });
      } else {
        void reply.send();
      }
    };
    if (!rate.admit(source)) {
      refuse('rate', 429, Math.max(1, Math.ceil(rate.retryAfterMs(source) / 1000)));
      return;
    }
    const leave = gate.enter();
    if (leave === undefined) {
      refuse('concurrency', 503, 1);
      return;
    }
    // 'close' comes once the response is sent or the connection is gone, whichever first.
    reply.raw.once('close', leave);
    done();
  });
  return { rate, gate };
}
