// The SM-DP+'s ES9+ interface over HTTPS (SGP.22 5.6, JSON binding 6.5): POST /gsma/rsp2/es9plus/<function>.
import type { FastifyInstance } from 'fastify';
import { ES9PLUS_FUNCTIONS } from '../http/es9plusFunctions.js';
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
  const es9 = ES9PLUS_FUNCTIONS;
  registerJsonFunction(app, `${ES9PLUS_PATH}/initiateAuthentication`, es9.initiateAuthentication, (r, client) => initiateAuthentication(ctx, r, client), onError);
  registerJsonFunction(app, `${ES9PLUS_PATH}/authenticateClient`, es9.authenticateClient, (r, client) => authenticateClient(ctx, r, client), onError);
  registerJsonFunction(app, `${ES9PLUS_PATH}/getBoundProfilePackage`, es9.getBoundProfilePackage, (r) => getBoundProfilePackage(ctx, r), onError);
  registerJsonFunction(app, `${ES9PLUS_PATH}/handleNotification`, es9.handleNotification, (r) => handleNotification(ctx, r, onNotification), onError);
  registerJsonFunction(app, `${ES9PLUS_PATH}/cancelSession`, es9.cancelSession, (r) => cancelSession(ctx, r), onError);
  return { app, context: ctx };
}
