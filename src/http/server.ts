// HTTPS plumbing for GSMA RSP JSON functions (SGP.22 6.5 JSON binding): fastify over TLS, header checks, status envelopes, no logging of bodies.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { connectionLimits, connectionServerOptions, limitConnections, type ConnectionLimits } from './connectionLimits.js';
import { decodeFields, encodeFields, requestBodyLimit, type Es9Function, type FieldValues } from './es9plusFunctions.js';
import { ADMIN_PROTOCOL, ADMIN_PROTOCOL_PATTERN, FunctionFailure, failureHeader, requestFieldError, successHeader, type ResponseHeader, type StatusCodeData } from './jsonBinding.js';

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
  /**
   * fastify's own logger (src/http/logging.ts: secrets redacted), for routes that log through `request.log` (the eIM's
   * fleet API); none: fastify logs nothing and makes nothing per request for logging (the SM-DP+ logs through its own
   * calls). Requests are not logged, bodies never.
   */
  readonly logger?: FastifyBaseLogger;
  /** Connection caps and timeouts; each one not given takes its default (DEFAULT_CONNECTION_LIMITS). */
  readonly connections?: Partial<ConnectionLimits>;
  /**
   * Ask every client for a TLS certificate (ES2+: mutual TLS, SGP.22 6.1). The handshake requires one; whose it is,
   * the functions decide (pinned fingerprints), so no CA list is needed here.
   */
  readonly requireClientCertificate?: boolean;
}

/** What a call learned about its subject while it ran (the EID once verified), for the event its outcome produces. */
export interface CallNotes {
  /** The EID of the eUICC the call concerns, once known (a verified signature, or the session's). */
  eid?: string;
}

/** The JSON binding's request header (SGP.22 6.5.1.3), as sent: strings of at most MAX_HEADER_FIELD characters, else absent. */
export interface RequestHeader {
  readonly functionRequesterIdentifier?: string;
  readonly functionCallIdentifier?: string;
}

/** Who called: the peer's IP address as the socket reports it, and the notes the function fills in for its observer. */
export interface ClientInfo {
  readonly address: string;
  readonly notes: CallNotes;
  /** The request's header object (ES2+ identifies its requester there). */
  readonly header?: RequestHeader;
  /** The DER of the TLS client certificate the peer presented (a server that requests one), read when asked. */
  readonly peerCertificate?: () => Buffer | undefined;
}

const MAX_HEADER_FIELD = 256;

function requestHeaderOf(body: Record<string, unknown>): RequestHeader {
  const header = body['header'];
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return {};
  const field = (name: string): string | undefined => {
    const v = (header as Record<string, unknown>)[name];
    return typeof v === 'string' && v.length <= MAX_HEADER_FIELD ? v : undefined;
  };
  const requester = field('functionRequesterIdentifier');
  const call = field('functionCallIdentifier');
  return { ...(requester === undefined ? {} : { functionRequesterIdentifier: requester }), ...(call === undefined ? {} : { functionCallIdentifier: call }) };
}

function peerCertificateOf(request: FastifyRequest): Buffer | undefined {
  const socket = request.raw.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  return cert !== null && Buffer.isBuffer(cert.raw) ? cert.raw : undefined;
}

/** One call's outcome, for logs and metrics: no body and no field value but the transaction ID. */
export interface CallRecord {
  /** The route, e.g. /gsma/rsp2/es9plus/authenticateClient. */
  readonly path: string;
  /** success, Failed status (`status` says why), X-Admin-Protocol refused (HTTP 400), or internal error (HTTP 500). */
  readonly outcome: 'success' | 'failed' | 'rejected' | 'error';
  readonly status?: StatusCodeData;
  /** From routing to answer; undefined for a request refused by the framework before the function ran (not timed). */
  readonly durationMs?: number;
  readonly client: ClientInfo;
  /** The request's transactionId (hex), when it has one that decoded. */
  readonly transactionId?: string;
  /** What the call learned about its subject (the function fills in `ClientInfo.notes`). */
  readonly notes: CallNotes;
  readonly error?: unknown;
}

/** A declared function's handler: its request fields decoded, its response fields to encode (none for HTTP 204). */
export type JsonFunction<D extends Es9Function> = (request: FieldValues<D['request']>, client: ClientInfo) => Promise<FieldValues<D['response']>>;

/** A fastify instance serving HTTPS, logging through `options.logger` (if any) but never a request or its body. */
export function createHttpsServer(options: HttpsOptions): FastifyInstance {
  const limits = connectionLimits(options.connections);
  const app = Fastify({
    // Requests are not logged, so no request gets a child logger of its own (fastify's default makes one per request to
    // bind its request id): a route that logs (the AuC's, the fleet API's) names the route and status itself.
    ...(options.logger === undefined
      ? { logger: false }
      : { loggerInstance: options.logger, logController: new LogController({ disableRequestLogging: true }), childLoggerFactory: (logger: FastifyBaseLogger) => logger }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // A client that trickles its request or holds a socket idle cannot pin server resources for long.
    connectionTimeout: limits.idleTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    https: {
      ...connectionServerOptions(limits),
      key: options.key,
      cert: options.cert,
      minVersion: 'TLSv1.2',
      ...(options.requireClientCertificate === true ? { requestCert: true, rejectUnauthorized: false } : {}),
      ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
      ...(options.ecdhCurve === undefined ? {} : { ecdhCurve: options.ecdhCurve }),
    },
  });
  limitConnections(app.server, limits);
  app.setErrorHandler((error: FrameworkError, _request, reply) => {
    const { httpStatus, status } = refusal(error);
    void reply.code(httpStatus).header('X-Admin-Protocol', ADMIN_PROTOCOL).send({ header: failureHeader(status) });
  });
  return app;
}

/** An error fastify raises before a handler runs: a body over the limit (413), not JSON (400), a wrong content type. */
interface FrameworkError {
  readonly statusCode?: number;
  readonly message: string;
}

/** Bodies refused by the framework get the binding's invalid-format status instead of fastify's default error. */
function refusal(error: FrameworkError): { httpStatus: number; status: StatusCodeData } {
  const httpStatus = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  const status =
    httpStatus === 500
      ? { subjectCode: '1.2', reasonCode: '4.2', message: 'internal error' }
      : { subjectCode: '1.1', reasonCode: '2.1', message: `malformed request: ${error.message}` };
  return { httpStatus, status };
}

function send(reply: FastifyReply, status: number, header: ResponseHeader, body: Record<string, unknown> = {}): FastifyReply {
  return reply
    .code(status)
    .header('X-Admin-Protocol', ADMIN_PROTOCOL)
    .header('Content-Type', 'application/json;charset=UTF-8')
    .send({ header, ...body });
}

/**
 * Registers `POST path` as the JSON-binding function `declaration`: checks X-Admin-Protocol (v2.x.y), decodes the
 * declared request fields (a missing one: the field's subject code with 2.2, a malformed one: 2.1), runs `fn`, and
 * answers 200 with `header.functionExecutionStatus` (Executed-Success with the declared response fields, or Failed
 * with statusCodeData), or 204 for a function declared without content. Unexpected errors answer 500 with a generic
 * message and are reported to `onInternalError`.
 */
export function registerJsonFunction<D extends Es9Function>(
  app: FastifyInstance,
  path: string,
  declaration: D,
  fn: JsonFunction<D>,
  onInternalError: (e: unknown) => void,
  observe?: (call: CallRecord) => void,
): void {
  // A body larger than the declared fields can be is refused (HTTP 413, 1.1/2.1) before it is read in full or parsed;
  // such refusals, and bodies that are not JSON, are observed like the function's own.
  const errorHandler = (error: FrameworkError, request: FastifyRequest, reply: FastifyReply): void => {
    const { httpStatus, status } = refusal(error);
    observe?.({ path, outcome: httpStatus === 500 ? 'error' : 'rejected', status, client: { address: request.ip, notes: {} }, notes: {}, error });
    void reply.code(httpStatus).header('X-Admin-Protocol', ADMIN_PROTOCOL).send({ header: failureHeader(status) });
  };
  app.post(path, { bodyLimit: requestBodyLimit(declaration), errorHandler }, async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const notes: CallNotes = {};
    let header: RequestHeader | undefined;
    const client: ClientInfo = {
      address: request.ip,
      notes,
      get header() {
        return header;
      },
      peerCertificate: () => peerCertificateOf(request),
    };
    let transactionId: string | undefined;
    const record = (outcome: CallRecord['outcome'], status?: StatusCodeData, error?: unknown): void =>
      observe?.({ path, outcome, status, durationMs: performance.now() - started, client, transactionId, notes, error });
    const protocol = request.headers['x-admin-protocol'];
    if (typeof protocol !== 'string' || !ADMIN_PROTOCOL_PATTERN.test(protocol)) {
      const status = { subjectCode: '8.8.3', reasonCode: '3.1', message: `unsupported X-Admin-Protocol '${String(protocol)}': expected gsma/rsp/v2.x.y` };
      record('rejected', status);
      return send(reply, 400, failureHeader(status));
    }
    try {
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new FunctionFailure('1.1', '2.1', 'the request body is not a JSON object');
      }
      header = requestHeaderOf(body as Record<string, unknown>);
      const fields = decodeFields(declaration.request, body as Record<string, unknown>, requestFieldError);
      const id = (fields as { transactionId?: unknown }).transactionId;
      if (Buffer.isBuffer(id)) transactionId = id.toString('hex').toUpperCase();
      const result = await fn(fields as FieldValues<D['request']>, client);
      const encoded = declaration.noContent === true ? undefined : encodeFields(declaration.response, result);
      record('success');
      if (encoded === undefined) return reply.code(204).header('X-Admin-Protocol', ADMIN_PROTOCOL).send();
      return send(reply, 200, successHeader(), encoded);
    } catch (e) {
      if (e instanceof FunctionFailure) {
        record('failed', e.statusCodeData);
        return send(reply, 200, failureHeader(e.statusCodeData));
      }
      record('error', undefined, e);
      onInternalError(e);
      return send(reply, 500, failureHeader({ subjectCode: '1.2', reasonCode: '4.2', message: 'internal error' }));
    }
  });
}
