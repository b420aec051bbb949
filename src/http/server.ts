// HTTPS plumbing for GSMA RSP JSON functions (SGP.22 6.5 JSON binding): fastify over TLS, header checks, status envelopes, no logging of bodies.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  ADMIN_PROTOCOL,
  ADMIN_PROTOCOL_PATTERN,
  FunctionFailure,
  RequestFields,
  failureHeader,
  successHeader,
  type ResponseHeader,
} from './jsonBinding.js';

export interface HttpsOptions {
  /** PEM private key and certificate chain of the TLS server (CERT.DP.TLS). */
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** Highest TLS version (default TLS 1.3): TLS 1.2 for a brainpool certificate, see docs/brainpool-tls.md. */
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** ECDHE groups, OpenSSL names separated by ':' (default: OpenSSL's, which omit brainpool). */
  readonly ecdhCurve?: string;
  /** Largest request body accepted, in bytes (default 1 MiB). */
  readonly bodyLimit?: number;
}

/** Result of a JSON function: a response body (header added here), or `noContent` for HTTP 204. */
export type FunctionResult = { readonly body: Record<string, unknown> } | { readonly noContent: true };

export type JsonFunction = (fields: RequestFields) => Promise<FunctionResult>;

/** A fastify instance serving HTTPS with the logger off: request bodies carry secrets and are never logged. */
export function createHttpsServer(options: HttpsOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // A client that trickles its request or holds a socket idle cannot pin server resources for long.
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    https: {
      key: options.key,
      cert: options.cert,
      minVersion: 'TLSv1.2',
      ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
      ...(options.ecdhCurve === undefined ? {} : { ecdhCurve: options.ecdhCurve }),
    },
  });
  // Bodies that are not JSON get the binding's invalid-format status instead of fastify's default error.
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    const data =
      status === 500
        ? { subjectCode: '1.2', reasonCode: '4.2', message: 'internal error' }
        : { subjectCode: '1.1', reasonCode: '2.1', message: `malformed request: ${error.message}` };
    void reply.code(status).header('X-Admin-Protocol', ADMIN_PROTOCOL).send({ header: failureHeader(data) });
  });
  return app;
}

function send(reply: FastifyReply, status: number, header: ResponseHeader, body: Record<string, unknown> = {}): FastifyReply {
  return reply
    .code(status)
    .header('X-Admin-Protocol', ADMIN_PROTOCOL)
    .header('Content-Type', 'application/json;charset=UTF-8')
    .send({ header, ...body });
}

/**
 * Registers `POST path` as a JSON-binding function: checks X-Admin-Protocol (v2.x.y), reads the JSON object, runs
 * `fn`, and answers 200 with `header.functionExecutionStatus` (Executed-Success, or Failed with statusCodeData),
 * or 204. Unexpected errors answer 500 with a generic message and are reported to `onInternalError`.
 */
export function registerJsonFunction(app: FastifyInstance, path: string, fn: JsonFunction, onInternalError: (e: unknown) => void): void {
  app.post(path, async (request: FastifyRequest, reply: FastifyReply) => {
    const protocol = request.headers['x-admin-protocol'];
    if (typeof protocol !== 'string' || !ADMIN_PROTOCOL_PATTERN.test(protocol)) {
      return send(reply, 400, failureHeader({ subjectCode: '8.8.3', reasonCode: '3.1', message: `unsupported X-Admin-Protocol '${String(protocol)}': expected gsma/rsp/v2.x.y` }));
    }
    try {
      const result = await fn(new RequestFields(request.body));
      if ('noContent' in result) return reply.code(204).header('X-Admin-Protocol', ADMIN_PROTOCOL).send();
      return send(reply, 200, successHeader(), result.body);
    } catch (e) {
      if (e instanceof FunctionFailure) return send(reply, 200, failureHeader(e.statusCodeData));
      onInternalError(e);
      return send(reply, 500, failureHeader({ subjectCode: '1.2', reasonCode: '4.2', message: 'internal error' }));
    }
  });
}
