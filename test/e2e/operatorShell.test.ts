// The operator's first try is a shell (issue 9): `mcim serve --es2plus-port`, then only mcim commands: trial
// credentials, the operator added with its certificate and callback, stock generated, `mcim operator listen` for the
// callbacks, download-order / confirm-order / release-profile / cancel-order, and a device downloading the profile with
// the printed activation code; the callbacks arrive at the listener.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixturePath } from '../helpers/fixtures.js';
import { MCIM_MAIN, startServe, type ServeProcess } from '../helpers/serveProcess.js';

const dir = mkdtempSync(join(tmpdir(), 'mcim-operator-shell-'));
const data = join(dir, 'data');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function mcim(...args: string[]): Promise<Run> {
  const env = { ...process.env };
  delete env['MCIM_DB'];
  return new Promise((resolve) => {
    execFile(process.execPath, [MCIM_MAIN, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await mcim(...args);
  assert.equal(r.code, 0, `mcim ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('an operator in a shell: mcim serve --es2plus-port and mcim operator', () => {
  let serve: ServeProcess | undefined;
  after(() => {
    serve?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('orders a profile from stock, a device downloads it, the callbacks reach mcim operator listen', { timeout: 180_000 }, async () => {
    // The SM-DP+ first (it creates its data directory), then the operator's credentials, stock, and the operator.
    serve = await startServe(['--data', data, '--port', '0', '--workers', '1', '--es2plus-port', '0', '--log-level', 'warn'], [/ES9\+ on https:\/\/127\.0\.0\.1:(\d+)\//, /ES2\+ for operators .* on https:\/\/127\.0\.0\.1:(\d+)\//], 60_000);
    const creds = JSON.parse(await ok('operator', 'credentials', 'init', join(dir, 'op'), '--name', 'acme', '--json')) as { certificate: string; key: string };
    await ok('profiles', 'type', 'add', '--data', data, '--type', 'iot', '--operator', 'acme', '--template', fixturePath('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der'), '--op', '63bfa50ee6523365ff14c1f45f88737d', '--iccid-prefix', '8988', '--imsi-prefix', '00101');
    await ok('profiles', 'generate', '--data', data, '--type', 'iot', '--count', '2', '--iccid-start', '898800000000000700', '--imsi-start', '001010000000700');

    // The operator's callback endpoint: exits after 3 notifications (points 1, 3, 4).
    const listener = spawn(process.execPath, [MCIM_MAIN, 'operator', 'listen', '--port', '0', '--listen', '127.0.0.1', '--cert', creds.certificate, '--key', creds.key, '--count', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let heard = '';
    let listenErr = '';
    listener.stdout!.on('data', (c: Buffer) => (heard += c.toString()));
    // The listener announces its address on standard error; the notifications go to standard output.
    const listenPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`listener did not start: ${heard}${listenErr}`)), 30_000);
      listener.stderr!.on('data', (c: Buffer) => {
        listenErr += c.toString();
        const m = /127\.0\.0\.1:(\d+)/.exec(listenErr);
        if (m !== null) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    const listened = new Promise<void>((resolve) => listener.once('exit', () => resolve()));
    await ok('operator', 'add', 'acme', '--requester-id', 'acme-1', '--cert', creds.certificate, '--callback', `https://127.0.0.1:${listenPort}`, '--callback-ca', creds.certificate, '--data', data);

    const es9Port = serve.port;
    const es2Port = Number(serve.matches[1]![1]);
    const call = ['--smdp', `https://localhost:${es2Port}`, '--cert', creds.certificate, '--key', creds.key, '--ca', join(data, 'pki', 'p256', 'ci.pem'), '--requester-id', 'acme-1', '--json'];

    const device = join(dir, 'device.state');
    const init = JSON.parse(await ok('device', 'init', '--state', device, '--pki', join(data, 'pki', 'p256'), '--json')) as { eid: string };
    const { iccid } = JSON.parse(await ok('operator', 'download-order', ...call, '--profile-type', 'iot', '--eid', init.eid)) as { iccid: string };
    const confirmed = JSON.parse(await ok('operator', 'confirm-order', ...call, '--iccid', iccid, '--eid', init.eid)) as { matchingId: string; activationCode: string };
    assert.match(confirmed.activationCode, /^LPA:1\$localhost:8443\$[A-Z0-9]{25}$/);
    await ok('operator', 'release-profile', ...call, '--iccid', iccid);
    const refused = await mcim('operator', 'cancel-order', ...call, '--iccid', iccid, '--final', 'available');
    assert.equal(refused.code, 2, 'the order has an EID and a matching ID: both must be given');
    assert.match(refused.stderr + refused.stdout, /8\.1\.1|2\.3/);

    const downloaded = JSON.parse(await ok('device', 'download', '--state', device, '--ac', confirmed.activationCode, '--ca', join(data, 'pki', 'p256', 'ci.pem'), '--connect', `127.0.0.1:${es9Port}`, '--json')) as { iccid: string };
    assert.equal(downloaded.iccid, iccid);
    const cancelled = await mcim('operator', 'cancel-order', ...call, '--iccid', iccid, '--eid', init.eid, '--matching-id', confirmed.matchingId, '--final', 'available');
    assert.equal(cancelled.code, 2, 'an installed profile cannot be cancelled');
    assert.match(cancelled.stderr + cancelled.stdout, /3\.3/);

    await Promise.race([listened, new Promise((_, reject) => setTimeout(() => reject(new Error(`callbacks did not arrive: ${heard}${listenErr}`)), 60_000))]);
    const notes = heard
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { notificationPointId: number; iccid: string; eid?: string; notificationPointStatus: { status: string } });
    assert.deepEqual(
      notes.map((n) => [n.notificationPointId, n.iccid, n.eid, n.notificationPointStatus.status]),
      [
        [1, iccid, init.eid, 'Executed-Success'],
        [3, iccid, init.eid, 'Executed-Success'],
        [4, iccid, init.eid, 'Executed-Success'],
      ],
    );
  });
});
