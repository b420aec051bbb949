// The SM-DP+'s ES9+ interface over HTTPS (SGP.22 5.6, JSON binding 6.5): POST /gsma/rsp2/es9plus/<function>.
import type { FastifyInstance } from 'fastify';
import { ES9PLUS_FUNCTIONS } from '../http/es9plusFunctions.js';
import type { Logger } from '../http/logging.js';
import type { ServerMetrics } from '../http/metrics.js';
import { createHttpsServer, registerJsonFunction, type ClientInfo, type HttpsOptions } from '../http/server.js';
import { smdpContext, type SmdpContext, type SmdpOptions } from './context.js';
import { authenticateClient } from './es9plus/authenticateClient.js';
import { cancelSession } from './es9plus/cancelSession.js';
import { getBoundProfilePackage } from './es9plus/getBoundProfilePackage.js';
import { handleNotification, type NotificationResult } from './es9plus/handleNotification.js';
import { initiateAuthentication } from './es9plus/initiateAuthentication.js';
import { callObserver, notificationEvent, securityEventSink } from './securityEvents.js';

export const ES9PLUS_PATH = '/gsma/rsp2/es9plus';

export interface SmdpServerOptions extends SmdpOptions {
  /** CERT.DP.TLS and its key (PEM). */
  readonly tls: HttpsOptions;
  /** Called with every notification's fate (recorded, replayed, discarded and why). */
  readonly onNotification?: (result: NotificationResult) => void;
  /** Called with unexpected errors (the client sees a generic internal error). */
  readonly onInternalError?: (error: unknown) => void;
  /** Structured logs (src/http/logging.ts): security events and internal errors; none: no logs. */
  readonly logger?: Logger;
  /** Counters and histograms for the metrics endpoint (src/http/metrics.ts). */
  readonly metrics?: ServerMetrics;
}

export interface SmdpServer {
  readonly app: FastifyInstance;
  readonly context: SmdpContext;
}

/** Builds the ES9+ HTTPS server; call `app.listen({ host, port })` to serve. */
export function createSmdpServer(options: SmdpServerOptions): SmdpServer {
  const { logger, metrics } = options;
  const sink = options.events === undefined ? securityEventSink(logger, metrics) : undefined;
  const events = options.events ?? sink!;
  const ctx = smdpContext({ ...options, events });
  // The SM-DP+ logs through its own calls (security events, internal errors), not through fastify's request logger.
  const app = createHttpsServer(options.tls);
  if (sink !== undefined) app.addHook('onClose', async () => sink.close());
  if (metrics !== undefined) metrics.trackConnections(app.server);
  const onError = (e: unknown): void => {
    logger?.error({ err: e }, 'internal error');
    options.onInternalError?.(e);
  };
  const onNotification = (result: NotificationResult, client: ClientInfo): void => {
    notificationEvent(events, result, client.address, client.notes.eid);
    options.onNotification?.(result);
  };
  // Every call's outcome goes through one observer: Failed statuses become security events, all calls metrics.
  const observe = callObserver(events, metrics);
  const es9 = ES9PLUS_FUNCTIONS;
  registerJsonFunction(app, `${ES9PLUS_PATH}/initiateAuthentication`, es9.initiateAuthentication, (r, client) => initiateAuthentication(ctx, r, client), onError, observe);
  registerJsonFunction(app, `${ES9PLUS_PATH}/authenticateClient`, es9.authenticateClient, (r, client) => authenticateClient(ctx, r, client), onError, observe);
  registerJsonFunction(app, `${ES9PLUS_PATH}/getBoundProfilePackage`, es9.getBoundProfilePackage, (r, client) => getBoundProfilePackage(ctx, r, client), onError, observe);
  registerJsonFunction(app, `${ES9PLUS_PATH}/handleNotification`, es9.handleNotification, (r, client) => handleNotification(ctx, r, (n) => onNotification(n, client)), onError, observe);
  registerJsonFunction(app, `${ES9PLUS_PATH}/cancelSession`, es9.cancelSession, (r, client) => cancelSession(ctx, r, client), onError, observe);
  return { app, context: ctx };
}
