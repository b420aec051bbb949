// RFC 9110/9112 over TLS (RFC 8446) with node:https: the LPA's HTTPS client with its own trust anchors, one keep-alive connection per session.
import { request, Agent } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { checkServerIdentity, createSecureContext, type SecureContext } from 'node:tls';
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
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * One TLS context per set of trust anchors: building one parses every CA certificate again, which costs more than the
 * rest of a session's TLS client work. Keyed by the `ca` array an options object holds.
 */
const secureContexts = new WeakMap<readonly (string | Buffer)[], SecureContext>();

function secureContextFor(ca: readonly (string | Buffer)[]): SecureContext {
  let context = secureContexts.get(ca);
  if (context === undefined) {
    context = createSecureContext({ ca: [...ca] });
    secureContexts.set(ca, context);
  }
  return context;
}

/** Parses `host:port` (IPv6 in brackets) for --connect. */
export function parseConnectOverride(text: string): ConnectOverride {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new IpaError('INVALID_ARGUMENT', `'${text}' is not host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * POSTs over HTTPS. One client holds one keep-alive agent limited to one socket, so a download
 * session's requests share a TLS connection; close() ends it.
 */
export class HttpsClient {
  readonly #agent: Agent;
  readonly #options: HttpsClientOptions;
  readonly #secureContext: SecureContext | undefined;

  constructor(options: HttpsClientOptions = {}) {
    this.#options = options;
    this.#secureContext = options.ca ? secureContextFor(options.ca) : undefined;
    this.#agent = new Agent({ keepAlive: true, maxSockets: 1 });
  }

  async post(url: string, headers: Readonly<Record<string, string>>, body: Buffer): Promise<HttpsResponse> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new IpaError('INVALID_ARGUMENT', `'${url}' is not a URL`);
    }
    if (target.protocol !== 'https:') throw new IpaError('INVALID_ARGUMENT', `'${url}' is not an https URL`);
    const hostname = target.hostname.replace(/^\[|\]$/g, '');
    const port = target.port === '' ? 443 : Number(target.port);
    const connect = this.#options.connect ?? { host: hostname, port };
    const timeoutMs = this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxBytes = this.#options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    return new Promise<HttpsResponse>((resolvePromise, reject) => {
      const req = request(
        {
          host: connect.host,
          port: connect.port,
          method: 'POST',
          path: `${target.pathname}${target.search}`,
          agent: this.#agent,
          ...(this.#secureContext === undefined ? {} : { secureContext: this.#secureContext }),
          // The certificate is checked against the URL's host, wherever the connection goes.
          ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
          checkServerIdentity: (_host, cert) => checkServerIdentity(hostname, cert),
          headers: { ...headers, Host: target.host, 'Content-Length': String(body.length) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let length = 0;
          res.on('data', (chunk: Buffer) => {
            length += chunk.length;
            if (length > maxBytes) {
              req.destroy(new IpaError('TRANSPORT_ERROR', `the response from ${url} exceeds ${maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, length) }));
          res.on('error', (e) => reject(transportError(url, e)));
        },
      );
      req.on('timeout', () => req.destroy(new IpaError('TRANSPORT_ERROR', `no response from ${url} within ${timeoutMs} ms`)));
      req.on('error', (e) => reject(transportError(url, e)));
      req.end(body);
    });
  }

  /** Ends the kept-alive connection. */
  close(): void {
    this.#agent.destroy();
  }
}

function transportError(url: string, e: Error): IpaError {
  if (e instanceof IpaError) return e;
  return new IpaError('TRANSPORT_ERROR', `HTTPS POST ${url} failed: ${e.message}`, { cause: e });
}
