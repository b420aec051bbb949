// The SM-DP+'s ES2+ interface for operators (SGP.22 5.3, JSON binding 6.5): POST /gsma/rsp2/es2plus/<function> over mutually authenticated TLS, on its own listener.
import type { FastifyInstance } from 'fastify';
import { ES2PLUS_FUNCTIONS, ES2PLUS_PATH } from '../http/es2plusFunctions.js';
import type { Logger } from '../http/logging.js';
import { createHttpsServer, registerJsonFunction, type CallRecord, type HttpsOptions } from '../http/server.js';
import { cancelOrder } from './es2plus/cancelOrder.js';
import { confirmOrder } from './es2plus/confirmOrder.js';
import type { Es2plusContext } from './es2plus/context.js';
import { downloadOrder } from './es2plus/downloadOrder.js';
import { releaseProfile } from './es2plus/releaseProfile.js';

export interface Es2plusServerOptions {
  /** CERT.DP.TLS (or the SM-DP+'s ES2+ certificate) and its key; client certificates are required. */
  readonly tls: Omit<HttpsOptions, 'requireClientCertificate'>;
  readonly context: Es2plusContext;
  readonly logger?: Logger;
  /** Every call's outcome (no body, no field value). */
  readonly observe?: (call: CallRecord) => void;
  readonly onInternalError?: (error: unknown) => void;
}

/** Builds the ES2+ HTTPS server; call `app.listen({ host, port })` to serve. */
export function createEs2plusServer(options: Es2plusServerOptions): FastifyInstance {
  const { context: ctx, logger } = options;
  // ES2+ logs through its own calls (refusals, internal errors), not through fastify's request logger.
  const app = createHttpsServer({ ...options.tls, requireClientCertificate: true });
  const onError = (e: unknown): void => {
    logger?.error({ err: e }, 'internal error');
    options.onInternalError?.(e);
  };
  // Operators' calls are few and each one matters: every outcome is logged with the requester, never a field value.
  const observe = (call: CallRecord): void => {
    if (call.outcome !== 'success') logger?.warn({ component: 'es2plus', path: call.path, outcome: call.outcome, status: call.status, client: call.client.address }, 'ES2+ call refused');
    options.observe?.(call);
  };
  const es2 = ES2PLUS_FUNCTIONS;
  registerJsonFunction(app, `${ES2PLUS_PATH}/downloadOrder`, es2.downloadOrder, (r, client) => downloadOrder(ctx, r, client), onError, observe);
  registerJsonFunction(app, `${ES2PLUS_PATH}/confirmOrder`, es2.confirmOrder, (r, client) => confirmOrder(ctx, r, client), onError, observe);
  registerJsonFunction(app, `${ES2PLUS_PATH}/cancelOrder`, es2.cancelOrder, (r, client) => cancelOrder(ctx, r, client), onError, observe);
  registerJsonFunction(app, `${ES2PLUS_PATH}/releaseProfile`, es2.releaseProfile, (r, client) => releaseProfile(ctx, r, client), onError, observe);
  return app;
}
