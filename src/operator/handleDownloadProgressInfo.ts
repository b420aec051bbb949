// SGP.22 5.3.5 ES2+.HandleDownloadProgressInfo (6.5.2.5): the operator's HTTPS endpoint the SM-DP+ notifies of a download's progress; HTTP 204 without a body.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connectionLimits, connectionServerOptions, limitConnections, type ConnectionLimits } from '../http/connectionLimits.js';
import { ES2PLUS_FUNCTIONS, ES2PLUS_PATH } from '../http/es2plusFunctions.js';
import { decodeFields, requestBodyLimit } from '../http/es9plusFunctions.js';
import { ADMIN_PROTOCOL, ADMIN_PROTOCOL_PATTERN, FunctionFailure, failureHeader, requestFieldError, type ExecutionStatus, type StatusCodeData } from '../http/jsonBinding.js';
import { OperatorError } from './errors.js';
import { EID, ICCID } from './identifiers.js';

export const HANDLE_DOWNLOAD_PROGRESS_INFO_PATH = `${ES2PLUS_PATH}/handleDownloadProgressInfo`;

/** One notification, its fields decoded and checked. */
export interface DownloadProgressInfo {
  /** The request header: the SM-DP+ is the function requester here. */
  readonly header: { readonly functionRequesterIdentifier: string; readonly functionCallIdentifier: string };
  readonly eid?: string;
  readonly iccid: string;
  readonly profileType: string;
  /** When the step happened, as the SM-DP+ wrote it (SGP.22 DATETIME; some send it as `timeStamp` or as epoch seconds). */
  readonly timestamp: string;
  /** 1 eligibility and retry limit check, 2 confirmation failure, 3 BPP download, 4 BPP installation; 100 and above: agreed ones. */
  readonly notificationPointId: number;
  readonly notificationPointStatus: { readonly status: ExecutionStatus; readonly statusCodeData?: StatusCodeData };
  /** The eUICC's installation result data (notification point 4). */
  readonly resultData?: Buffer;
}

/** Who sent a notification: the socket's peer address and the SHA-256 of its TLS client certificate, when it sent one. */
export interface ProgressPeer {
  readonly address: string;
  readonly certificateFingerprint: string | undefined;
}

export interface ProgressListenerOptions {
  /** The listener's TLS certificate chain and private key (PEM). */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** Accept only SM-DP+ client certificates with one of these SHA-256 fingerprints (hex, ':' allowed), whoever issued them. */
  readonly smdpCertificateFingerprints?: readonly string[];
  /** Accept only client certificates that chain to these trust anchors (PEM). */
  readonly clientCa?: string | Buffer;
  /** Called for each notification accepted; the SM-DP+ gets its 204 once it resolves (a throw answers HTTP 500). */
  readonly onProgress: (info: DownloadProgressInfo, peer: ProgressPeer) => void | Promise<void>;
  /** Called with an error of `onProgress` (never with a refused request: the sender gets those). */
  readonly onError?: (e: unknown) => void;
  readonly connections?: Partial<ConnectionLimits>;
}

export interface ProgressListener {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

const DECLARATION = ES2PLUS_FUNCTIONS.handleDownloadProgressInfo;
/** The request header's two identifiers: at most 256 characters each (the SM-DP+'s store bound), escaped at most 6 to 1 in JSON. */
const MAX_HEADER_IDENTIFIER = 256;
/** The largest body accepted: the declared fields at their budgets plus the request header. */
export const MAX_PROGRESS_BODY = requestBodyLimit(DECLARATION) + 2 * 6 * MAX_HEADER_IDENTIFIER + 128;
const STATUSES: readonly ExecutionStatus[] = ['Executed-Success', 'Executed-WithWarning', 'Failed', 'Expired'];
const FINGERPRINT = /^[0-9a-f]{64}$/;
/** How long close() waits for answers in flight before it cuts the connections. */
const CLOSE_GRACE_MS = 2_000;

/** A fingerprint as given (hex, upper or lower case, ':' between bytes allowed) in the form it is compared in. */
export function normalizeFingerprint(text: string): string {
  const hex = text.replace(/:/g, '').toLowerCase();
  if (!FINGERPRINT.test(hex)) throw new OperatorError('INVALID_ARGUMENT', `'${text}' is not a SHA-256 fingerprint (64 hex digits)`);
  return hex;
}

/** A request refused before `onProgress`: its HTTP status and the failure header the sender gets. */
class Refusal extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: StatusCodeData,
  ) {
    super(status.message);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Starts the HTTPS listener on `host:port` (0: a free port). Only POST on the standard path is served; a client
 * certificate is required when fingerprints or a CA are given (by fingerprint: checked on each request, 403 when
 * not pinned; by CA: refused in the TLS handshake). A body over MAX_PROGRESS_BODY answers 413, one that is not the
 * declared notification 400; both with a Failed header, and neither reaches `onProgress`.
 */
export async function listenForDownloadProgress(options: ProgressListenerOptions, port: number, host: string): Promise<ProgressListener> {
  const pins = options.smdpCertificateFingerprints?.map(normalizeFingerprint);
  if (pins !== undefined && pins.length > 0 && options.clientCa !== undefined) {
    throw new OperatorError('INVALID_ARGUMENT', 'authenticate the SM-DP+ by pinned fingerprints or by a CA, not both');
  }
  const pinned = pins !== undefined && pins.length > 0 ? new Set(pins) : undefined;
  const limits = connectionLimits(options.connections);
  const server = createServer(
    {
      ...connectionServerOptions(limits),
      cert: options.cert,
      key: options.key,
      minVersion: 'TLSv1.2',
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      ...(pinned !== undefined ? { requestCert: true, rejectUnauthorized: false } : {}),
      ...(options.clientCa !== undefined ? { requestCert: true, rejectUnauthorized: true, ca: options.clientCa } : {}),
    },
    (request, response) => {
      void serve(request, response, options, pinned).catch((e: unknown) => {
        options.onError?.(e);
        if (!response.headersSent) reply(response, 500, { subjectCode: '1.2', reasonCode: '4.2', message: 'internal error' });
      });
    },
  );
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy());
  limitConnections(server, limits);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        // Answers in flight are finished (a notification just handed over still gets its 204); idle connections close
        // now, and whatever is still open after CLOSE_GRACE_MS is cut.
        const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

function reply(response: ServerResponse, httpStatus: number, status: StatusCodeData, close = false): void {
  const body = JSON.stringify({ header: failureHeader(status) });
  response.writeHead(httpStatus, {
    'X-Admin-Protocol': ADMIN_PROTOCOL,
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(body),
    ...(close ? { Connection: 'close' } : {}),
  });
  response.end(body);
}

async function serve(request: IncomingMessage, response: ServerResponse, options: ProgressListenerOptions, pinned: ReadonlySet<string> | undefined): Promise<void> {
  let body: unknown;
  let peer: ProgressPeer;
  try {
    peer = checkRequest(request, pinned);
    body = await readJson(request);
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    // The rest of a refused body is not read: the connection closes after the answer.
    response.shouldKeepAlive = false;
    reply(response, e.httpStatus, e.status, true);
    return;
  }
  let info: DownloadProgressInfo;
  try {
    info = decodeNotification(body);
  } catch (e) {
    if (!(e instanceof FunctionFailure)) throw e;
    reply(response, 400, e.statusCodeData);
    return;
  }
  await options.onProgress(info, peer);
  response.writeHead(204, { 'X-Admin-Protocol': ADMIN_PROTOCOL });
  response.end();
}

/** The route, the method, the client certificate (when pinned) and X-Admin-Protocol. */
function checkRequest(request: IncomingMessage, pinned: ReadonlySet<string> | undefined): ProgressPeer {
  const path = (request.url ?? '').split('?')[0];
  if (path !== HANDLE_DOWNLOAD_PROGRESS_INFO_PATH) throw new Refusal(404, { subjectCode: '1.6', reasonCode: '3.9', message: 'unknown function' });
  if (request.method !== 'POST') throw new Refusal(405, { subjectCode: '1.6', reasonCode: '3.1', message: 'only POST is served' });
  const socket = request.socket as TLSSocket;
  const certificate = socket.getPeerCertificate();
  const fingerprint = certificate.raw === undefined ? undefined : createHash('sha256').update(certificate.raw).digest('hex');
  if (pinned !== undefined && (fingerprint === undefined || !pinned.has(fingerprint))) {
    throw new Refusal(403, { subjectCode: '1.1', reasonCode: '1.1', message: fingerprint === undefined ? 'a client certificate is required' : 'the client certificate is not pinned' });
  }
  const protocol = request.headers['x-admin-protocol'];
  if (typeof protocol !== 'string' || !ADMIN_PROTOCOL_PATTERN.test(protocol)) {
    throw new Refusal(400, { subjectCode: '8.8.3', reasonCode: '3.1', message: 'X-Admin-Protocol gsma/rsp/v2.x.y is required' });
  }
  return { address: socket.remoteAddress ?? '', certificateFingerprint: fingerprint };
}

/**
 * The body, read up to MAX_PROGRESS_BODY bytes and parsed as JSON. Past the bound reading stops (the request is
 * paused, not destroyed, so the refusal still reaches the sender; the connection closes after it).
 */
function readJson(request: IncomingMessage): Promise<unknown> {
  const tooLarge = new Refusal(413, { subjectCode: '1.1', reasonCode: '2.1', message: `the body exceeds ${MAX_PROGRESS_BODY} bytes` });
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > MAX_PROGRESS_BODY) {
    request.pause();
    return Promise.reject(tooLarge);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_PROGRESS_BODY) {
        chunks.push(chunk);
        return;
      }
      request.off('data', onData);
      request.pause();
      reject(tooLarge);
    };
    request.on('data', onData);
    request.once('error', reject);
    request.once('end', () => {
      if (size > MAX_PROGRESS_BODY) return;
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new Refusal(400, { subjectCode: '1.1', reasonCode: '2.1', message: 'the body is not JSON' }));
      }
    });
  });
}

function identifier(header: Record<string, unknown>, name: string): string {
  const value = header[name];
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_HEADER_IDENTIFIER) {
    throw new FunctionFailure('1.1', typeof value === 'string' ? '2.1' : '2.2', `header.${name} is not a string of 1 to ${MAX_HEADER_IDENTIFIER} characters`);
  }
  return value;
}

/** The status object: status, and statusCodeData with string subjectCode and reasonCode (optional subjectIdentifier, message). */
function progressStatus(value: Readonly<Record<string, unknown>>): DownloadProgressInfo['notificationPointStatus'] {
  const malformed = (why: string): FunctionFailure => new FunctionFailure('1.6', '2.1', `notificationPointStatus: ${why}`);
  const status = value['status'];
  if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) throw malformed(`'status' is not one of ${STATUSES.join(', ')}`);
  const data = value['statusCodeData'];
  if (data === undefined || data === null) return { status: status as ExecutionStatus };
  if (!isObject(data)) throw malformed("'statusCodeData' is not an object");
  const text = (key: string, required: boolean): string | undefined => {
    const v = data[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string') throw malformed(`statusCodeData.${key} is not a string`);
    return v;
  };
  const subjectIdentifier = text('subjectIdentifier', false);
  const message = text('message', false);
  return {
    status: status as ExecutionStatus,
    statusCodeData: {
      subjectCode: text('subjectCode', true)!,
      reasonCode: text('reasonCode', true)!,
      ...(subjectIdentifier === undefined ? {} : { subjectIdentifier }),
      ...(message === undefined ? {} : { message }),
    },
  };
}

/**
 * The notification's header and declared fields. Tolerated as the spec's own example sends them: `timeStamp` for
 * `timestamp`, and notificationPointId as a decimal string; unknown fields are ignored.
 */
export function decodeNotification(body: unknown): DownloadProgressInfo {
  if (!isObject(body)) throw new FunctionFailure('1.1', '2.1', 'the request body is not a JSON object');
  const header = body['header'];
  if (!isObject(header)) throw new FunctionFailure('1.1', '2.2', "'header' is missing");
  const requestHeader = { functionRequesterIdentifier: identifier(header, 'functionRequesterIdentifier'), functionCallIdentifier: identifier(header, 'functionCallIdentifier') };
  const fields = body['timestamp'] === undefined && body['timeStamp'] !== undefined ? { ...body, timestamp: body['timeStamp'] } : body;
  const decoded = decodeFields(DECLARATION.request, fields, requestFieldError);
  if (!ICCID.test(decoded.iccid)) throw new FunctionFailure('8.2.1', '2.1', `'${decoded.iccid}' is not an ICCID`);
  if (decoded.eid !== undefined && !EID.test(decoded.eid)) throw new FunctionFailure('8.1.1', '2.1', `'${decoded.eid}' is not an EID`);
  if (decoded.profileType.length === 0) throw new FunctionFailure('8.2.5', '2.1', "'profileType' is empty");
  if (decoded.timestamp.length === 0) throw new FunctionFailure('1.6', '2.1', "'timestamp' is empty");
  return {
    header: requestHeader,
    ...(decoded.eid === undefined ? {} : { eid: decoded.eid }),
    iccid: decoded.iccid,
    profileType: decoded.profileType,
    timestamp: decoded.timestamp,
    notificationPointId: decoded.notificationPointId,
    notificationPointStatus: progressStatus(decoded.notificationPointStatus),
    ...(decoded.resultData === undefined ? {} : { resultData: decoded.resultData }),
  };
}
