// Connection limits of the HTTPS server (issue 8, docs/operations.md "Connections and timeouts"): sockets that never
// finish TLS, connections beyond the per-address and global caps, trickled and stalled requests, idle keep-alive,
// each against a real server over TLS on loopback, with a legitimate client served while the attack runs.
import assert from 'node:assert/strict';
import { request, type RequestOptions } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { connectionCounts, connectionLimits, connectionServerOptions, sourceKey, type ConnectionLimits } from '../../src/http/connectionLimits.js';
import { createHttpsServer } from '../../src/http/server.js';
import { certificateToPem } from '../../src/pki/certificate.js';
import { issueTestCertificate, issueTestPki } from '../../src/pki/testPki.js';
import { McimError } from '../../src/errors.js';

const HOST = 'smdp.example.com';
const pki = issueTestPki({ smdpAddress: HOST });
const tlsCert = issueTestCertificate('dp-tls', pki.ci, { smdpAddress: HOST });
const KEY = tlsCert.privateKey.export({ type: 'pkcs8', format: 'pem' });
const CERT = certificateToPem(tlsCert.der);
const CA = certificateToPem(pki.ci.der);

// Loopback is 127.0.0.0/8 on Linux: attackers and the legitimate client use different source addresses.
const LEGIT = '127.0.0.1';
const ATTACKER = '127.0.0.2';
const ATTACKER_2 = '127.0.0.3';
const ATTACKER_3 = '127.0.0.4';

const servers: FastifyInstance[] = [];
const sockets: Socket[] = [];

after(async () => {
  for (const s of sockets) s.destroy();
  for (const app of servers) await app.close();
});

async function serve(connections: Partial<ConnectionLimits>, bodyLimit?: number): Promise<{ app: FastifyInstance; port: number }> {
  const app = createHttpsServer({ key: KEY, cert: CERT, connections, ...(bodyLimit === undefined ? {} : { bodyLimit }) });
  app.get('/ping', async () => ({ ok: true }));
  app.post('/echo', async (req) => ({ received: JSON.stringify(req.body).length }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  servers.push(app);
  return { app, port: (app.server.address() as AddressInfo).port };
}

const tlsOptions = { ca: CA, servername: HOST };

/** A GET /ping on a connection of its own from `localAddress`: the status, or the error's code. */
function legitRequest(port: number, localAddress = LEGIT, extra: RequestOptions = {}): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, localAddress, path: '/ping', agent: false, timeout: 5000, ...tlsOptions, ...extra }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

interface RawConnection {
  readonly socket: Socket;
  readonly connectedAt: number;
  /** Resolves with the milliseconds from connect to close. */
  readonly closed: Promise<number>;
  isClosed(): boolean;
}

/** A TCP connection from `localAddress` that sends nothing (unless the caller writes). */
function rawConnect(port: number, localAddress: string): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port, localAddress });
    sockets.push(socket);
    socket.on('error', () => undefined);
    let closedFlag = false;
    socket.once('connect', () => {
      const connectedAt = Date.now();
      const closed = new Promise<number>((r) =>
        socket.once('close', () => {
          closedFlag = true;
          r(Date.now() - connectedAt);
        }),
      );
      resolve({ socket, connectedAt, closed, isClosed: () => closedFlag });
    });
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
}

/** A TLS connection from `localAddress`, resolved once the handshake completed; rejected with the error's code otherwise. */
function tlsRaw(port: number, localAddress: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tcp = netConnect({ host: '127.0.0.1', port, localAddress });
    const socket = tlsConnect({ socket: tcp, ...tlsOptions });
    sockets.push(tcp, socket);
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code ?? e.message)));
    socket.once('close', () => reject(new Error('closed before the handshake completed')));
  });
}

/** The server's open connections as node counts them. */
function openConnections(app: FastifyInstance): Promise<number> {
  return new Promise((resolve, reject) => app.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
}

/** Waits until `check` holds, polling every 20 ms, for at most `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What the server answered on a raw TLS connection until it closed it, and when (ms after `since`). */
function collect(socket: TLSSocket, since: number): Promise<{ text: string; ms: number }> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve({ text, ms: Date.now() - since }));
  });
}

describe('connection limits: configuration', () => {
  it('counts IPv4 (also IPv4-mapped) addresses one by one and IPv6 addresses by /64', () => {
    assert.equal(sourceKey('192.0.2.7'), '192.0.2.7');
    assert.equal(sourceKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(sourceKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(sourceKey('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.equal(sourceKey('2001:0db8:0001:0002:0:0:0:5'), '2001:db8:1:2::/64');
    assert.equal(sourceKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(sourceKey('::1'), '0:0:0:0::/64');
    assert.equal(sourceKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
    assert.notEqual(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:3::1'));
  });

  it('takes defaults for what is not given and refuses out-of-range values', () => {
    assert.equal(connectionLimits({ maxConnections: 7 }).maxConnections, 7);
    assert.equal(connectionLimits({ maxConnections: undefined }).maxConnections, 512);
    assert.equal(connectionLimits().handshakeTimeoutMs, 10_000);
    for (const bad of [{ maxConnections: -1 }, { maxConnectionsPerAddress: 1.5 }, { handshakeTimeoutMs: 0 }, { requestTimeoutMs: Number.NaN }, { headersTimeoutMs: 20_000, requestTimeoutMs: 10_000 }]) {
      assert.throws(
        () => connectionLimits(bad),
        (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT',
        JSON.stringify(bad),
      );
    }
    // Node checks header and request timeouts every 30 s unless told otherwise: the interval follows the timeouts.
    assert.equal(connectionServerOptions(connectionLimits({ headersTimeoutMs: 400, requestTimeoutMs: 800 })).connectionsCheckingInterval, 100);
    assert.equal(connectionServerOptions(connectionLimits()).connectionsCheckingInterval, 1000);
  });
});

describe('connection limits against a real TLS server on loopback', () => {
  it('sockets that never complete a TLS handshake are closed within the handshake timeout; a legitimate request is served meanwhile', { timeout: 15_000 }, async () => {
    const { app, port } = await serve({ handshakeTimeoutMs: 500, maxConnectionsPerAddress: 0 });
    // 60 sockets that never send a ClientHello, and 5 that trickle one: a record header announcing 12 KB, then a byte every 100 ms.
    const silent = await Promise.all(Array.from({ length: 60 }, () => rawConnect(port, ATTACKER)));
    const trickling = await Promise.all(Array.from({ length: 5 }, () => rawConnect(port, ATTACKER_2)));
    const timers = trickling.map((c) => {
      c.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x30, 0x00, 0x01, 0x00, 0x2f, 0xfc, 0x03, 0x03]));
      return setInterval(() => c.socket.write(Buffer.from([0])), 100);
    });
    try {
      await until(async () => (await openConnections(app)) === 65, 2000, 'the server holds the 65 attacking connections');
      assert.equal(await legitRequest(port), 200);
      // Node's default is 120 s: every socket is closed by the 500 ms timeout, the trickled ones included.
      const attack = [...silent, ...trickling];
      await until(() => attack.every((c) => c.isClosed()), 4000, 'every attacking socket closed');
      const lifetimes = await Promise.all(attack.map((c) => c.closed));
      assert.ok(Math.min(...lifetimes) >= 400, `a socket closed after ${Math.min(...lifetimes)} ms, before the timeout`);
    } finally {
      for (const t of timers) clearInterval(t);
    }
    await until(() => connectionCounts(app.server)?.open === 0, 2000, 'all connections closed');
    assert.equal(connectionCounts(app.server)?.addresses, 0, 'the per-address accounting is empty again');
  });

  it('connections beyond the per-address cap are closed at once, before TLS; other addresses are served; the global cap holds', { timeout: 15_000 }, async () => {
    const { app, port } = await serve({ maxConnectionsPerAddress: 8, maxConnections: 12, handshakeTimeoutMs: 5000 });
    const attempts: RawConnection[] = [];
    for (let i = 0; i < 20; i++) attempts.push(await rawConnect(port, ATTACKER));
    await until(() => attempts.filter((c) => c.isClosed()).length === 12, 2000, '12 of 20 connections from one address closed');
    // Closed on accept: long before the 5 s handshake timeout.
    for (const c of attempts.filter((a) => a.isClosed())) assert.ok((await c.closed) < 2000);
    assert.equal(attempts.filter((c) => !c.isClosed()).length, 8);
    assert.equal(connectionCounts(app.server)?.refusedPerAddress, 12);
    // A TLS client from the capped address is refused before its handshake; one from another address is served.
    await assert.rejects(tlsRaw(port, ATTACKER));
    assert.equal(await legitRequest(port), 200);

    // The global cap: 8 + 4 connections fill it; the next one, from a third address, is refused.
    const second = await Promise.all(Array.from({ length: 4 }, () => rawConnect(port, ATTACKER_2)));
    await until(() => connectionCounts(app.server)?.open === 12, 2000, '12 open connections');
    const third = await rawConnect(port, ATTACKER_3);
    assert.ok((await third.closed) < 2000);
    assert.notEqual(await legitRequest(port), 200, 'the global cap refuses every address');
    assert.equal(connectionCounts(app.server)?.refusedGlobal, 2);
    for (const c of second) c.socket.destroy();
    await until(() => connectionCounts(app.server)?.open === 8, 2000, 'the second address closed its connections');
    assert.equal(await legitRequest(port), 200, 'served again once below the cap');

    for (const c of attempts) c.socket.destroy();
    await until(() => connectionCounts(app.server)?.open === 0, 2000, 'all connections closed');
    assert.equal(connectionCounts(app.server)?.addresses, 0, 'the per-address accounting is empty again');
  });

  it('trickled headers and trickled or stalled bodies are cut off (408); held bodies are bounded by the cap times the body limit', { timeout: 15_000 }, async () => {
    const BODY_LIMIT = 64 * 1024;
    const CAP = 6;
    const { app, port } = await serve({ maxConnectionsPerAddress: CAP, maxConnections: 50, headersTimeoutMs: 400, requestTimeoutMs: 800, idleTimeoutMs: 10_000 }, BODY_LIMIT);
    const head = (length: number): string =>
      `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

    // A body larger than the limit is refused whole (413) before it is read.
    const big = await tlsRaw(port, ATTACKER);
    const bigAnswer = collect(big, Date.now());
    big.end(head(BODY_LIMIT + 1));
    assert.match((await bigAnswer).text, /^HTTP\/1\.1 413 /);

    // CAP + 4 connections from one address: CAP are accepted, and each starts a request of nearly the body limit.
    const start = Date.now();
    const results = await Promise.allSettled(Array.from({ length: CAP + 4 }, () => tlsRaw(port, ATTACKER)));
    const held = results.filter((r): r is PromiseFulfilledResult<TLSSocket> => r.status === 'fulfilled').map((r) => r.value);
    assert.equal(held.length, CAP, 'the per-address cap bounds the connections that can hold a body');
    const answers = held.map((s) => collect(s, start));
    const timers: NodeJS.Timeout[] = [];
    held.forEach((socket, i) => {
      if (i === 0) {
        // Headers trickled a byte every 50 ms.
        const text = head(10);
        let at = 0;
        timers.push(setInterval(() => at < text.length && socket.write(text[at++]!), 50));
      } else {
        socket.write(head(BODY_LIMIT) + '"' + 'x'.repeat(BODY_LIMIT - 8 * 1024));
        // Bodies trickled a byte every 100 ms (the idle timeout never fires), or stalled.
        if (i % 2 === 1) timers.push(setInterval(() => socket.write('x'), 100));
      }
    });
    try {
      assert.ok((connectionCounts(app.server)?.open ?? 0) <= CAP);
      // A legitimate client from another address is served while the bodies are held.
      assert.equal(await legitRequest(port), 200);
      const outcomes = await Promise.all(answers);
      for (const [i, o] of outcomes.entries()) {
        assert.match(o.text, /^HTTP\/1\.1 408 /, `connection ${i}: ${o.text.slice(0, 40)}`);
        assert.ok(o.ms < 5000, `connection ${i} held ${o.ms} ms`);
      }
    } finally {
      for (const t of timers) clearInterval(t);
    }
    await until(() => connectionCounts(app.server)?.open === 0, 2000, 'all connections closed');
  });

  it('a keep-alive connection idle beyond the keep-alive timeout is closed; one serves at most maxRequestsPerSocket requests', { timeout: 15_000 }, async () => {
    const { port } = await serve({ keepAliveTimeoutMs: 300, maxRequestsPerSocket: 3 });
    const get = `GET /ping HTTP/1.1\r\nHost: ${HOST}\r\nConnection: keep-alive\r\n\r\n`;
    /** Sends GET /ping on `socket` and resolves with the response head once the whole response arrived. */
    const exchange = (socket: TLSSocket): Promise<string> =>
      new Promise((resolve) => {
        let text = '';
        const onData = (c: Buffer): void => {
          text += c.toString('latin1');
          const end = text.indexOf('\r\n\r\n');
          const length = /content-length: (\d+)/i.exec(text);
          if (end >= 0 && length && text.length >= end + 4 + Number(length[1])) {
            socket.off('data', onData);
            resolve(text.slice(0, end));
          }
        };
        socket.on('data', onData);
        socket.write(get);
      });

    // A client that keeps its connection after a response and sends nothing more: the server closes it.
    const idle = await tlsRaw(port, LEGIT);
    assert.match(await exchange(idle), /^HTTP\/1\.1 200 [\s\S]*connection: keep-alive/i);
    const since = Date.now();
    const ms = await new Promise<number>((resolve) => idle.once('close', () => resolve(Date.now() - since)));
    assert.ok(ms >= 200 && ms < 3000, `closed after ${ms} ms idle`);

    // Three requests on one connection; the third response closes it.
    const busy = await tlsRaw(port, LEGIT);
    const closed = new Promise<void>((resolve) => busy.once('close', () => resolve()));
    assert.match(await exchange(busy), /connection: keep-alive/i);
    assert.match(await exchange(busy), /connection: keep-alive/i);
    assert.match(await exchange(busy), /connection: close/i);
    await closed;
  });
});
