// A JSON-binding client for server-to-server GSMA interfaces (SGP.22 6.5, ES2+): one HTTPS POST with mutual TLS, X-Admin-Protocol, a timeout and a bounded response.
import { request } from 'node:https';
import { ADMIN_PROTOCOL } from './jsonBinding.js';
import { McimError } from '../errors.js';

export interface JsonClientOptions {
  /** Our TLS client certificate chain and key (PEM): ES2+ is mutually authenticated (SGP.22 6.1). */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Trust anchors for the server's certificate (PEM); default: Node's bundled roots. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Whole-request timeout in milliseconds (default 15 s). */
  readonly timeoutMs?: number;
  /** The server name to verify (and send as SNI) when the URL's host is an address (local tests). */
  readonly servername?: string;
  /** Largest response body read (default 64 KiB): a larger one fails the call. */
  readonly maxResponseBytes?: number;
  /** Where to connect instead of what the URL's host resolves to (local tests); the URL's host is still verified and sent. */
  readonly connect?: { readonly host: string; readonly port: number };
  /** The User-Agent to send (ES9+ names the calling role: SGP.22 6.5.1). */
  readonly userAgent?: string;
}

export interface JsonResponse {
  readonly status: number;
  /** The parsed JSON body; undefined for an empty body (HTTP 204). */
  readonly body: unknown;
  readonly adminProtocol: string | undefined;
}

/** POSTs `body` as JSON to `url`; resolves with the status and parsed body, rejects on transport errors (IO_ERROR) or malformed answers. */
export function postJson(url: string, body: unknown, options: JsonClientOptions = {}): Promise<JsonResponse> {
  const target = new URL(url);
  if (target.protocol !== 'https:') return Promise.reject(new McimError('INVALID_ARGUMENT', `'${url}' is not an https URL`));
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  const maxBytes = options.maxResponseBytes ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json;charset=UTF-8',
          'Content-Length': payload.length,
          'X-Admin-Protocol': ADMIN_PROTOCOL,
          Accept: 'application/json',
          ...(options.connect === undefined ? {} : { Host: target.host }),
          ...(options.userAgent === undefined ? {} : { 'User-Agent': options.userAgent }),
        },
        ...(options.connect === undefined ? {} : { hostname: options.connect.host, host: options.connect.host, port: options.connect.port, servername: options.servername ?? target.hostname }),
        ...(options.cert === undefined ? {} : { cert: options.cert }),
        ...(options.key === undefined ? {} : { key: options.key }),
        ...(options.ca === undefined ? {} : { ca: options.ca as string | Buffer | (string | Buffer)[] }),
        ...(options.servername === undefined ? {} : { servername: options.servername }),
        timeout: options.timeoutMs ?? 15_000,
        agent: false,
        minVersion: 'TLSv1.2',
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy(new McimError('RESPONSE_TOO_LARGE', `the response from ${target.host} exceeds ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          if (text.length > 0) {
            try {
              parsed = JSON.parse(text);
            } catch {
              reject(new McimError('MALFORMED_RESPONSE', `the response from ${target.host} (HTTP ${res.statusCode}) is not JSON`));
              return;
            }
          }
          const protocol = res.headers['x-admin-protocol'];
          resolve({ status: res.statusCode ?? 0, body: parsed, adminProtocol: typeof protocol === 'string' ? protocol : undefined });
        });
      },
    );
    req.on('timeout', () => req.destroy(new McimError('IO_ERROR', `no answer from ${target.host} within ${options.timeoutMs ?? 15_000} ms`)));
    req.on('error', (e) => reject(e instanceof McimError ? e : new McimError('IO_ERROR', `${target.host}: ${e.message}`, { cause: e })));
    req.end(payload);
  });
}
