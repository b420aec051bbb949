// `mcim serve --workers 2`: two worker processes share the port and the database; downloads through the CLI and a session
// whose every ES9+ call opens a new connection (so successive calls land on different workers); SIGTERM stops it all.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initSmdpDataDir, openSmdpStore } from '../../src/smdpp/dataDir.js';
import { fixturePath } from '../helpers/fixtures.js';
import { MCIM_MAIN as MAIN, es9Post, startServe, type ServeProcess } from '../helpers/serveProcess.js';
import { EuiccSimulator, type AuthenticateClientOk, type InitiateAuthenticationOk } from './euiccSimulator.js';
import { pkiFromDir } from './harness.js';

const PROFILE = fixturePath('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
const dir = mkdtempSync(join(tmpdir(), 'mcim-cluster-'));
const data = join(dir, 'smdp');
let server: ServeProcess | undefined;

after(() => {
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

function mcim(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`mcim ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Starts `mcim serve --workers 2` on a free port; resolves with the port once both workers listen. */
async function startServer(): Promise<number> {
  server = await startServe(['--data', data, '--listen', '127.0.0.1', '--port', '0', '--workers', '2'], [/https:\/\/127\.0\.0\.1:(\d+)\/[\s\S]*\(2 worker processes\)/], 10_000);
  return server.port;
}

/** Child processes of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return children;
}

/** One ES9+ call on a connection of its own (no keep-alive): round-robin hands it to the next worker. */
async function post(port: number, ca: Buffer, fn: string, body: unknown): Promise<Record<string, unknown>> {
  return (await es9Post(port, ca, fn, body)).body;
}

describe('mcim serve --workers 2', () => {
  it('downloads through both workers and stops on SIGTERM', { timeout: 30_000 }, async () => {
    const port = await startServer();
    const pid = server!.child.pid!;
    if (existsSync('/proc/self/stat')) assert.equal(childrenOf(pid).length, 2, 'two worker processes');
    const pki = initSmdpDataDir(data);

    // The CLI: import, a new device, its download over one TLS connection, its profile list.
    const imported = JSON.parse(await mcim(['smdpp', 'import', PROFILE, '--data', data, '--json'])) as { iccid: string; activationCode: string; matchingId: string };
    const state = join(dir, 'device.state');
    await mcim(['device', 'init', '--state', state, '--pki', pki.pkiDirs.p256!]);
    const downloaded = JSON.parse(
      await mcim(['device', 'download', '--state', state, '--ac', imported.activationCode, '--ca', pki.ciCertificateFiles.p256!, '--connect', `127.0.0.1:${port}`, '--json']),
    ) as { iccid: string; notification: { delivered: boolean } };
    assert.equal(downloaded.iccid, imported.iccid);
    assert.equal(downloaded.notification.delivered, true);
    const profiles = JSON.parse(await mcim(['device', 'profiles', '--state', state, '--json'])) as { iccid: string; state: string }[];
    assert.deepEqual(profiles.map((p) => [p.iccid, p.state]), [[imported.iccid, 'disabled']]);

    // A session spread over connections, hence over the workers: the session lives in the database.
    await mcim(['smdpp', 'import', PROFILE, '--matching-id', 'CLUSTER-2', '--allow-short-matching-id', '--data', data]);
    const ca = readFileSync(pki.ciCertificateFiles.p256!);
    const euicc = new EuiccSimulator(pkiFromDir(pki, 'p256'));
    const b64 = (b: Buffer): string => b.toString('base64');
    const init = (await post(port, ca, 'initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: pki.address })) as unknown as InitiateAuthenticationOk;
    assert.equal(typeof init.transactionId, 'string', JSON.stringify(init));
    const auth = (await post(port, ca, 'authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, 'CLUSTER-2')) })) as unknown as AuthenticateClientOk;
    assert.equal(auth.transactionId, init.transactionId, JSON.stringify(auth));
    const bpp = await post(port, ca, 'getBoundProfilePackage', { transactionId: init.transactionId, prepareDownloadResponse: b64(euicc.prepareDownload(auth)) });
    assert.ok(euicc.loadBoundProfilePackage(Buffer.from(bpp.boundProfilePackage as string, 'base64')).profilePackage.equals(readFileSync(PROFILE)));

    const store = await openSmdpStore(pki);
    try {
      assert.equal((await store.orders.get(imported.matchingId))?.state, 'installed', 'the PIR reached a worker');
      assert.equal((await store.orders.get('CLUSTER-2'))?.state, 'downloaded');
    } finally {
      await store.close();
    }

    const exited = new Promise<number | null>((resolve) => server!.child.once('exit', (code) => resolve(code)));
    const stoppedBy = Date.now() + 10_000;
    server!.child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref())]);
    assert.equal(code, 0, 'the primary exits cleanly on SIGTERM');
    assert.ok(Date.now() < stoppedBy);
    assert.deepEqual(childrenOf(pid), [], 'no worker is left');
  });
});
