// `mcim serve --workers 2 --metrics-port 0`: JSON logs on standard output by default (security events, no secrets) and one metrics endpoint summing both workers.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initSmdpDataDir } from '../../src/smdpp/dataDir.js';
import { MCIM_MAIN as MAIN, es9Post, startServe, type ServeProcess } from '../helpers/serveProcess.js';
import { EuiccSimulator } from './euiccSimulator.js';
import { pkiFromDir } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'mcim-serve-observe-'));
let server: ServeProcess | undefined;
after(() => {
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

interface Served {
  port: number;
  metricsPort: number;
  ca: Buffer;
  stdout: () => string;
}

async function serve(args: readonly string[]): Promise<Served> {
  server = await startServe(
    ['--data', join(dir, 'data'), '--port', '0', ...args],
    [/https:\/\/127\.0\.0\.1:(\d+)\/[\s\S]*--ca (\S+)[\s\S]*worker processes/, /metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics/],
    15_000,
  );
  const [port, metrics] = server.matches;
  return { port: server.port, metricsPort: Number(metrics![1]), ca: readFileSync(port![2]!), stdout: server.stdout };
}

/** One call on a connection of its own, so that calls spread over the workers. */
async function post(s: Served, fn: string, body: unknown): Promise<Record<string, unknown>> {
  return (await es9Post(s.port, s.ca, fn, body)).body;
}

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    }).on('error', reject);
  });
}

describe('mcim serve: logs and metrics', () => {
  it('logs each refused call as a JSON security event and serves the two workers\' metrics summed', { timeout: 40_000 }, async () => {
    const s = await serve(['--workers', '2', '--metrics-port', '0']);
    const transactionId = 'A1B2C3D4E5F60718293A4B5C6D7E8F90';
    const events = (): Record<string, unknown>[] =>
      s.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['event'] === 'es9.failed');
    const waitForEvents = async (n: number): Promise<Record<string, unknown>[]> => {
      // Log lines reach standard output a moment after the answers.
      const deadline = Date.now() + 5000;
      while (events().length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return events();
    };
    // Calls until both workers have answered some (each connection goes to either): the sum must count them all.
    let calls = 0;
    while (calls < 60 && new Set((await waitForEvents(calls)).map((l) => l['pid'])).size < 2) {
      const r = await post(s, 'authenticateClient', { transactionId, authenticateServerResponse: Buffer.from('not an AuthenticateServerResponse').toString('base64') });
      calls++;
      const data = (r['header'] as { functionExecutionStatus: { statusCodeData: { subjectCode: string; reasonCode: string } } }).functionExecutionStatus.statusCodeData;
      assert.deepEqual([data.subjectCode, data.reasonCode], ['8.1', '2.1']);
    }
    const logged = await waitForEvents(calls);
    assert.equal(logged.length, calls);
    assert.equal(new Set(logged.map((l) => l['pid'])).size, 2, 'both workers answered');
    const text = await scrape(s.metricsPort);
    const line = text.split('\n').find((l) => l.startsWith('mcim_es9_calls_total{') && l.includes('function="authenticateClient"') && l.includes('subject_code="8.1"'));
    assert.equal(line?.slice(line.lastIndexOf(' ') + 1), String(calls), text);
    assert.match(text, /^mcim_http_connections_active \d+$/m);
    assert.deepEqual(
      { fn: logged[0]!['function'], subject: logged[0]!['subjectCode'], reason: logged[0]!['reasonCode'], tx: logged[0]!['transactionId'], client: logged[0]!['client'], level: logged[0]!['level'] },
      { fn: 'authenticateClient', subject: '8.1', reason: '2.1', tx: 'A1B2C3D4…', client: '127.0.0.1', level: 'warn' },
    );
    assert.ok(!s.stdout().includes(transactionId), 'the full transactionId is not logged');
    server!.child.kill('SIGTERM');
    await new Promise((resolve) => server!.child.once('exit', resolve));
  });
});

describe('mcim serve: abuse-limit flags', () => {
  it('--max-open-sessions-per-source sets the cap the SM-DP+ answers 1.2/4.4 beyond', { timeout: 40_000 }, async () => {
    const s = await serve(['--workers', '2', '--metrics-port', '0', '--max-open-sessions-per-source', '2']);
    const euicc = new EuiccSimulator(pkiFromDir(initSmdpDataDir(join(dir, 'data')), 'p256'));
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      euicc.newSession();
      const r = await post(s, 'initiateAuthentication', { euiccChallenge: euicc.euiccChallenge.toString('base64'), euiccInfo1: euicc.euiccInfo1().toString('base64'), smdpAddress: 'localhost:8443' });
      const status = (r['header'] as { functionExecutionStatus: { status: string; statusCodeData?: { subjectCode: string; reasonCode: string } } }).functionExecutionStatus;
      codes.push(status.statusCodeData === undefined ? status.status : `${status.statusCodeData.subjectCode}/${status.statusCodeData.reasonCode}`);
    }
    assert.deepEqual(codes, ['Executed-Success', 'Executed-Success', '1.2/4.4']);
    server!.child.kill('SIGTERM');
    await new Promise((resolve) => server!.child.once('exit', resolve));
  });
});

describe('mcim serve: observability flags', () => {
  function mcimExit(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      child.once('exit', (code) => resolve({ code, stderr }));
    });
  }

  it('refuses a bad --metrics-listen, --metrics-port or --log-level (exit 2) before creating anything', async () => {
    const target = join(dir, 'never-created');
    const abuse = await mcimExit(['serve', '--data', target, '--auth-failures-per-source', '0']);
    assert.equal(abuse.code, 2);
    assert.match(abuse.stderr, /--auth-failures-per-source takes a whole number of at least 1, got '0'/);
    const listen = await mcimExit(['serve', '--data', target, '--metrics-port', '9464', '--metrics-listen', 'localhost']);
    assert.equal(listen.code, 2);
    assert.match(listen.stderr, /--metrics-listen takes an IP address/);
    const port = await mcimExit(['serve', '--data', target, '--metrics-port', '70000']);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--metrics-port takes a whole number from 0 to 65535, got '70000'/);
    const level = await mcimExit(['serve', '--data', target, '--log-level', 'loud']);
    assert.equal(level.code, 2);
    assert.match(level.stderr, /--log-level/);
    assert.equal(existsSync(target), false);
  });
});
