// The operator's ES2+ client (src/operator, SGP.22 5.3.1-5.3.4, 6.5): what it sends (path, X-Admin-Protocol, the request
// header with a fresh functionCallIdentifier, the declared fields) and how it judges answers (Failed/Expired as
// Es2PlusFailure with the codes, HTTP refusals, malformed or inconsistent fields), against an HTTPS endpoint that
// records requests and answers what each test sets (the run against mcim's own SM-DP+ comes with its ES2+ server).
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { McimError } from '../../src/errors.js';
import { FunctionFailure } from '../../src/http/jsonBinding.js';
import { activationCode } from '../../src/operator/activationCode.js';
import { cancelOrder } from '../../src/operator/cancelOrder.js';
import { confirmOrder } from '../../src/operator/confirmOrder.js';
import { downloadOrder } from '../../src/operator/downloadOrder.js';
import { Es2PlusClient } from '../../src/operator/es2plusClient.js';
import { Es2PlusFailure } from '../../src/operator/errors.js';
import { issueOperatorCredentials } from '../../src/operator/operatorCredentials.js';
import { releaseProfile } from '../../src/operator/releaseProfile.js';
import { certificatesFromFile, parseCertificate } from '../../src/pki/certificate.js';

const operator = issueOperatorCredentials('acme');
const smdp = issueOperatorCredentials('smdp');
const ICCID = '8947010000123456784F';
const EID = '89049032123451234512345678901235';

interface Seen {
  path: string;
  adminProtocol: string | undefined;
  body: Record<string, unknown>;
  clientFingerprint: string | undefined;
}

let server: Server;
let port: number;
const seen: Seen[] = [];
let answer: { status: number; body: unknown } = { status: 200, body: {} };

before(async () => {
  server = createServer({ cert: smdp.certificatePem, key: smdp.privateKeyPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = (req.socket as TLSSocket).getPeerCertificate().raw;
      seen.push({
        path: req.url ?? '',
        adminProtocol: req.headers['x-admin-protocol'] as string | undefined,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        clientFingerprint: raw === undefined ? undefined : createHash('sha256').update(raw).digest('hex'),
      });
      const text = JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'Content-Type': 'application/json', 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
});

function client(prefix = ''): Es2PlusClient {
  return new Es2PlusClient({
    smdpUrl: `https://localhost:${port}${prefix}`,
    functionRequesterIdentifier: 'acme-1',
    cert: operator.certificatePem,
    key: operator.privateKeyPem,
    ca: smdp.certificatePem,
  });
}

function success(fields: Record<string, unknown> = {}): { status: number; body: unknown } {
  return { status: 200, body: { header: { functionExecutionStatus: { status: 'Executed-Success' } }, ...fields } };
}

function code(c: string): (e: unknown) => boolean {
  return (e) => e instanceof McimError && e.code === c;
}

describe('ES2+ client: what it sends', () => {
  it('DownloadOrder: the path (under a base URL prefix too), X-Admin-Protocol, the header with a fresh call identifier, the client certificate', async () => {
    answer = success({ iccid: ICCID });
    const first = await downloadOrder(client(), { iccid: ICCID, eid: EID });
    const second = await downloadOrder(client('/aep/'), { profileType: 'P9054-2' });
    assert.equal(first.iccid, ICCID);
    assert.equal(seen[0]!.path, '/gsma/rsp2/es2plus/downloadOrder');
    assert.equal(seen[1]!.path, '/aep/gsma/rsp2/es2plus/downloadOrder');
    assert.equal(seen[0]!.adminProtocol, 'gsma/rsp/v2.5.0');
    assert.deepEqual(seen[0]!.body, { header: { functionRequesterIdentifier: 'acme-1', functionCallIdentifier: first.functionCallIdentifier }, eid: EID, iccid: ICCID });
    assert.deepEqual(seen[1]!.body, { header: { functionRequesterIdentifier: 'acme-1', functionCallIdentifier: second.functionCallIdentifier }, profileType: 'P9054-2' });
    assert.notEqual(first.functionCallIdentifier, second.functionCallIdentifier);
    assert.equal(seen[0]!.clientFingerprint, operator.fingerprint);
  });

  it('ConfirmOrder sends releaseFlag as a JSON boolean and the confirmation code as given; the answer makes the activation code', async () => {
    answer = success({ eid: EID, matchingId: 'ABC-123', smdpAddress: 'smdp.example:8443' });
    const r = await confirmOrder(client(), { iccid: ICCID, eid: EID, confirmationCode: '1234', releaseFlag: true });
    assert.deepEqual(seen[0]!.body, { header: seen[0]!.body['header'], iccid: ICCID, eid: EID, confirmationCode: '1234', releaseFlag: true });
    assert.deepEqual({ eid: r.eid, matchingId: r.matchingId, smdpAddress: r.smdpAddress }, { eid: EID, matchingId: 'ABC-123', smdpAddress: 'smdp.example:8443' });
    assert.equal(activationCode(r.smdpAddress!, r.matchingId, true), 'LPA:1$smdp.example:8443$ABC-123$$1');
    answer = success({ matchingId: '' });
    assert.equal((await confirmOrder(client(), { iccid: ICCID, eid: EID, matchingId: '', releaseFlag: false })).matchingId, '');
    assert.equal(seen[1]!.body['releaseFlag'], false);
  });

  it('CancelOrder and ReleaseProfile send their fields; a header-only success is enough', async () => {
    answer = success();
    await cancelOrder(client(), { iccid: ICCID, matchingId: 'ABC-123', finalProfileStatusIndicator: 'Unavailable' });
    await releaseProfile(client(), ICCID);
    assert.equal(seen[0]!.path, '/gsma/rsp2/es2plus/cancelOrder');
    assert.deepEqual({ ...seen[0]!.body, header: undefined }, { header: undefined, iccid: ICCID, matchingId: 'ABC-123', finalProfileStatusIndicator: 'Unavailable' });
    assert.equal(seen[1]!.path, '/gsma/rsp2/es2plus/releaseProfile');
    assert.deepEqual({ ...seen[1]!.body, header: undefined }, { header: undefined, iccid: ICCID });
  });

  it('refuses bad arguments before anything is sent', async () => {
    const cases: Array<() => Promise<unknown>> = [
      () => downloadOrder(client(), {}),
      () => downloadOrder(client(), { iccid: '894701000012345678' }),
      () => downloadOrder(client(), { iccid: ICCID, eid: '1234' }),
      () => downloadOrder(client(), { profileType: 'x'.repeat(65) }),
      () => confirmOrder(client(), { iccid: ICCID, matchingId: 'abc', releaseFlag: true }),
      () => confirmOrder(client(), { iccid: ICCID, eid: EID, matchingId: '', smdsAddress: 'smds.example', releaseFlag: true }),
      () => confirmOrder(client(), { iccid: ICCID, matchingId: '', releaseFlag: true }),
      () => confirmOrder(client(), { iccid: ICCID, smdsAddress: 'smds.example/x', releaseFlag: true }),
      () => confirmOrder(client(), { iccid: ICCID, confirmationCode: '', releaseFlag: true }),
      () => cancelOrder(client(), { iccid: ICCID, finalProfileStatusIndicator: 'available' as 'Available' }),
      () => releaseProfile(client(), `${ICCID}0`),
    ];
    for (const run of cases) await assert.rejects(run(), code('INVALID_ARGUMENT'));
    assert.equal(seen.length, 0);
    assert.throws(() => new Es2PlusClient({ smdpUrl: `http://localhost:${port}`, functionRequesterIdentifier: 'acme-1' }), code('INVALID_ARGUMENT'));
    assert.throws(() => new Es2PlusClient({ smdpUrl: `https://localhost:${port}`, functionRequesterIdentifier: '' }), code('INVALID_ARGUMENT'));
  });
});

describe('ES2+ client: how it judges answers', () => {
  it('Failed and Expired throw Es2PlusFailure with the status code data', async () => {
    answer = { status: 200, body: { header: { functionExecutionStatus: { status: 'Failed', statusCodeData: { subjectCode: '8.2.5', reasonCode: '3.7', subjectIdentifier: 'P9054-2', message: 'No more Profile' } } } } };
    const failed = await downloadOrder(client(), { profileType: 'P9054-2' }).then(
      () => assert.fail('no failure'),
      (e: unknown) => e,
    );
    assert.ok(failed instanceof Es2PlusFailure && failed instanceof FunctionFailure);
    assert.equal(failed.code, 'FUNCTION_FAILED');
    assert.deepEqual([failed.function, failed.status, failed.subjectCode, failed.reasonCode, failed.subjectIdentifier], ['downloadOrder', 'Failed', '8.2.5', '3.7', 'P9054-2']);
    assert.equal(failed.functionCallIdentifier, (seen[0]!.body['header'] as { functionCallIdentifier: string }).functionCallIdentifier);
    assert.match(failed.message, /ES2\+ downloadOrder: Failed \(8\.2\.5 \/ 3\.7\): No more Profile/);
    answer = { status: 200, body: { header: { functionExecutionStatus: { status: 'Expired' } } } };
    await assert.rejects(releaseProfile(client(), ICCID), (e: unknown) => e instanceof Es2PlusFailure && e.status === 'Expired' && e.subjectCode === '');
  });

  it('Executed-WithWarning passes with its status code data', async () => {
    answer = { status: 200, body: { header: { functionExecutionStatus: { status: 'Executed-WithWarning', statusCodeData: { subjectCode: '8.2.1', reasonCode: '3.3' } } }, iccid: ICCID } };
    const r = await client().call('downloadOrder', { iccid: ICCID });
    assert.equal(r.status, 'Executed-WithWarning');
    assert.deepEqual(r.statusCodeData, { subjectCode: '8.2.1', reasonCode: '3.3' });
  });

  it('an HTTP status other than 200 is a TRANSPORT_ERROR naming the refusal', async () => {
    answer = { status: 403, body: { header: { functionExecutionStatus: { status: 'Failed', statusCodeData: { subjectCode: '1.1', reasonCode: '1.2', message: 'unknown client certificate' } } } } };
    await assert.rejects(releaseProfile(client(), ICCID), (e: unknown) => code('TRANSPORT_ERROR')(e) && /HTTP status 403 \(1\.1 1\.2 unknown client certificate\)/.test((e as Error).message));
    answer = { status: 204, body: '' };
    await assert.rejects(releaseProfile(client(), ICCID), code('TRANSPORT_ERROR'));
  });

  it('answers that break the binding or contradict the request are INVALID_SERVER_RESPONSE', async () => {
    const cases: Array<[unknown, () => Promise<unknown>]> = [
      [{ iccid: ICCID }, () => downloadOrder(client(), { iccid: ICCID })],
      [{ header: {}, iccid: ICCID }, () => downloadOrder(client(), { iccid: ICCID })],
      [{ header: { functionExecutionStatus: { status: 'OK' } } }, () => releaseProfile(client(), ICCID)],
      [[1, 2], () => releaseProfile(client(), ICCID)],
      [success({}).body, () => downloadOrder(client(), { iccid: ICCID })],
      [success({ iccid: 8947 }).body, () => downloadOrder(client(), { iccid: ICCID })],
      [success({ iccid: '8947010000123456792' }).body, () => downloadOrder(client(), { iccid: ICCID })],
      [success({ iccid: 'ABC' }).body, () => downloadOrder(client(), { profileType: 'P9054-2' })],
      [success({}).body, () => confirmOrder(client(), { iccid: ICCID, releaseFlag: true })],
      [success({ matchingId: 'AB$1' }).body, () => confirmOrder(client(), { iccid: ICCID, releaseFlag: true })],
      [success({ matchingId: 'OTHER' }).body, () => confirmOrder(client(), { iccid: ICCID, matchingId: 'MINE', releaseFlag: true })],
      [success({ matchingId: 'M', eid: '89049032123451234512345678901236' }).body, () => confirmOrder(client(), { iccid: ICCID, eid: EID, releaseFlag: true })],
      [success({ matchingId: 'M', smdpAddress: 'evil.example/path' }).body, () => confirmOrder(client(), { iccid: ICCID, releaseFlag: true })],
    ];
    for (const [body, run] of cases) {
      answer = { status: 200, body };
      await assert.rejects(run(), code('INVALID_SERVER_RESPONSE'), JSON.stringify(body));
    }
    // 19 digits with and without the padding F are the same profile.
    answer = success({ iccid: '8947010000123456784' });
    assert.equal((await downloadOrder(client(), { iccid: ICCID })).iccid, '8947010000123456784');
  });

  it('an unreachable SM-DP+, or one with a certificate the CA does not vouch for, is a TRANSPORT_ERROR', async () => {
    const unreachable = new Es2PlusClient({ smdpUrl: 'https://127.0.0.1:1', functionRequesterIdentifier: 'acme-1', timeoutMs: 2000 });
    await assert.rejects(releaseProfile(unreachable, ICCID), code('TRANSPORT_ERROR'));
    const untrusted = new Es2PlusClient({ smdpUrl: `https://localhost:${port}`, functionRequesterIdentifier: 'acme-1', ca: operator.certificatePem });
    await assert.rejects(releaseProfile(untrusted, ICCID), code('TRANSPORT_ERROR'));
    assert.equal(seen.length, 0);
  });
});

describe('activation codes and trial credentials', () => {
  it('activationCode: LPA:1$address$matchingId, $$1 when a confirmation code is required; refuses what would break the code', () => {
    assert.equal(activationCode('smdp.example', 'ABC-1', false), 'LPA:1$smdp.example$ABC-1');
    assert.equal(activationCode('127.0.0.1:8443', '', true), 'LPA:1$127.0.0.1:8443$$$1');
    assert.throws(() => activationCode('smdp.example:0', 'A', false), code('INVALID_ARGUMENT'));
    assert.throws(() => activationCode('smdp$example', 'A', false), code('INVALID_ARGUMENT'));
    assert.throws(() => activationCode('smdp.example', 'a$1', false), code('INVALID_ARGUMENT'));
  });

  it('issueOperatorCredentials: a self-signed P-256 certificate for client and server use, its SHA-256 and its key', () => {
    const c = issueOperatorCredentials('acme.ops', ['ops.acme.example', '192.0.2.7', '2001:db8::1'], 30, new Date('2026-01-01T00:00:00.500Z'));
    const der = certificatesFromFile(Buffer.from(c.certificatePem))[0]!;
    const parsed = parseCertificate(der);
    assert.equal(c.fingerprint, createHash('sha256').update(der).digest('hex'));
    assert.equal(parsed.subject.text, 'O=mcim operator, CN=acme.ops');
    assert.ok(parsed.selfIssued);
    assert.equal(parsed.publicKey.curve, 'P-256');
    assert.deepEqual(parsed.extendedKeyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.deepEqual([parsed.notBefore.toISOString(), parsed.notAfter.toISOString()], ['2026-01-01T00:00:00.000Z', '2026-01-31T00:00:00.000Z']);
    const x509 = new X509Certificate(der);
    assert.equal(x509.subjectAltName, 'DNS:ops.acme.example, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:1');
    assert.ok(x509.checkPrivateKey(createPrivateKey(c.privateKeyPem)));
    assert.ok(x509.verify(x509.publicKey));
    assert.throws(() => issueOperatorCredentials('bad name'), code('INVALID_ARGUMENT'));
    assert.throws(() => issueOperatorCredentials('acme', ['bad_host!']), code('INVALID_ARGUMENT'));
    assert.throws(() => issueOperatorCredentials('acme', undefined, 0), code('INVALID_ARGUMENT'));
  });
});
