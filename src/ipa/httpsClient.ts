// RFC 9110/9112 over TLS (RFC 8446) with node:tls: the LPA's HTTPS client with its own trust anchors, one keep-alive connection per session.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { DEFAULT_MAX_HEADER_BYTES, FIELD_NAME, FIELD_VALUE, HttpResponseParser, type HttpResponse } from '../http/responseParser.js';
import { IpaError } from './errors.js';

/** Where to connect instead of what the URL's host resolves to (like curl --connect-to): for local test servers. */
export interface ConnectOverride {
  readonly host: string;
  readonly port: number;
}

export interface HttpsClientOptions {
  /** Trusted CA certificates (PEM); the SM-DP+'s TLS certificate chains to the GSMA CI. Default: Node's bundled roots. */
  readonly ca?: readonly (string | Buffer)[];
  readonly connect?: ConnectOverride;
  /** Per-request timeout in milliseconds (default 30 s). */
  readonly timeoutMs?: number;
  /** Largest response body accepted (default 16 MiB). */
  readonly maxResponseBytes?: number;
}

export interface HttpsResponse {
  readonly status: number;
  /** Field names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * The key-exchange groups the client offers (supported_groups, RFC 8446 4.2.7 / RFC 8422 5.1.1). brainpoolP256r1
 * (RFC 7027) is there for SM-DP+ servers with a brainpool TLS certificate (SGP.22 4.5.2.1 has both curves): in TLS
 * 1.2 a server may use an ECDSA certificate only on a curve the client lists, and OpenSSL 3.0 (Node 20) has no TLS 1.3
 * brainpool groups or signature schemes (3.2 added them), so such a server answers in TLS 1.2. Without the entry the
 * handshake ends in handshake_failure (alert 40). The TLS 1.3 groups come first: a P-256 server still gets TLS 1.3.
 */
const TLS_GROUPS = 'X25519:P-256:P-384:brainpoolP256r1';
/** TLS 1.2 and 1.3 (RFC 8446 with the RFC 5246 fallback): the version is what the server picks. */
const TLS_MIN_VERSION = 'TLSv1.2';

/**
 * One TLS context per set of trust anchors: building one parses every CA certificate again, which costs more than the
 * rest of a session's TLS client work. Keyed by a digest of the certificates themselves (a changed list is another
 * key; no list at all, Node's bundled roots, is one more); bounded, least recently used out.
 */
const secureContexts = new Map<string, SecureContext>();
const MAX_SECURE_CONTEXTS = 16;

function secureContextFor(ca: readonly (string | Buffer)[] | undefined): SecureContext {
  const digest = createHash('sha256');
  digest.update(ca === undefined ? 'bundled roots' : 'ca:');
  for (const c of ca ?? []) {
    const bytes = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
    digest.update(`${bytes.length}:`).update(bytes);
  }
  const key = digest.digest('hex');
  let context = secureContexts.get(key);
  if (context !== undefined) {
    secureContexts.delete(key);
  } else {
    context = createSecureContext({ ...(ca === undefined ? {} : { ca: [...ca] }), ecdhCurve: TLS_GROUPS, minVersion: TLS_MIN_VERSION });
    if (secureContexts.size >= MAX_SECURE_CONTEXTS) secureContexts.delete(secureContexts.keys().next().value!);
  }
  secureContexts.set(key, context);
  return context;
}

/** Parses `host:port` (IPv6 in brackets) for --connect. */
export function parseConnectOverride(text: string): ConnectOverride {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new IpaError('INVALID_ARGUMENT', `'${text}' is not host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Header fields the client writes itself; a caller's are dropped (the LPA bridge relays whatever the LPA sends). */
const OWN_FIELDS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'expect', 'upgrade', 'te', 'trailer', 'keep-alive']);

/** The request head (RFC 9112 3, 5): request line, Host, the caller's fields, Content-Length. */
function requestHead(path: string, host: string, headers: Readonly<Record<string, string>>, length: number): Buffer {
  let head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (!FIELD_NAME.test(name) || !FIELD_VALUE.test(value)) throw new IpaError('INVALID_ARGUMENT', `header field ${JSON.stringify(name)} is not a valid field line`);
    if (OWN_FIELDS.has(name.toLowerCase())) continue;
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}Content-Length: ${length}\r\n\r\n`, 'latin1');
}

/** An open TLS connection and where it goes. */
interface Connection {
  readonly socket: TLSSocket;
  readonly key: string;
  /** Set once the peer ended, the socket closed, or a byte arrived while no request was waiting: not reusable. */
  closed: boolean;
}

/**
 * POSTs over HTTPS, one request at a time. A client keeps one TLS connection alive between its requests (a download
 * session's requests share it) and opens a new one when the server closed it; close() ends it, even mid-handshake.
 * The server certificate is verified against the trust anchors and the URL's host, wherever the connection goes.
 */
export class HttpsClient {
  readonly #options: HttpsClientOptions;
  readonly #secureContext: SecureContext;
  /** The connection, from the start of its handshake. */
  #connection: Connection | undefined;
  #busy = false;

  constructor(options: HttpsClientOptions = {}) {
    this.#options = options;
    this.#secureContext = secureContextFor(options.ca);
  }

  async post(url: string, headers: Readonly<Record<string, string>>, body: Uint8Array): Promise<HttpsResponse> {
    if (typeof url !== 'string' || typeof headers !== 'object' || headers === null || !(body instanceof Uint8Array)) {
      throw new IpaError('INVALID_ARGUMENT', 'post(url: string, headers: object, body: bytes)');
    }
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new IpaError('INVALID_ARGUMENT', `'${url}' is not a URL`);
    }
    if (target.protocol !== 'https:') throw new IpaError('INVALID_ARGUMENT', `'${url}' is not an https URL`);
    const head = requestHead(`${target.pathname}${target.search}`, target.host, headers, body.length);
    if (this.#busy) throw new IpaError('INVALID_ARGUMENT', 'one request at a time on an HTTPS client');
    this.#busy = true;
    // One deadline for the connection and the exchange together.
    const deadline = Date.now() + (this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    try {
      const connection = await this.#connect(target, url, deadline);
      return await this.#exchange(connection, Buffer.concat([head, body]), url, deadline);
    } finally {
      this.#busy = false;
    }
  }

  /** The kept-alive connection to the URL's origin, or a new one once the TLS handshake has verified the server. */
  #connect(target: URL, url: string, deadline: number): Promise<Connection> {
    const hostname = target.hostname.replace(/^\[|\]$/g, '');
    const port = target.port === '' ? 443 : Number(target.port);
    const to = this.#options.connect ?? { host: hostname, port };
    const key = `${hostname}|${to.host}|${to.port}`;
    const open = this.#connection;
    if (open !== undefined && !open.closed && open.key === key && open.socket.readableLength === 0) return Promise.resolve(open);
    this.close();
    return new Promise<Connection>((resolve, reject) => {
      const socket = tlsConnect({
        host: to.host,
        port: to.port,
        ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
        secureContext: this.#secureContext,
        checkServerIdentity: (_host, cert) => checkServerIdentity(hostname, cert),
      });
      const connection: Connection = { socket, key, closed: false };
      this.#connection = connection;
      const markClosed = (): void => {
        connection.closed = true;
      };
      socket.on('end', markClosed);
      socket.on('close', markClosed);
      // Errors after the exchange (a reset while idle) only mark the connection unusable.
      socket.on('error', markClosed);
      const done = (e?: Error): void => {
        clearTimeout(timer);
        socket.removeListener('error', done);
        socket.removeListener('close', onClose);
        socket.removeListener('secureConnect', onSecure);
        if (e === undefined) {
          resolve(connection);
        } else {
          this.#drop(connection);
          reject(transportError(url, e));
        }
      };
      const onSecure = (): void => done();
      const onClose = (): void => done(new Error('the connection closed during the TLS handshake'));
      const timer = setTimeout(() => done(new Error(`no TLS connection within ${this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)), Math.max(0, deadline - Date.now()));
      socket.once('error', done);
      socket.once('close', onClose);
      socket.once('secureConnect', onSecure);
    });
  }

  /** Writes one request and reads its response; a connection that cannot carry another request is closed. */
  #exchange(connection: Connection, request: Buffer, url: string, deadline: number): Promise<HttpsResponse> {
    const { socket } = connection;
    const parser = new HttpResponseParser({
      maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
      maxBodyBytes: this.#options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    });
    return new Promise<HttpsResponse>((resolve, reject) => {
      socket.removeListener('data', markUnusable);
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.removeListener('data', onData);
        socket.removeListener('end', onEnd);
        socket.removeListener('close', onClose);
        socket.removeListener('error', onError);
      };
      const settle = (response: HttpResponse): void => {
        cleanup();
        if (response.keepAlive) {
          // Nothing is due while no request waits: a byte now would be read as the next request's answer.
          socket.on('data', markUnusable);
        } else {
          this.#drop(connection);
        }
        resolve({ status: response.status, headers: response.headers, body: response.body });
      };
      const fail = (e: Error): void => {
        cleanup();
        this.#drop(connection);
        reject(transportError(url, e));
      };
      const onData = (chunk: Buffer): void => {
        let response: HttpResponse | undefined;
        try {
          response = parser.push(chunk);
        } catch (e) {
          fail(e as Error);
          return;
        }
        if (response !== undefined) settle(response);
      };
      const onEnd = (): void => {
        try {
          settle(parser.end());
        } catch (e) {
          fail(e as Error);
        }
      };
      const onClose = (): void => fail(new Error('the connection closed before the response'));
      const onError = (e: Error): void => fail(e);
      const timer = setTimeout(() => fail(new Error(`no response within ${this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)), Math.max(0, deadline - Date.now()));
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.on('close', onClose);
      socket.on('error', onError);
      socket.write(request);
    });
  }

  #drop(connection: Connection): void {
    connection.closed = true;
    connection.socket.destroy();
    if (this.#connection === connection) this.#connection = undefined;
  }

  /** Ends the connection, kept alive or still in its handshake. */
  close(): void {
    if (this.#connection !== undefined) this.#drop(this.#connection);
  }
}

/** The 'data' listener of an idle kept-alive socket: whatever arrives was not asked for, so the connection is done. */
function markUnusable(this: TLSSocket): void {
  this.destroy();
}

function transportError(url: string, e: Error): IpaError {
  if (e instanceof IpaError) return e;
  return new IpaError('TRANSPORT_ERROR', `HTTPS POST ${url} failed: ${e.message}`, { cause: e });
}
