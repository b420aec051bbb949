// `mcim smdpp import` and the data directory `mcim serve` runs on: PKI for both curves, activation codes, a download through it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { McimError } from '../../src/errors.js';
import { initSmdpDataDir, openSmdpStore } from '../../src/smdpp/dataDir.js';
import { createSmdpServer, ES9PLUS_PATH } from '../../src/smdpp/server.js';
import { smdppImport } from '../../src/cli/commands/smdpp.js';
import { activationCode, MIN_MATCHING_ID_LENGTH } from '../../src/smdpp/importProfile.js';
import { parseActivationCode } from '../../src/ipa/activationCode.js';
import { makeEid } from '../../src/pki/eid.js';
import { usageText } from '../../src/cli/commands/serve.js';
import { fixturePath, readFixture } from '../helpers/fixtures.js';
import { EuiccSimulator, type AuthenticateClientOk, type InitiateAuthenticationOk } from './euiccSimulator.js';
import { pkiFromDir } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'mcim-serve-'));
const PROFILE_FILE = fixturePath('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
after(() => rmSync(dir, { recursive: true, force: true }));

function post(port: number, ca: Buffer, servername: string, fn: string, body: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, servername, ca, method: 'POST', path: `${ES9PLUS_PATH}/${fn}`, headers: { 'Content-Type': 'application/json', 'X-Admin-Protocol': 'gsma/rsp/v2.2.0' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>)));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('SM-DP+ data directory and CLI', () => {
  it('import creates the data directory and prints the activation code; refuses duplicates and malformed packages', async () => {
    const r = await smdppImport(PROFILE_FILE, { matchingId: 'CLI-1', allowShortMatchingId: true, data: dir });
    assert.equal(r.activationCode, 'LPA:1$localhost:8443$CLI-1');
    assert.match(r.iccid, /^89\d{17,18}$/);
    await assert.rejects(smdppImport(PROFILE_FILE, { matchingId: 'CLI-1', allowShortMatchingId: true, data: dir }), (e: unknown) => e instanceof McimError && e.code === 'ORDER_EXISTS');
    const bad = join(dir, 'bad.der');
    writeFileSync(bad, Buffer.from('a0 03 80 01 02'.replace(/ /g, ''), 'hex'));
    await assert.rejects(smdppImport(bad, { matchingId: 'CLI-2', allowShortMatchingId: true, data: dir }), (e: unknown) => e instanceof McimError && e.code === 'INVALID_PROFILE_PACKAGE');
    await assert.rejects(smdppImport(PROFILE_FILE, { matchingId: 'a$b', allowShortMatchingId: true, data: dir }), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
  });

  it('import without --matching-id generates a random matching ID of 25 characters A-Z0-9', async () => {
    const a = await smdppImport(PROFILE_FILE, { data: dir });
    const b = await smdppImport(PROFILE_FILE, { data: dir });
    for (const r of [a, b]) {
      assert.match(r.matchingId ?? '', /^[A-Z0-9]{25}$/);
      assert.equal(r.activationCode, `LPA:1$localhost:8443$${r.matchingId}`);
    }
    assert.notEqual(a.matchingId, b.matchingId);
  });

  it(`a supplied matching ID shorter than ${MIN_MATCHING_ID_LENGTH} characters is refused unless allowed; nothing is stored`, async () => {
    const short = 'A'.repeat(MIN_MATCHING_ID_LENGTH - 1);
    await assert.rejects(smdppImport(PROFILE_FILE, { matchingId: short, data: dir }), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
    const store = await openSmdpStore(initSmdpDataDir(dir));
    try {
      assert.equal(await store.orders.get(short), undefined);
    } finally {
      await store.close();
    }
    assert.equal((await smdppImport(PROFILE_FILE, { matchingId: short, allowShortMatchingId: true, data: dir })).matchingId, short);
    assert.equal((await smdppImport(PROFILE_FILE, { matchingId: 'B'.repeat(MIN_MATCHING_ID_LENGTH), data: dir })).matchingId, 'B'.repeat(MIN_MATCHING_ID_LENGTH));
  });

  it('import --eid without --matching-id makes an order for that EID alone (default SM-DP+): no matching ID, an empty AC token', async () => {
    const eid = makeEid('89049032', '7000000000000000000000000007');
    const r = await smdppImport(PROFILE_FILE, { eid, data: dir });
    assert.equal(r.matchingId, null);
    assert.equal(r.eid, eid);
    assert.equal(r.activationCode, 'LPA:1$localhost:8443$');
    const store = await openSmdpStore(initSmdpDataDir(dir));
    try {
      const order = await store.orders.getEidOnly(eid);
      assert.equal(order?.eidOnly, true);
      assert.equal(order?.iccid, r.iccid);
    } finally {
      await store.close();
    }
  });

  it('the activation code of an order with a confirmation code carries the required flag (SGP.22 4.1: empty OID field)', async () => {
    const r = await smdppImport(PROFILE_FILE, { confirmationCode: '4711', data: dir });
    assert.equal(r.activationCode, `LPA:1$localhost:8443$${r.matchingId}$$1`);
    const parsed = parseActivationCode(r.activationCode);
    assert.equal(parsed.confirmationCodeRequired, true);
    assert.equal(parsed.smdpOid, undefined);
    assert.equal(parsed.matchingId, r.matchingId);
    assert.equal(activationCode('smdp.example.com', 'ID', { oid: '2.999.10', confirmationCodeRequired: true }), 'LPA:1$smdp.example.com$ID$2.999.10$1');
    assert.equal(activationCode('smdp.example.com', 'ID', { oid: '2.999.10' }), 'LPA:1$smdp.example.com$ID$2.999.10');
    assert.deepEqual(parseActivationCode(activationCode('smdp.example.com', 'ID', { oid: '2.999.10', confirmationCodeRequired: true })), {
      smdpAddress: 'smdp.example.com',
      matchingId: 'ID',
      smdpOid: '2.999.10',
      confirmationCodeRequired: true,
    });
  });

  it('reopens the same directory and refuses another address', () => {
    const data = initSmdpDataDir(dir);
    assert.equal(data.created, false);
    assert.equal(data.credentials.length, 2);
    assert.throws(() => initSmdpDataDir(dir, 'other.example.com'), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
    assert.match(usageText(data, '127.0.0.1', 8443), /mcim device download --state device\.state --ac 'LPA:1\$localhost:8443\$MATCHING-ID' --ca \S+ci\.pem\n/);
    assert.match(usageText(data, '127.0.0.1', 9000), /--connect 127\.0\.0\.1:9000/);
  });

  it('serves a brainpool download with the credentials of the data directory', async () => {
    const data = initSmdpDataDir(dir);
    const store = await openSmdpStore(data);
    const { app } = createSmdpServer({ address: data.address, oid: data.oid, credentials: data.credentials, store, tls: data.tls });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as AddressInfo).port;
      const ca = readFileSync(data.ciCertificateFiles.p256!);
      const euicc = new EuiccSimulator(pkiFromDir(data, 'brainpool'));
      const b64 = (b: Buffer): string => b.toString('base64');
      const init = (await post(port, ca, 'localhost', 'initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: data.address })) as unknown as InitiateAuthenticationOk;
      const auth = (await post(port, ca, 'localhost', 'authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, 'CLI-1')) })) as unknown as AuthenticateClientOk;
      const bpp = await post(port, ca, 'localhost', 'getBoundProfilePackage', { transactionId: init.transactionId, prepareDownloadResponse: b64(euicc.prepareDownload(auth)) });
      const unwrapped = euicc.loadBoundProfilePackage(Buffer.from(bpp.boundProfilePackage as string, 'base64'));
      assert.ok(unwrapped.profilePackage.equals(readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der')));
    } finally {
      await app.close();
      await store.close();
    }
  });
});

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Runs the mcim program; resolves with its exit code and output. */
function mcimExit(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

function oneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: [^\n]+\n$/, r.stderr);
  assert.match(r.stderr, pattern);
}

describe('CLI edges: one-line errors, exit code 2, nothing created', () => {
  it('mcim serve on a port already in use', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen({ host: '127.0.0.1', port: 0 }, resolve));
    try {
      const port = (busy.address() as AddressInfo).port;
      for (const workers of ['1', '2']) {
        const target = join(dir, `busy-${workers}`);
        oneLineError(await mcimExit(['serve', '--data', target, '--port', String(port), '--workers', workers]), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
        assert.equal(existsSync(target), false);
      }
    } finally {
      busy.close();
    }
  });

  it('mcim serve with a bad port, listen address, worker count, credential, connection-limit or heartbeat flags creates no data directory', async () => {
    const target = join(dir, 'never');
    oneLineError(await mcimExit(['serve', '--data', target, '--port', '70000']), /--port takes a whole number from 0 to 65535, got '70000'/);
    oneLineError(await mcimExit(['serve', '--data', target, '--listen', 'localhost']), /--listen takes an IP address/);
    oneLineError(await mcimExit(['serve', '--data', target, '--workers', '0']), /--workers/);
    oneLineError(await mcimExit(['serve', '--data', target, '--address', 'bad host']), /not an SM-DP\+ address/);
    oneLineError(await mcimExit(['serve', '--data', target, '--tls-cert', 'x.pem']), /--tls-cert and --tls-key go together/);
    oneLineError(await mcimExit(['serve', '--data', target, '--port', '0', '--sgp26', join(dir, 'no-such-dir')]), /is not the SGP\.26 test set/);
    oneLineError(await mcimExit(['serve', '--data', target, '--max-connections', '-1']), /--max-connections takes a whole number, got '-1'/);
    oneLineError(await mcimExit(['serve', '--data', target, '--handshake-timeout', '0']), /handshakeTimeoutMs is 1 to 3600000 ms, got 0/);
    oneLineError(await mcimExit(['serve', '--data', target, '--headers-timeout', '40000']), /headersTimeoutMs \(40000\) must not exceed requestTimeoutMs \(30000\)/);
    oneLineError(await mcimExit(['serve', '--data', target, '--heartbeat-interval', '5000', '--heartbeat-timeout', '5000']), /--heartbeat-timeout \(5000 ms\) must exceed/);
    oneLineError(await mcimExit(['serve', '--data', target, '--db', 'mysql://root:hunter2@127.0.0.1/test']), /mysql:\/\/root:\*\*\*@127\.0\.0\.1\/test is not a PostgreSQL URL/);
    oneLineError(await mcimExit(['serve', '--data', target, '--db', 'postgres://127.0.0.1/test?schema=Bad-Name']), /'Bad-Name' is not a valid schema name/);
    assert.equal(existsSync(target), false);
  });

  it('mcim smdpp import and mcim smdpp credentials refuse a data directory that does not exist', async () => {
    const target = join(dir, 'absent');
    oneLineError(await mcimExit(['smdpp', 'import', fixturePath('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der'), '--matching-id', 'X', '--data', target]), /is not an SM-DP\+ data directory/);
    oneLineError(await mcimExit(['smdpp', 'credentials', '--data', target]), /is not an SM-DP\+ data directory/);
    assert.equal(existsSync(target), false);
  });

  it('mcim smdpp credentials refuses a broken set with its code and writes nothing', async () => {
    const target = join(dir, 'broken');
    const sgp = (...p: string[]): string => fixturePath('sgp26', ...p);
    const args = ['smdpp', 'credentials', '--data', target, '--ci', sgp('CertificateIssuer', 'CERT_CI_ECDSA_NIST.pem'), '--tls-cert', sgp('DPtls', 'CERT_S_SM_DP_VARO_TLS_NIST.der'), '--tls-key', sgp('DPtls', 'SK_S_SM_DP_TLS_NIST.pem')];
    // DPauth with the DPpb key: the key does not match.
    oneLineError(await mcimExit([...args, '--dp-auth', sgp('DPauth', 'CERT_S_SM_DPauth_ECDSA_NIST.der'), '--dp-auth-key', sgp('DPpb', 'SK_S_SM_DPpb_ECDSA_NIST.pem'), '--dp-pb', sgp('DPpb', 'CERT_S_SM_DPpb_ECDSA_NIST.der'), '--dp-pb-key', sgp('DPpb', 'SK_S_SM_DPpb_ECDSA_NIST.pem')]), /private key given with it is not the key/);
    oneLineError(await mcimExit([...args, '--dp-auth', sgp('DPauth', 'CERT_S_SM_DPauth_ECDSA_NIST.der')]), /1 --dp-auth certificate\(s\) but 0 --dp-auth-key/);
    assert.equal(existsSync(target), false);
  });

  it("commander's usage errors exit 2; help exits 0", async () => {
    assert.equal((await mcimExit(['serve', '--no-such-flag'])).code, 2);
    assert.equal((await mcimExit(['smdpp', 'import'])).code, 2);
    assert.equal((await mcimExit(['smdpp', 'credentials', '--sgp26-tls', 'rsa'])).code, 2);
    assert.equal((await mcimExit(['no-such-command'])).code, 2);
    assert.equal((await mcimExit(['serve', '--help'])).code, 0);
  });
});
