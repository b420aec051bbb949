// HTTP/1.1 response framing (RFC 9112 2.2, 4, 5, 6.1, 6.3, 7.1): status line, header fields, and a body delimited by
// Content-Length, by chunked transfer coding or by the end of the connection. Strict: anything ambiguous is refused.
import { McimError } from '../errors.js';

/** The codes HttpResponseError carries (meanings: ERROR_CODES in src/errors.ts). */
export type HttpResponseErrorCode =
  | 'MALFORMED_RESPONSE'
  | 'RESPONSE_TOO_LARGE'
  | 'TRUNCATED_RESPONSE'
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
  /** Largest header section (and trailer section) in bytes; the framing bytes together may take four times this. */
  readonly maxHeaderBytes: number;
  /** Largest body in bytes. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;
/** Informational responses accepted before the final one. */
const MAX_INFORMATIONAL = 8;

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
/** A field name: a token (RFC 9110 5.1). */
export const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A field value without control characters but HTAB (RFC 9110 5.5): no CR or LF can split a field line. */
export const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
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

/** One field line `name: value`; returns the lower-case name and the trimmed value. */
function fieldLine(line: string, what: string): [string, string] {
  const colon = line.indexOf(':');
  const name = colon > 0 ? line.slice(0, colon) : '';
  // A line starting with whitespace (obsolete folding) leaves no valid field name either.
  if (!FIELD_NAME.test(name)) throw malformed(`malformed ${what} field line: ${JSON.stringify(line.slice(0, 80))}`);
  const value = line.slice(colon + 1).trim();
  if (!FIELD_VALUE.test(value)) throw malformed(`${what} field ${name} has a control character in its value`);
  return [name.toLowerCase(), value];
}

function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const m = STATUS_LINE.exec(lines[0]!);
  if (!m) throw malformed(`not an HTTP/1.1 status line: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  const minor = Number(m[1]);
  const status = Number(m[2]);
  // No prototype: a field named like an Object property (constructor, __proto__) is just a field.
  const headers = Object.create(null) as Record<string, string>;
  for (const line of lines.slice(1)) {
    const [key, value] = fieldLine(line, 'header');
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
    // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding is faulty framing.
    if (minor === 0) throw malformed('Transfer-Encoding in an HTTP/1.0 response');
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

/** Bytes appended at the end and consumed from the front, in one buffer that doubles when full (no quadratic copying). */
class ByteQueue {
  #buffer = Buffer.alloc(0);
  #start = 0;
  #end = 0;

  get length(): number {
    return this.#end - this.#start;
  }

  append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buffer.length) {
      const size = this.length + chunk.length;
      const next = size > this.#buffer.length / 2 ? Buffer.allocUnsafe(Math.max(256, size * 2)) : this.#buffer;
      this.#buffer.copy(next, 0, this.#start, this.#end);
      this.#buffer = next;
      this.#end -= this.#start;
      this.#start = 0;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The first `n` bytes as a view (valid until the next append). */
  peek(n = this.length): Buffer {
    return this.#buffer.subarray(this.#start, this.#start + n);
  }

  /** Offset of `needle` at or after `from`, or -1. */
  indexOf(needle: Buffer, from: number): number {
    return this.peek().indexOf(needle, from);
  }

  consume(n: number): void {
    this.#start += n;
  }
}

/**
 * Reads one response from the bytes of a connection, fed as they arrive. Informational (1xx) responses before it are
 * skipped. The caller sends one request at a time, so bytes after the response are an error.
 */
export class HttpResponseParser {
  readonly #limits: HttpResponseLimits;
  readonly #input = new ByteQueue();
  /** Where the search for the end of the current head or line resumes. */
  #scanned = 0;
  /** Bytes that are not body (heads, chunk-size lines, CRLFs, trailers), against 4 x maxHeaderBytes. */
  #framing = 0;
  #informational = 0;
  #head: Head | undefined;
  #body: Buffer = Buffer.alloc(0);
  #bodyLength = 0;
  /** Chunked coding: bytes of the current chunk still to read (undefined: a chunk-size line is due). */
  #chunkLeft: number | undefined;
  #inTrailers = false;
  #done: HttpResponse | undefined;

  constructor(limits: HttpResponseLimits) {
    this.#limits = limits;
  }

  /** Adds bytes; returns the response once it is complete. */
  push(chunk: Uint8Array): HttpResponse | undefined {
    if (this.#done !== undefined) {
      if (chunk.length > 0) throw new HttpResponseError('UNEXPECTED_DATA', `${chunk.length} bytes after a complete response`);
      return this.#done;
    }
    this.#input.append(chunk);
    this.#advance();
    if (this.#done !== undefined && this.#input.length > 0) {
      throw new HttpResponseError('UNEXPECTED_DATA', `${this.#input.length} bytes after a complete response`);
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
        this.#take(Math.min(framing.length - this.#bodyLength, this.#input.length));
        if (this.#bodyLength === framing.length) this.#done = this.#finish();
        return;
      }
      if (framing.kind === 'close') {
        this.#take(this.#input.length);
        return;
      }
      if (!this.#readChunked()) return;
    }
  }

  /** Counts framing bytes against their limit. */
  #countFraming(n: number): void {
    this.#framing += n;
    if (this.#framing > 4 * this.#limits.maxHeaderBytes) {
      throw new HttpResponseError('RESPONSE_TOO_LARGE', `more than ${4 * this.#limits.maxHeaderBytes} bytes of response framing`);
    }
  }

  /** The next line ending in `terminator`, consumed with it; undefined while incomplete. */
  #line(terminator: Buffer, limit: number, what: string): string | undefined {
    const end = this.#input.indexOf(terminator, Math.max(0, this.#scanned - terminator.length + 1));
    if (end < 0) {
      this.#scanned = this.#input.length;
      if (this.#input.length > limit) throw new HttpResponseError('RESPONSE_TOO_LARGE', `${what} exceeds ${limit} bytes`);
      return undefined;
    }
    if (end + terminator.length > limit) throw new HttpResponseError('RESPONSE_TOO_LARGE', `${what} exceeds ${limit} bytes`);
    const text = this.#input.peek(end).toString('latin1');
    this.#input.consume(end + terminator.length);
    this.#scanned = 0;
    this.#countFraming(end + terminator.length);
    return text;
  }

  /** Reads a header section; false when more bytes are needed. Skips 1xx responses. */
  #readHead(): boolean {
    const text = this.#line(HEADER_END, this.#limits.maxHeaderBytes, 'the response header section');
    if (text === undefined) return false;
    const head = parseHead(text);
    if (head.status >= 100 && head.status < 200) {
      if (head.status === 101) throw malformed('the server switched protocols');
      if (++this.#informational > MAX_INFORMATIONAL) throw malformed(`more than ${MAX_INFORMATIONAL} informational responses`);
      return true;
    }
    this.#head = head;
    if (head.framing.kind === 'length') this.#reserve(head.framing.length);
    return true;
  }

  /** Makes room for `more` body bytes, within the body limit. */
  #reserve(more: number): void {
    const needed = this.#bodyLength + more;
    if (needed > this.#limits.maxBodyBytes) {
      throw new HttpResponseError('RESPONSE_TOO_LARGE', `response body exceeds ${this.#limits.maxBodyBytes} bytes`);
    }
    if (needed <= this.#body.length) return;
    // Zeroed: the body handed out is a view of this buffer, whose unused tail must hold no stale memory.
    const next = Buffer.alloc(Math.min(this.#limits.maxBodyBytes, Math.max(needed, 2 * this.#body.length, 1024)));
    this.#body.copy(next, 0, 0, this.#bodyLength);
    this.#body = next;
  }

  /** Moves n buffered bytes to the body. */
  #take(n: number): void {
    if (n <= 0) return;
    this.#reserve(n);
    this.#input.peek(n).copy(this.#body, this.#bodyLength);
    this.#bodyLength += n;
    this.#input.consume(n);
  }

  /** One step of the chunked coding (RFC 9112 7.1); false when more bytes are needed. */
  #readChunked(): boolean {
    if (this.#chunkLeft !== undefined && this.#chunkLeft > 0) {
      const n = Math.min(this.#chunkLeft, this.#input.length);
      this.#take(n);
      this.#chunkLeft -= n;
      return this.#input.length > 0;
    }
    if (this.#chunkLeft === 0) {
      if (this.#input.length < 2) return false;
      const crlf = this.#input.peek(2);
      if (crlf[0] !== 0x0d || crlf[1] !== 0x0a) throw malformed('chunk data not followed by CRLF');
      this.#input.consume(2);
      this.#countFraming(2);
      this.#chunkLeft = undefined;
      return true;
    }
    const line = this.#line(CRLF, this.#limits.maxHeaderBytes, this.#inTrailers ? 'a trailer line' : 'a chunk-size line');
    if (line === undefined) return false;
    if (this.#inTrailers) {
      if (line === '') {
        this.#done = this.#finish();
        return true;
      }
      fieldLine(line, 'trailer');
      return true;
    }
    const m = CHUNK_SIZE.exec(line);
    if (!m) throw malformed(`malformed chunk-size line: ${JSON.stringify(line.slice(0, 40))}`);
    const size = parseInt(m[1]!, 16);
    if (size === 0) {
      this.#inTrailers = true;
      return true;
    }
    this.#reserve(size);
    this.#chunkLeft = size;
    return true;
  }

  #finish(): HttpResponse {
    const head = this.#head!;
    this.#done = { status: head.status, headers: head.headers, body: this.#body.subarray(0, this.#bodyLength), keepAlive: head.keepAlive };
    return this.#done;
  }
}
