// Cluster health (issue 8, docs/operations.md "Cluster"): the primary replaces a worker that stops answering its
// heartbeat while the port keeps serving over TLS, and a crash loop backs off (capped) instead of stopping the cluster.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { certificateToPem } from '../../src/pki/certificate.js';
import { issueTestCertificate, issueTestPki } from '../../src/pki/testPki.js';
import { DEFAULT_RESTART_BACKOFF, restartPlan, type RestartBackoff } from '../../src/smdpp/cluster.js';

const FIXTURE = fileURLToPath(new URL('./clusterFixture.js', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const HOST = 'smdp.example.com';
const dir = mkdtempSync(join(tmpdir(), 'mcim-cluster-health-'));
const pki = issueTestPki({ smdpAddress: HOST });
const tlsCert = issueTestCertificate('dp-tls', pki.ci, { smdpAddress: HOST });
writeFileSync(join(dir, 'key.pem'), tlsCert.privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(join(dir, 'cert.pem'), certificateToPem(tlsCert.der));
const CA = certificateToPem(pki.ci.der);
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Primary {
  readonly child: ChildProcess;
  /** Log lines so far (stderr). */
  readonly lines: string[];
  readonly port: Promise<number>;
  readonly exited: Promise<number | null>;
}

function startPrimary(mode: 'serve' | 'crash', options: Record<string, unknown>): Primary {
  const child = spawn(process.execPath, [FIXTURE, dir, mode, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    const parts = err.split('\n');
    err = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`the primary exited (${code}) before listening: ${lines.join('\n')}`)));
  });
  return { child, lines, port, exited };
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** GET `path` over TLS: the worker's pid, or rejection after `timeoutMs`. */
function getPid(port: number, path: string, options: RequestOptions = { agent: false }, timeoutMs = 3000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca: CA, servername: HOST, timeout: timeoutMs, ...options }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve((JSON.parse(body) as { pid: number }).pid));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Child processes of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('cluster: restart backoff policy', () => {
  const policy: RestartBackoff = { initialDelayMs: 100, maxDelayMs: 1000, stableAfterMs: 5000 };

  it('replaces the first death at once, then doubles the delay up to the cap, and never gives up', () => {
    const delays: number[] = [];
    let consecutive = 0;
    for (let i = 0; i < 40; i++) {
      const plan = restartPlan(consecutive, 10, policy);
      consecutive = plan.consecutive;
      delays.push(plan.delayMs);
    }
    assert.deepEqual(delays.slice(0, 7), [0, 100, 200, 400, 800, 1000, 1000]);
    assert.ok(delays.slice(7).every((d) => d === 1000));
    assert.equal(consecutive, 40);
    // Far into a crash loop the delay stays at the cap (no overflow to Infinity or NaN).
    assert.equal(restartPlan(100_000, 10, policy).delayMs, 1000);
  });

  it('a worker that ran stably before it died ends the series: its replacement starts at once', () => {
    assert.deepEqual(restartPlan(9, 5000, policy), { consecutive: 1, delayMs: 0 });
    assert.deepEqual(restartPlan(9, 4999, policy), { consecutive: 10, delayMs: 1000 });
  });

  it('the delay never decreases within a series and never exceeds the cap', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 100_000 }), (n, initial, extra) => {
        const p = { initialDelayMs: initial, maxDelayMs: initial + extra, stableAfterMs: DEFAULT_RESTART_BACKOFF.stableAfterMs };
        const a = restartPlan(n, 0, p).delayMs;
        const b = restartPlan(n + 1, 0, p).delayMs;
        return a <= b && b <= p.maxDelayMs && Number.isFinite(b);
      }),
    );
  });
});

describe('cluster health over TLS on loopback', () => {
  it('a worker whose event loop is pinned stops answering heartbeats and is replaced; the port keeps serving', { timeout: 30_000 }, async () => {
    const primary = startPrimary('serve', { workers: 2, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1500 });
    const port = await primary.port;
    // One connection (keep-alive): learn its worker's pid, then pin that worker with /block on the same connection.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const pinned = await getPid(port, '/pid', { agent });
      getPid(port, '/block', { agent }, 60_000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
      // While it is pinned, and after, new connections are served (by the other worker, then also by the replacement).
      const servedBy = await getPid(port, '/pid');
      assert.notEqual(servedBy, pinned);
      await until(() => primary.lines.some((l) => l.startsWith(`worker ${pinned} stopped answering heartbeats`)), 8000, `the primary replaces worker ${pinned}`);
      const line = primary.lines.find((l) => l.startsWith(`worker ${pinned} `))!;
      assert.match(line, /^worker \d+ stopped answering heartbeats for 1500 ms: killed after \d+ ms: replacing it now$/);
      assert.equal(primary.lines.filter((l) => l.startsWith('worker ')).length, 1, 'one line per replacement');
      await until(() => !alive(pinned), 2000, 'the pinned worker is gone');
      if (existsSync('/proc/self/stat')) {
        await until(() => childrenOf(primary.child.pid!).length === 2, 5000, 'two workers again: the replacement started');
      }
      for (let i = 0; i < 10; i++) assert.notEqual(await getPid(port, '/pid'), pinned);
      assert.equal(primary.child.exitCode, null, 'the primary keeps running');
    } finally {
      agent.destroy();
    }
    // Prompt exit on SIGTERM (a shutdown message lost by a worker still starting would cost the 10 s kill timeout).
    primary.child.kill('SIGTERM');
    assert.equal(await Promise.race([primary.exited, new Promise((r) => setTimeout(() => r('no exit within 5 s'), 5000).unref())]), 0);
  });

  it('a crash loop backs off, capped, instead of stopping the cluster', { timeout: 30_000 }, async () => {
    const primary = startPrimary('crash', { workers: 1, restartBackoff: { initialDelayMs: 50, maxDelayMs: 200, stableAfterMs: 10_000 } });
    await primary.port;
    // More crashes than the five after which the primary used to stop everything.
    const replacements = (): string[] => primary.lines.filter((l) => /^worker \d+ exited \(code 3\)/.test(l));
    await until(() => replacements().length >= 6, 20_000, '6 replacements');
    const delays = replacements()
      .slice(0, 6)
      .map((l) => {
        const m = /replacing it (?:now|in (\d+) ms)/.exec(l);
        assert.ok(m, l);
        return m[1] === undefined ? 0 : Number(m[1]);
      });
    assert.deepEqual(delays, [0, 50, 100, 200, 200, 200]);
    assert.equal(primary.child.exitCode, null, 'the primary keeps running');
    primary.child.kill('SIGTERM');
    assert.equal(await primary.exited, 0);
  });

  it('mcim serve --workers 2 hands its connection-limit flags to the workers', { timeout: 30_000 }, async () => {
    const args = ['serve', '--data', join(dir, 'smdp'), '--port', '0', '--workers', '2', '--handshake-timeout', '300', '--max-connections-per-address', '3', '--heartbeat-interval', '100', '--heartbeat-timeout', '1000'];
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /https:\/\/127\.0\.0\.1:(\d+)\/[\s\S]*\(2 worker processes\)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      void exited.then((code) => reject(new Error(`mcim serve exited (${code}) before listening`)));
    });
    // Three silent sockets from one address are held until the 300 ms handshake timeout; a fourth is refused at once.
    const open = (): Promise<{ socket: Socket; closed: Promise<number> }> =>
      new Promise((resolve, reject) => {
        const socket = netConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
        socket.on('error', () => undefined);
        socket.once('connect', () => {
          const at = Date.now();
          resolve({ socket, closed: new Promise((r) => socket.once('close', () => r(Date.now() - at))) });
        });
        socket.once('close', () => reject(new Error('closed before connecting')));
      });
    // The cap is per worker and the kernel spreads connections over the two: whatever the spread, each socket closes
    // within the handshake timeout, and at most 2 x 3 of 8 outlive their accept.
    const sockets: { socket: Socket; closed: Promise<number> }[] = [];
    for (let i = 0; i < 8; i++) sockets.push(await open());
    const lifetimes = await Promise.race([
      Promise.all(sockets.map((s) => s.closed)),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('sockets held beyond 3 s')), 3000).unref()),
    ]);
    assert.ok(lifetimes.filter((ms) => ms >= 250).length <= 6, `held: ${lifetimes.join(', ')}`);
    assert.ok(lifetimes.filter((ms) => ms < 250).length >= 2, `refused at once: ${lifetimes.join(', ')}`);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
