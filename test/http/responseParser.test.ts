// HTTP/1.1 response framing (RFC 9112): every framing, split anywhere, and the refusals with their codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HttpResponseError, HttpResponseParser, type HttpResponse, type HttpResponseErrorCode } from '../../src/http/responseParser.js';

const LIMITS = { maxHeaderBytes: 1024, maxBodyBytes: 4096 };

/** Feeds `wire` cut at `cuts`; ends the connection if no response completed. */
function parse(wire: string | Buffer, cuts: readonly number[] = [], end = false): HttpResponse | undefined {
  const bytes = typeof wire === 'string' ? Buffer.from(wire, 'latin1') : wire;
  const parser = new HttpResponseParser(LIMITS);
  let last = 0;
  let response: HttpResponse | undefined;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    response = parser.push(bytes.subarray(last, cut)) ?? response;
    last = cut;
  }
  response = parser.push(bytes.subarray(last)) ?? response;
  return end ? parser.end() : response;
}

function refused(code: HttpResponseErrorCode, fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof HttpResponseError && e.code === code);
}

const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer-Field: x\r\n\r\n';

describe('HttpResponseParser', () => {
  it('reads a Content-Length body, keeps the connection alive, lower-cases and joins header fields', () => {
    const r = parse('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nX-Admin-Protocol: gsma/rsp/v2.5.0\r\n\r\n{}')!;
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '{}');
    assert.equal(r.keepAlive, true);
    assert.equal(r.headers['x-admin-protocol'], 'gsma/rsp/v2.5.0');
    assert.equal(parse(CHUNKED)!.headers['x-a'], '1, 2');
  });

  it('reads a chunked body with extensions and trailers', () => {
    const r = parse(CHUNKED)!;
    assert.equal(r.body.toString(), 'hello 0123456789');
    assert.equal(r.keepAlive, true);
  });

  it('reads a body delimited by the end of the connection, and 204 with none', () => {
    assert.equal(parse('HTTP/1.1 200 OK\r\n\r\nuntil the end', [], false), undefined);
    const r = parse('HTTP/1.1 200 OK\r\n\r\nuntil the end', [], true)!;
    assert.equal(r.body.toString(), 'until the end');
    assert.equal(r.keepAlive, false);
    const none = parse('HTTP/1.1 204 No Content\r\nX-Admin-Protocol: gsma/rsp/v2.5.0\r\n\r\n')!;
    assert.equal(none.status, 204);
    assert.equal(none.body.length, 0);
  });

  it('skips informational responses and honours Connection: close and HTTP/1.0', () => {
    const r = parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx')!;
    assert.equal(r.body.toString(), 'x');
    assert.equal(r.keepAlive, false);
    assert.equal(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')!.keepAlive, false);
    assert.equal(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n')!.keepAlive, true);
  });

  it('gives the same response however the bytes are split', () => {
    const wires = [CHUNKED, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\n0123456789'];
    fc.assert(
      fc.property(fc.constantFrom(...wires), fc.array(fc.nat(), { maxLength: 12 }), (wire, raw) => {
        const cuts = raw.map((c) => c % (wire.length + 1));
        const whole = parse(wire)!;
        const split = parse(wire, cuts)!;
        assert.equal(split.status, whole.status);
        assert.deepEqual(split.headers, whole.headers);
        assert.deepEqual(split.body, whole.body);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses ambiguous framing: Transfer-Encoding with Content-Length, differing or invalid lengths, other codings', () => {
    refused('MALFORMED_RESPONSE', () => parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n'));
    refused('MALFORMED_RESPONSE', () => parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n'));
    refused('MALFORMED_RESPONSE', () => parse('HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n'));
    refused('MALFORMED_RESPONSE', () => parse('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'));
    refused('MALFORMED_RESPONSE', () => parse('HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n'));
    refused('MALFORMED_RESPONSE', () => parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'));
    // Identical repeated lengths are one length.
    assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx')!.body.toString(), 'x');
  });

  it('refuses what is not an HTTP/1.1 response head', () => {
    for (const wire of [
      'HTTP/2 200 OK\r\n\r\n',
      'HTTP/1.1 20 OK\r\n\r\n',
      'HTTP/1.1 200OK\r\n\r\n',
      'SSH-2.0-OpenSSH\r\n\r\n',
      'HTTP/1.1 200 OK\r\n folded: value\r\n\r\n',
      'HTTP/1.1 200 OK\r\nNo Colon\r\n\r\n',
      'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX: a\u0000b\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
    ]) {
      refused('MALFORMED_RESPONSE', () => parse(wire));
    }
  });

  it('refuses malformed chunked coding', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    refused('MALFORMED_RESPONSE', () => parse(`${head}zz\r\n`));
    refused('MALFORMED_RESPONSE', () => parse(`${head}123456789\r\n`));
    refused('MALFORMED_RESPONSE', () => parse(`${head}2\r\nabX\r\n`));
    refused('MALFORMED_RESPONSE', () => parse(`${head}0\r\nno colon\r\n\r\n`));
  });

  it('keeps fields named like Object properties as fields', () => {
    const r = parse('HTTP/1.1 200 OK\r\nConstructor: x\r\n__proto__: y\r\nContent-Length: 0\r\n\r\n')!;
    assert.equal(r.headers['constructor'], 'x');
    assert.equal(r.headers['__proto__'], 'y');
  });

  it('refuses Transfer-Encoding in HTTP/1.0, endless informational responses and framing floods', () => {
    refused('MALFORMED_RESPONSE', () => parse('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n'));
    refused('MALFORMED_RESPONSE', () => parse(`${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(9)}HTTP/1.1 204 No Content\r\n\r\n`));
    // A 3,000-byte body sent one byte per chunk: 15,000 bytes of framing for 3,000 of body.
    refused('RESPONSE_TOO_LARGE', () => parse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'1\r\nx\r\n'.repeat(3000)}0\r\n\r\n`));
    refused('RESPONSE_TOO_LARGE', () => parse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'T: 1\r\n'.repeat(1000)}\r\n`));
    // The same body in ordinary chunks is fine.
    assert.equal(parse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'3E8\r\n'}${'x'.repeat(1000)}\r\n${'3E8\r\n'}${'y'.repeat(1000)}\r\n0\r\n\r\n`)!.body.length, 2000);
  });

  it('refuses oversized heads and bodies, truncated responses and unasked-for bytes', () => {
    refused('RESPONSE_TOO_LARGE', () => parse(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(2000)}\r\n\r\n`));
    refused('RESPONSE_TOO_LARGE', () => parse(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(2000)}`));
    refused('RESPONSE_TOO_LARGE', () => parse('HTTP/1.1 200 OK\r\nContent-Length: 4097\r\n\r\n'.padEnd(4200, 'x')));
    refused('RESPONSE_TOO_LARGE', () => parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFF\r\n'));
    refused('RESPONSE_TOO_LARGE', () => parse(`HTTP/1.1 200 OK\r\n\r\n${'x'.repeat(5000)}`));
    refused('TRUNCATED_RESPONSE', () => parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc', [], true));
    refused('TRUNCATED_RESPONSE', () => parse('HTTP/1.1 200 OK\r\nContent-', [], true));
    refused('TRUNCATED_RESPONSE', () => parse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab`, [], true));
    refused('UNEXPECTED_DATA', () => parse('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n'));
  });
});
