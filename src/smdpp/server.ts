// The SM-DP+'s ES9+ interface over HTTPS (SGP.22 5.6, JSON binding 6.5): POST /gsma/rsp2/es9plus/<function>.
import type { FastifyInstance } from 'fastify';
import { createHttpsServer, registerJsonFunction, type HttpsOptions } from '../http/server.js';
import { smdpContext, type SmdpContext, type SmdpOptions } from './context.js';
import { authenticateClient } from './es9plus/authenticateClient.js';
import { cancelSession } from './es9plus/cancelSession.js';
import { getBoundProfilePackage } from './es9plus/getBoundProfilePackage.js';
import { handleNotification, type NotificationResult } from './es9plus/handleNotification.js';
import { initiateAuthentication } from './es9plus/initiateAuthentication.js';

export const ES9PLUS_PATH = '/gsma/rsp2/es9plus';

export interface SmdpServerOptions extends SmdpOptions {
  /** CERT.DP.TLS and its key (PEM). */
  readonly tls: HttpsOptions;
  /** Called with every notification's fate (recorded, replayed, discarded and why). */
  readonly onNotification?: (result: NotificationResult) => void;
  /** Called with unexpected errors (the client sees a generic internal error). */
  readonly onInternalError?: (error: unknown) => void;
}

export interface SmdpServer {
  readonly app: FastifyInstance;
  readonly context: SmdpContext;
}

/** Builds the ES9+ HTTPS server; call `app.listen({ host, port })` to serve. */
export function createSmdpServer(options: SmdpServerOptions): SmdpServer {
  const ctx = smdpContext(options);
  const app = createHttpsServer(options.tls);
  const onError = options.onInternalError ?? (() => undefined);
  const onNotification = options.onNotification ?? (() => undefined);
  registerJsonFunction(app, `${ES9PLUS_PATH}/initiateAuthentication`, (f) => initiateAuthentication(ctx, f), onError);
  registerJsonFunction(app, `${ES9PLUS_PATH}/authenticateClient`, (f) => authenticateClient(ctx, f), onError);
  registerJsonFunction(app, `${ES9PLUS_PATH}/getBoundProfilePackage`, (f) => getBoundProfilePackage(ctx, f), onError);
  registerJsonFunction(app, `${ES9PLUS_PATH}/handleNotification`, (f) => handleNotification(ctx, f, onNotification), onError);
  registerJsonFunction(app, `${ES9PLUS_PATH}/cancelSession`, (f) => cancelSession(ctx, f), onError);
  return { app, context: ctx };
}
