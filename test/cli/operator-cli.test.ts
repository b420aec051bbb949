// `mcim operator` (src/cli/commands/operator.ts) through the built binary: trial credentials (files, modes, the printed
// fingerprint), tenant administration on an SM-DP+ data directory with SQLite and with PostgreSQL (--db), refusals
// exiting 2 with nothing written, and `listen` printing a received HandleDownloadProgressInfo as one JSON line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { postJson } from '../../src/http/jsonClient.js';
import { certificatesFromFile } from '../../src/pki/certificate.js';
import { initSmdpDataDir, openSmdpStore } from '../../src/smdpp/dataDir.js';
import { postgresConfig } from '../../src/store/database.js';
import { OperatorTenants } from '../../src/store/operatorTenants.js';
import { PG_URL, dropSchema } from '../helpers/postgres.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcim-operator-cli-'));
const data = join(dir, 'data');
const pgSchema = `mcim_operator_${process.pid}_${randomBytes(3).toString('hex')}`;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function mcim(...args: string[]): Promise<Run> {
  const env = { ...process.env };
  delete env['MCIM_DB'];
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

async function json<T>(...args: string[]): Promise<T> {
  const r = await mcim(...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

interface Credentials {
  certificate: string;
  key: string;
  fingerprint: string;
}

interface TenantLine {
  operator: string;
  functionRequesterIdentifier: string;
  callbackUrl: string | null;
  callbackCa: boolean;
  certificates: Array<{ fingerprint: string; subject: string; notBefore: string; notAfter: string }>;
}

let acme: Credentials;
let acme2: Credentials;
let smdp: Credentials;

before(async () => {
  initSmdpDataDir(data);
  acme = await json<Credentials>('operator', 'credentials', 'init', join(dir, 'acme'), '--name', 'acme');
  acme2 = await json<Credentials>('operator', 'credentials', 'init', join(dir, 'acme2'), '--name', 'acme', '--days', '30');
  smdp = await json<Credentials>('operator', 'credentials', 'init', join(dir, 'smdp'), '--name', 'smdp', '--host', 'localhost');
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropSchema(pgSchema);
});

describe('mcim operator credentials init', () => {
  it('writes the certificate and its key with mode 0600 and prints the SHA-256 of the certificate', () => {
    assert.equal(acme.certificate, join(dir, 'acme', 'operator.pem'));
    assert.equal(statSync(acme.key).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'acme')).mode & 0o777, 0o700);
    const der = certificatesFromFile(readFileSync(acme.certificate))[0]!;
    assert.equal(acme.fingerprint, createHash('sha256').update(der).digest('hex'));
    assert.match(readFileSync(acme.key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.notEqual(acme.fingerprint, acme2.fingerprint);
  });

  it('refuses to overwrite existing credentials and bad names (exit 2)', async () => {
    const before = readFileSync(acme.key);
    const again = await mcim('operator', 'credentials', 'init', join(dir, 'acme'), '--name', 'acme');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists/);
    assert.deepEqual(readFileSync(acme.key), before);
    assert.equal((await mcim('operator', 'credentials', 'init', join(dir, 'bad'), '--name', 'a b')).code, 2);
  });
});

/** The tenant administration commands, on the data directory's SQLite or on PostgreSQL (`db`). */
function tenantAdmin(engine: string, db: readonly string[]): void {
  describe(`mcim operator add/list/cert on ${engine}`, () => {
    const on = (...args: string[]): string[] => [...args, '--data', data, ...db];

    it('adds an operator with its pinned certificate, callback and callback CA, and lists it', async () => {
      const added = await json<TenantLine>(...on('operator', 'add', 'acme', '--requester-id', 'acme-1', '--cert', acme.certificate, '--callback', 'https://localhost:9443', '--callback-ca', smdp.certificate));
      assert.equal(added.certificates[0]!.fingerprint, acme.fingerprint);
      const listed = await json<TenantLine[]>(...on('operator', 'list'));
      assert.equal(listed.length, 1);
      assert.deepEqual({ ...listed[0]!, certificates: undefined }, { operator: 'acme', functionRequesterIdentifier: 'acme-1', callbackUrl: 'https://localhost:9443', callbackCa: true, notificationPoints: null, certificates: undefined });
      assert.equal(listed[0]!.certificates[0]!.subject, 'O=mcim operator, CN=acme');
      const text = await mcim(...on('operator', 'list'));
      assert.match(text.stdout, new RegExp(`acme {2}requester acme-1 {2}callback https://localhost:9443 \\(own CA\\)\\n {2}${acme.fingerprint}`));
    });

    it('refuses a second operator with a pinned certificate, a taken name, a bad callback or certificate: nothing written', async () => {
      const taken = await mcim(...on('operator', 'add', 'other', '--requester-id', 'o', '--cert', acme.certificate));
      assert.equal(taken.code, 2);
      assert.match(taken.stderr, /already pinned to operator 'acme'/);
      assert.equal((await mcim(...on('operator', 'add', 'acme', '--requester-id', 'o', '--cert', smdp.certificate))).code, 2);
      assert.equal((await mcim(...on('operator', 'add', 'other', '--requester-id', 'o', '--cert', smdp.certificate, '--callback', 'http://localhost:9443'))).code, 2);
      writeFileSync(join(dir, 'not-a-cert.pem'), 'hello');
      assert.equal((await mcim(...on('operator', 'add', 'other', '--requester-id', 'o', '--cert', join(dir, 'not-a-cert.pem')))).code, 2);
      assert.equal((await mcim(...on('operator', 'add', 'other', '--requester-id', 'o'))).code, 2, 'without --cert');
      assert.deepEqual((await json<TenantLine[]>(...on('operator', 'list'))).map((t) => t.operator), ['acme']);
    });

    it('cert add pins a second certificate; cert remove unpins by fingerprint or file; the SM-DP+ finds the operator by it', async () => {
      const pinned = await json<{ fingerprint: string }>(...on('operator', 'cert', 'add', 'acme', '--cert', acme2.certificate));
      assert.equal(pinned.fingerprint, acme2.fingerprint);
      assert.equal((await mcim(...on('operator', 'cert', 'add', 'nobody', '--cert', smdp.certificate))).code, 2);
      const store = await openSmdpStore(initSmdpDataDir(data), db.length === 0 ? undefined : postgresConfig(db[1]!));
      try {
        const tenants = new OperatorTenants(store.db);
        assert.equal((await tenants.byCertificate(acme2.fingerprint, Date.now()))?.operator, 'acme');
      } finally {
        await store.close();
      }
      const colons = acme2.fingerprint.toUpperCase().replace(/(..)(?!$)/g, '$1:');
      assert.deepEqual(await json(...on('operator', 'cert', 'remove', colons)), { fingerprint: acme2.fingerprint, removed: true });
      const again = await mcim(...on('operator', 'cert', 'remove', acme2.fingerprint));
      assert.equal(again.code, 2);
      assert.match(again.stderr, /no pinned client certificate/);
      assert.equal((await mcim(...on('operator', 'cert', 'remove', acme.certificate))).code, 0);
      const listed = await json<TenantLine[]>(...on('operator', 'list'));
      assert.deepEqual(listed[0]!.certificates, []);
      assert.match((await mcim(...on('operator', 'list'))).stdout, /no client certificate: it cannot call/);
    });
  });
}

tenantAdmin('SQLite', []);
tenantAdmin('PostgreSQL', ['--db', `${PG_URL}?schema=${pgSchema}`]);

describe('mcim operator on a directory that is not an SM-DP+ data directory', () => {
  it('exits 2 and creates nothing', async () => {
    const r = await mcim('operator', 'add', 'acme', '--requester-id', 'a', '--cert', acme.certificate, '--data', join(dir, 'nothing'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not an SM-DP\+ data directory/);
    assert.equal(existsSync(join(dir, 'nothing')), false);
  });
});

describe('mcim operator listen', () => {
  it('prints each HandleDownloadProgressInfo from the pinned SM-DP+ as one JSON line and exits after --count', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, [MAIN, 'operator', 'listen', '--port', '0', '--cert', acme.certificate, '--key', acme.key, '--smdp-cert-fingerprint', smdp.fingerprint, '--count', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        const m = /listening on https:\/\/127\.0\.0\.1:(\d+) \(pinned SM-DP\+ certificates\)/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
    });
    const url = `https://localhost:${port}/gsma/rsp2/es2plus/handleDownloadProgressInfo`;
    const body = {
      header: { functionRequesterIdentifier: 'smdp', functionCallIdentifier: 'c1' },
      iccid: '8947010000123456784F',
      profileType: 'P9054-2',
      timeStamp: '2026-12-05T09:30:47Z',
      notificationPointId: '4',
      notificationPointStatus: { status: 'Executed-Success' },
      resultData: 'vzcGoASAAv//',
    };
    const stranger = await postJson(url, body, { cert: readFileSync(acme2.certificate), key: readFileSync(acme2.key), ca: readFileSync(acme.certificate) });
    assert.equal(stranger.status, 403);
    const answer = await postJson(url, body, { cert: readFileSync(smdp.certificate), key: readFileSync(smdp.key), ca: readFileSync(acme.certificate) });
    assert.equal(answer.status, 204);
    assert.equal(await exited, 0);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(line['peer'], { address: '127.0.0.1', certificateFingerprint: smdp.fingerprint });
    assert.deepEqual({ ...line, receivedAt: undefined, peer: undefined }, {
      receivedAt: undefined,
      peer: undefined,
      header: body.header,
      iccid: body.iccid,
      profileType: body.profileType,
      timestamp: body.timeStamp,
      notificationPointId: 4,
      notificationPointStatus: body.notificationPointStatus,
      resultData: body.resultData,
    });
  });

  it('refuses --smdp-cert-fingerprint with --client-ca, and a fingerprint that is not 64 hex digits (exit 2)', async () => {
    const base = ['operator', 'listen', '--port', '0', '--cert', acme.certificate, '--key', acme.key];
    assert.equal((await mcim(...base, '--smdp-cert-fingerprint', smdp.fingerprint, '--client-ca', smdp.certificate)).code, 2);
    const bad = await mcim(...base, '--smdp-cert-fingerprint', 'abcd');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a SHA-256 fingerprint/);
  });
});

describe('mcim operator download-order, confirm-order, cancel-order, release-profile: the flags as sent', () => {
  it('sends each flag as its field, prints the activation code, and a Failed answer with its codes (exit 2)', { timeout: 30_000 }, async () => {
    const requests: Array<{ path: string; body: Record<string, unknown> }> = [];
    const answers: unknown[] = [];
    const server = createServer({ cert: readFileSync(smdp.certificate), key: readFileSync(smdp.key), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' });
        res.end(JSON.stringify(answers.shift()));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const call = ['--smdp', `https://localhost:${port}`, '--cert', acme.certificate, '--key', acme.key, '--ca', smdp.certificate, '--requester-id', 'acme-1'];
      const ok = (fields: Record<string, unknown> = {}): unknown => ({ header: { functionExecutionStatus: { status: 'Executed-Success' } }, ...fields });
      const fields = (i: number): Record<string, unknown> => ({ ...requests[i]!.body, header: undefined });
      const ICCID = '8947010000123456784';

      answers.push(ok({ iccid: ICCID }));
      assert.equal((await json<{ iccid: string }>('operator', 'download-order', ...call, '--profile-type', 'P9054-2')).iccid, ICCID);
      assert.equal(requests[0]!.path, '/gsma/rsp2/es2plus/downloadOrder');
      assert.deepEqual(fields(0), { header: undefined, profileType: 'P9054-2' });
      assert.deepEqual(Object.keys(requests[0]!.body['header'] as object), ['functionRequesterIdentifier', 'functionCallIdentifier']);

      answers.push(ok({ matchingId: 'ABC-1', smdpAddress: 'smdp.example' }));
      const confirmed = await json<Record<string, unknown>>('operator', 'confirm-order', ...call, '--iccid', ICCID, '--cc', '1234', '--release');
      assert.deepEqual(fields(1), { header: undefined, iccid: ICCID, confirmationCode: '1234', releaseFlag: true });
      assert.equal(confirmed['activationCode'], 'LPA:1$smdp.example$ABC-1$$1');
      assert.equal(confirmed['released'], true);
      answers.push(ok({ matchingId: 'ABC-2' }));
      const text = await mcim('operator', 'confirm-order', ...call, '--iccid', ICCID, '--matching-id', 'ABC-2', '--smdp-address', 'localhost:8443');
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /activation code LPA:1\$localhost:8443\$ABC-2\n/);
      assert.equal(requests[2]!.body['releaseFlag'], false);

      answers.push(ok());
      assert.equal((await mcim('operator', 'cancel-order', ...call, '--iccid', ICCID, '--matching-id', 'ABC-2', '--final', 'available')).code, 0);
      assert.deepEqual(fields(3), { header: undefined, iccid: ICCID, matchingId: 'ABC-2', finalProfileStatusIndicator: 'Available' });
      assert.equal((await mcim('operator', 'cancel-order', ...call, '--iccid', ICCID, '--final', 'gone')).code, 2);

      answers.push({ header: { functionExecutionStatus: { status: 'Failed', statusCodeData: { subjectCode: '8.2.1', reasonCode: '3.5', message: 'Invalid transition' } } } });
      const failed = await mcim('operator', 'release-profile', ...call, '--iccid', ICCID);
      assert.equal(failed.code, 2);
      assert.match(failed.stderr, /ES2\+ releaseProfile: Failed \(8\.2\.1 \/ 3\.5\): Invalid transition/);
      assert.equal(requests.length, 5);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
