// HTTP/1.1 response framing (RFC 9112 2.2, 4, 5, 6.3, 7.1): status line, header fields, and a body delimited by
// Content-Length, by chunked transfer coding or by the end of the connection. Strict: anything ambiguous is refused.
import { McimError } from '../errors.js';

export type HttpResponseErrorCode =
  /** Not an HTTP/1.1 response, or framed ambiguously (both Transfer-Encoding and Content-Length, differing lengths). */
  | 'MALFORMED_RESPONSE'
  /** The header section or the body exceeds the limit. */
  | 'RESPONSE_TOO_LARGE'
  /** The connection ended before the response was complete. */
  | 'TRUNCATED_RESPONSE'
  /** Bytes arrived after a complete response (nothing was asked for). */
  | 'UNEXPECTED_DATA';

export class HttpResponseError extends McimError {
  declare readonly code: HttpResponseErrorCode;
  constructor(code: HttpResponseErrorCode, message: string) {
    super(code, message);
  }
}

export interface HttpResponse {
  readonly status: number;
  /** Field names in lower case; repeated fields joined with ', ' (RFC 9110 5.3). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Whether the connection may carry another request (HTTP/1.1 without `Connection: close`, body not ended by close). */
  readonly keepAlive: boolean;
}

export interface HttpResponseLimits {
  /** Largest header section (and trailer section) in bytes. */
  readonly maxHeaderBytes: number;
  /** Largest body in bytes. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;

const CRLF = Buffer.from('\r\n', 'latin1');
const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,8})(?:[\t ]*;[\t\x20-\x7e\x80-\xff]*)?$/;

type Framing = { readonly kind: 'length'; readonly length: number } | { readonly kind: 'chunked' } | { readonly kind: 'close' };

interface Head {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly framing: Framing;
  readonly keepAlive: boolean;
}

function malformed(message: string): HttpResponseError {
  return new HttpResponseError('MALFORMED_RESPONSE', message);
}

/** Comma-separated list elements of a field value, trimmed, empty ones dropped (RFC 9110 5.6.1). */
function listElements(value: string): string[] {
  return value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const m = STATUS_LINE.exec(lines[0]!);
  if (!m) throw malformed(`not an HTTP/1.1 status line: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  const minor = Number(m[1]);
  const status = Number(m[2]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // A line starting with whitespace (obsolete folding) leaves no valid field name either.
    if (!FIELD_NAME.test(name)) throw malformed(`malformed header field line: ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) throw malformed(`header field ${name} has a control character in its value`);
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  const connection = listElements(headers['connection'] ?? '').map((t) => t.toLowerCase());
  let keepAlive = minor === 1 ? !connection.includes('close') : connection.includes('keep-alive');
  let framing: Framing;
  const te = headers['transfer-encoding'];
  const cl = headers['content-length'];
  if (status < 200 || status === 204 || status === 304) {
    framing = { kind: 'length', length: 0 };
  } else if (te !== undefined) {
    if (cl !== undefined) throw malformed('both Transfer-Encoding and Content-Length: the framing is ambiguous');
    const codings = listElements(te).map((c) => c.toLowerCase());
    if (codings[codings.length - 1] === 'chunked') {
      if (codings.length > 1) throw malformed(`transfer codings ${te} are not supported`);
      framing = { kind: 'chunked' };
    } else {
      framing = { kind: 'close' };
    }
  } else if (cl !== undefined) {
    const values = listElements(cl);
    if (values.length === 0 || values.some((v) => !/^\d{1,15}$/.test(v) || v !== values[0])) {
      throw malformed(`invalid Content-Length ${JSON.stringify(cl.slice(0, 40))}`);
    }
    framing = { kind: 'length', length: Number(values[0]) };
  } else {
    framing = { kind: 'close' };
  }
  if (framing.kind === 'close') keepAlive = false;
  return { status, headers, framing, keepAlive };
}

/**
 * Reads one response from the bytes of a connection, fed as they arrive. Informational (1xx) responses before it are
 * skipped. The caller sends one request at a time, so bytes after the response are an error.
 */
export class HttpResponseParser {
  readonly #limits: HttpResponseLimits;
  #buffer: Buffer = Buffer.alloc(0);
  #head: Head | undefined;
  readonly #body: Buffer[] = [];
  #bodyLength = 0;
  /** Chunked coding: bytes of the current chunk still to read (undefined: a chunk-size line is due). */
  #chunkLeft: number | undefined;
  #inTrailers = false;
  #done: HttpResponse | undefined;

  constructor(limits: HttpResponseLimits) {
    this.#limits = limits;
  }

  /** Adds bytes; returns the response once it is complete. */
  push(chunk: Buffer): HttpResponse | undefined {
    if (this.#done !== undefined) {
      if (chunk.length > 0) throw new HttpResponseError('UNEXPECTED_DATA', `${chunk.length} bytes after a complete response`);
      return this.#done;
    }
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    this.#advance();
    if (this.#done !== undefined && this.#buffer.length > 0) {
      throw new HttpResponseError('UNEXPECTED_DATA', `${this.#buffer.length} bytes after a complete response`);
    }
    return this.#done;
  }

  /** The connection ended: completes a body delimited by the close; anything else unfinished is truncated. */
  end(): HttpResponse {
    if (this.#done !== undefined) return this.#done;
    if (this.#head?.framing.kind === 'close') return this.#finish();
    throw new HttpResponseError('TRUNCATED_RESPONSE', this.#head === undefined ? 'the connection ended before a complete response header' : 'the connection ended within the response body');
  }

  #advance(): void {
    while (this.#done === undefined) {
      if (this.#head === undefined) {
        if (!this.#readHead()) return;
        continue;
      }
      const framing = this.#head.framing;
      if (framing.kind === 'length') {
        this.#take(Math.min(framing.length - this.#bodyLength, this.#buffer.length));
        if (this.#bodyLength === framing.length) this.#done = this.#finish();
        return;
      }
      if (framing.kind === 'close') {
        this.#take(this.#buffer.length);
        return;
      }
      if (!this.#readChunked()) return;
    }
  }

  /** Reads a header section; false when more bytes are needed. Skips 1xx responses. */
  #readHead(): boolean {
    const end = this.#buffer.indexOf(HEADER_END);
    const limit = this.#limits.maxHeaderBytes;
    if (end < 0) {
      if (this.#buffer.length > limit) throw new HttpResponseError('RESPONSE_TOO_LARGE', `response header section exceeds ${limit} bytes`);
      return false;
    }
    if (end + HEADER_END.length > limit) throw new HttpResponseError('RESPONSE_TOO_LARGE', `response header section exceeds ${limit} bytes`);
    const head = parseHead(this.#buffer.toString('latin1', 0, end));
    this.#buffer = this.#buffer.subarray(end + HEADER_END.length);
    if (head.status >= 100 && head.status < 200) {
      if (head.status === 101) throw malformed('the server switched protocols');
      return true;
    }
    this.#head = head;
    return true;
  }

  /** Moves n buffered bytes to the body. */
  #take(n: number): void {
    if (n <= 0) return;
    if (this.#bodyLength + n > this.#limits.maxBodyBytes) {
      throw new HttpResponseError('RESPONSE_TOO_LARGE', `response body exceeds ${this.#limits.maxBodyBytes} bytes`);
    }
    this.#body.push(this.#buffer.subarray(0, n));
    this.#bodyLength += n;
    this.#buffer = this.#buffer.subarray(n);
  }

  /** One step of the chunked coding (RFC 9112 7.1); false when more bytes are needed. */
  #readChunked(): boolean {
    if (this.#chunkLeft !== undefined && this.#chunkLeft > 0) {
      const n = Math.min(this.#chunkLeft, this.#buffer.length);
      this.#take(n);
      this.#chunkLeft -= n;
      return this.#buffer.length > 0;
    }
    if (this.#chunkLeft === 0) {
      if (this.#buffer.length < 2) return false;
      if (this.#buffer[0] !== 0x0d || this.#buffer[1] !== 0x0a) throw malformed('chunk data not followed by CRLF');
      this.#buffer = this.#buffer.subarray(2);
      this.#chunkLeft = undefined;
      return true;
    }
    const eol = this.#buffer.indexOf(CRLF);
    if (eol < 0) {
      if (this.#buffer.length > this.#limits.maxHeaderBytes) throw new HttpResponseError('RESPONSE_TOO_LARGE', 'chunk-size or trailer line too long');
      return false;
    }
    const line = this.#buffer.toString('latin1', 0, eol);
    this.#buffer = this.#buffer.subarray(eol + 2);
    if (this.#inTrailers) {
      if (line === '') {
        this.#done = this.#finish();
        return true;
      }
      const colon = line.indexOf(':');
      if (colon <= 0 || !FIELD_NAME.test(line.slice(0, colon))) throw malformed(`malformed trailer field line: ${JSON.stringify(line.slice(0, 80))}`);
      return true;
    }
    const m = CHUNK_SIZE.exec(line);
    if (!m) throw malformed(`malformed chunk-size line: ${JSON.stringify(line.slice(0, 40))}`);
    const size = parseInt(m[1]!, 16);
    if (size === 0) {
      this.#inTrailers = true;
      return true;
    }
    if (this.#bodyLength + size > this.#limits.maxBodyBytes) {
      throw new HttpResponseError('RESPONSE_TOO_LARGE', `response body exceeds ${this.#limits.maxBodyBytes} bytes`);
    }
    this.#chunkLeft = size;
    return true;
  }

  #finish(): HttpResponse {
    const head = this.#head!;
    this.#done = { status: head.status, headers: head.headers, body: Buffer.concat(this.#body, this.#bodyLength), keepAlive: head.keepAlive };
    return this.#done;
  }
}
