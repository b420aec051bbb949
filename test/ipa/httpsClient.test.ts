// The IPA's HTTPS client over node:tls against a raw TLS server: framings real servers use, reconnection, refusals.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { certificateToPem } from '../../src/pki/certificate.js';
import { issueTestPki } from '../../src/pki/testPki.js';
import { IpaError } from '../../src/ipa/errors.js';
import { HttpsClient } from '../../src/ipa/httpsClient.js';

describe('HttpsClient', { timeout: 30_000 }, () => {
  const pki = issueTestPki();
  const ca = [certificateToPem(pki.ci.der)];
  /** What the server answers to the next request, and the requests (head and body) it saw, by connection. */
  let answers: string[] = [];
  const seen: { connection: number; request: string }[] = [];
  let connections = 0;
  let server: Server;
  let port = 0;

  before(async () => {
    server = createServer({ cert: certificateToPem(pki.dpTls.der), key: pki.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }) }, (socket: TLSSocket) => {
      const id = connections++;
      let buffered = '';
      socket.on('data', (d: Buffer) => {
        buffered += d.toString('latin1');
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? '0');
        if (buffered.length < end + 4 + length) return;
        seen.push({ connection: id, request: buffered.slice(0, end + 4 + length) });
        buffered = buffered.slice(end + 4 + length);
        const answer = answers.shift() ?? 'HTTP/1.1 500 Nothing scripted\r\nContent-Length: 0\r\n\r\n';
        const [now, later] = answer.split('<later>') as [string, string | undefined];
        if (now.endsWith('<close>')) socket.end(now.slice(0, -'<close>'.length));
        else socket.write(now);
        if (later !== undefined) setTimeout(() => socket.write(later), 20);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((ok) => server.close(() => ok())));

  const url = (): string => `https://${pki.smdpAddress}:${port}/gsma/rsp2/es9plus/initiateAuthentication`;

  it('reads chunked and Content-Length answers over one connection, and reconnects after Connection: close', async () => {
    answers = [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n3\r\n{"a\r\n4\r\n":1}\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
      'HTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.1 200 OK\r\n\r\nbody to the end<close>',
    ];
    seen.length = 0;
    const client = new HttpsClient({ ca, connect: { host: '127.0.0.1', port } });
    try {
      const first = await client.post(url(), { 'Content-Type': 'application/json' }, Buffer.from('{"x":1}'));
      assert.equal(first.status, 200);
      assert.equal(first.body.toString(), '{"a":1}');
      assert.equal(first.headers['content-type'], 'application/json');
      assert.equal((await client.post(url(), {}, Buffer.from('{}'))).body.toString(), '{}');
      assert.equal((await client.post(url(), {}, Buffer.alloc(0))).status, 204);
      assert.equal((await client.post(url(), {}, Buffer.alloc(0))).body.toString(), 'body to the end');
    } finally {
      client.close();
    }
    assert.deepEqual(
      seen.map((s) => s.connection),
      [seen[0]!.connection, seen[0]!.connection, seen[0]!.connection + 1, seen[0]!.connection + 1],
    );
    assert.match(seen[0]!.request, /^POST \/gsma\/rsp2\/es9plus\/initiateAuthentication HTTP\/1\.1\r\nHost: [^\r]+\r\nContent-Type: application\/json\r\nContent-Length: 7\r\n\r\n\{"x":1\}$/);
  });

  it('writes its own framing fields and refuses a field line that would inject another', async () => {
    answers = ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'];
    seen.length = 0;
    const client = new HttpsClient({ ca, connect: { host: '127.0.0.1', port } });
    try {
      await client.post(url(), { 'Content-Length': '999', 'transfer-encoding': 'chunked', Host: 'evil.example' }, Buffer.from('ab'));
      assert.doesNotMatch(seen[0]!.request, /999|chunked|evil/);
      assert.match(seen[0]!.request, /Content-Length: 2\r\n/);
      const injections: Record<string, string>[] = [{ 'X-A': 'a\r\nX-Injected: 1' }, { 'X A': 'b' }, { 'X-B': 'c\nd' }];
      for (const headers of injections) {
        await assert.rejects(client.post(url(), headers, Buffer.alloc(0)), (e: unknown) => e instanceof IpaError && e.code === 'INVALID_ARGUMENT');
      }
      assert.equal(seen.length, 1);
    } finally {
      client.close();
    }
  });

  it('does not read bytes that arrive while idle as the next answer: that connection is dropped', async () => {
    // The first answer is followed, 20 ms later, by a second one nobody asked for.
    answers = ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA<later>HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nSTALE', 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal'];
    seen.length = 0;
    const client = new HttpsClient({ ca, connect: { host: '127.0.0.1', port } });
    try {
      assert.equal((await client.post(url(), {}, Buffer.alloc(0))).body.toString(), 'A');
      await new Promise((r) => setTimeout(r, 80));
      assert.equal((await client.post(url(), {}, Buffer.alloc(0))).body.toString(), 'real');
    } finally {
      client.close();
    }
    assert.equal(seen.length, 2);
    assert.notEqual(seen[1]!.connection, seen[0]!.connection);
  });

  it('close() during the TLS handshake ends the connection and the request fails at once', async () => {
    const { createServer: createTcpServer } = await import('node:net');
    const closed: Promise<void>[] = [];
    const silent = createTcpServer((s) => {
      s.on('error', () => undefined);
      s.resume();
      closed.push(new Promise((ok) => s.once('close', () => ok())));
    });
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    try {
      const silentPort = (silent.address() as AddressInfo).port;
      const client = new HttpsClient({ ca, connect: { host: '127.0.0.1', port: silentPort }, timeoutMs: 20_000 });
      const started = Date.now();
      const pending = client.post(url(), {}, Buffer.alloc(0));
      await new Promise((r) => setTimeout(r, 50));
      client.close();
      await assert.rejects(pending, (e: unknown) => e instanceof IpaError && e.code === 'TRANSPORT_ERROR');
      assert.ok(Date.now() - started < 10_000);
      assert.equal(closed.length, 1);
      // The server sees the connection go (a hang here fails the test on its timeout).
      await closed[0];
    } finally {
      silent.close();
    }
  });

  it('trusts what the CA list holds now: a list changed after use gets a context of its own', async () => {
    answers = ['HTTP/1.1 204 No Content\r\n\r\n'];
    const list = [...ca];
    const first = new HttpsClient({ ca: list, connect: { host: '127.0.0.1', port } });
    await first.post(url(), {}, Buffer.alloc(0));
    first.close();
    list[0] = certificateToPem(issueTestPki().ci.der);
    const second = new HttpsClient({ ca: list, connect: { host: '127.0.0.1', port } });
    await assert.rejects(second.post(url(), {}, Buffer.alloc(0)), (e: unknown) => e instanceof IpaError && e.code === 'TRANSPORT_ERROR');
    second.close();
  });

  it('refuses arguments that are not a string URL, a header object and bytes', async () => {
    const client = new HttpsClient({ ca, connect: { host: '127.0.0.1', port } });
    await assert.rejects(client.post(url(), {}, 'text' as unknown as Buffer), (e: unknown) => e instanceof IpaError && e.code === 'INVALID_ARGUMENT');
    await assert.rejects(client.post('http://example.com/', {}, Buffer.alloc(0)), (e: unknown) => e instanceof IpaError && e.code === 'INVALID_ARGUMENT');
    client.close();
  });

  it('answers TRANSPORT_ERROR for malformed, oversized and cut-off responses and for an untrusted server', async () => {
    const cases = [
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort<close>',
      `HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n${'x'.repeat(2000)}`,
      'NOT HTTP\r\n\r\n',
    ];
    for (const answer of cases) {
      answers = [answer];
      const client = new HttpsClient({ ca, connect: { host: '127.0.0.1', port }, maxResponseBytes: 1000 });
      await assert.rejects(client.post(url(), {}, Buffer.alloc(0)), (e: unknown) => e instanceof IpaError && e.code === 'TRANSPORT_ERROR');
      client.close();
    }
    const untrusted = new HttpsClient({ ca: [certificateToPem(issueTestPki().ci.der)], connect: { host: '127.0.0.1', port } });
    await assert.rejects(untrusted.post(url(), {}, Buffer.alloc(0)), (e: unknown) => e instanceof IpaError && e.code === 'TRANSPORT_ERROR');
    untrusted.close();
    const slow = new HttpsClient({ ca, connect: { host: '127.0.0.1', port }, timeoutMs: 200 });
    answers = ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nnever'];
    await assert.rejects(slow.post(url(), {}, Buffer.alloc(0)), (e: unknown) => e instanceof IpaError && /within 200 ms/.test(e.message));
    slow.close();
  });
});
