// The operator's HandleDownloadProgressInfo listener (src/operator/handleDownloadProgressInfo.ts, SGP.22 5.3.5 / 6.5.2.5):
// HTTP 204 without a body for a notification, its fields handed to the callback; bad bodies, bad routes, a missing
// X-Admin-Protocol and oversized bodies refused before the callback; the SM-DP+'s client certificate by pinned
// SHA-256 (403 for another or none) or by CA (refused in the handshake).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { postJson } from '../../src/http/jsonClient.js';
import { McimError } from '../../src/errors.js';
import {
  HANDLE_DOWNLOAD_PROGRESS_INFO_PATH,
  MAX_PROGRESS_BODY,
  decodeNotification,
  listenForDownloadProgress,
  normalizeFingerprint,
  type DownloadProgressInfo,
  type ProgressListener,
  type ProgressPeer,
} from '../../src/operator/handleDownloadProgressInfo.js';
import { issueOperatorCredentials, type OperatorCredentials } from '../../src/operator/operatorCredentials.js';
import { certificateToPem } from '../../src/pki/certificate.js';
import { issueTestPki } from '../../src/pki/testPki.js';

const operator = issueOperatorCredentials('acme');
const smdp = issueOperatorCredentials('smdp');
const stranger = issueOperatorCredentials('stranger');
const pki = issueTestPki({ curve: 'P-256' });
const dpTls = { cert: certificateToPem(pki.dpTls.der), key: pki.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };

const ICCID = '8947010000123456784F';
const EID = '89049032123451234512345678901235';

function notification(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    header: { functionRequesterIdentifier: 'smdp.example', functionCallIdentifier: 'call-1' },
    eid: EID,
    iccid: ICCID,
    profileType: 'P9054-2',
    timestamp: '2026-12-05T09:30:47Z',
    notificationPointId: 3,
    notificationPointStatus: { status: 'Executed-Success' },
    ...overrides,
  };
}

interface Received {
  info: DownloadProgressInfo;
  peer: ProgressPeer;
}

async function listen(options: { pins?: string[]; clientCa?: string; fail?: boolean } = {}): Promise<{ listener: ProgressListener; received: Received[]; errors: unknown[] }> {
  const received: Received[] = [];
  const errors: unknown[] = [];
  const listener = await listenForDownloadProgress(
    {
      cert: operator.certificatePem,
      key: operator.privateKeyPem,
      ...(options.pins === undefined ? {} : { smdpCertificateFingerprints: options.pins }),
      ...(options.clientCa === undefined ? {} : { clientCa: options.clientCa }),
      onProgress: (info, peer) => {
        if (options.fail === true) throw new Error('the operator database is down');
        received.push({ info, peer });
      },
      onError: (e) => errors.push(e),
    },
    0,
    '127.0.0.1',
  );
  return { listener, received, errors };
}

function url(listener: ProgressListener, path = HANDLE_DOWNLOAD_PROGRESS_INFO_PATH): string {
  return `https://localhost:${listener.port}${path}`;
}

function as(client: OperatorCredentials | undefined): { cert?: string; key?: string; ca: string } {
  return client === undefined ? { ca: operator.certificatePem } : { cert: client.certificatePem, key: client.privateKeyPem, ca: operator.certificatePem };
}

/** A raw POST (postJson always sends JSON with X-Admin-Protocol): the status and the body's failure header. */
function rawPost(listener: ProgressListener, body: Buffer, headers: Record<string, string>, method = 'POST', path = HANDLE_DOWNLOAD_PROGRESS_INFO_PATH): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', servername: 'localhost', port: listener.port, path, method, ca: operator.certificatePem, cert: smdp.certificatePem, key: smdp.privateKeyPem, headers: { ...('Transfer-Encoding' in headers ? {} : { 'Content-Length': String(body.length) }), ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function failure(body: unknown): { subjectCode: string; reasonCode: string } {
  const header = (body as { header: { functionExecutionStatus: { status: string; statusCodeData: { subjectCode: string; reasonCode: string } } } }).header;
  assert.equal(header.functionExecutionStatus.status, 'Failed');
  return header.functionExecutionStatus.statusCodeData;
}

describe('HandleDownloadProgressInfo listener, SM-DP+ pinned by SHA-256', () => {
  let env: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    env = await listen({ pins: [smdp.fingerprint.toUpperCase().replace(/(..)(?!$)/g, '$1:')] });
  });
  after(() => env.listener.close());

  it('answers 204 without a body and hands the decoded notification and the peer to the callback', async () => {
    const resultData = Buffer.from('bf3706a0048002ffff', 'hex');
    const answer = await postJson(url(env.listener), notification({ notificationPointId: 4, resultData: resultData.toString('base64'), extra: 'ignored' }), as(smdp));
    assert.equal(answer.status, 204);
    assert.equal(answer.body, undefined);
    assert.equal(answer.adminProtocol, 'gsma/rsp/v2.5.0');
    assert.equal(env.received.length, 1);
    const { info, peer } = env.received[0]!;
    assert.deepEqual(info.header, { functionRequesterIdentifier: 'smdp.example', functionCallIdentifier: 'call-1' });
    assert.equal(info.iccid, ICCID);
    assert.equal(info.eid, EID);
    assert.equal(info.profileType, 'P9054-2');
    assert.equal(info.timestamp, '2026-12-05T09:30:47Z');
    assert.equal(info.notificationPointId, 4);
    assert.deepEqual(info.notificationPointStatus, { status: 'Executed-Success' });
    assert.deepEqual(info.resultData, resultData);
    assert.equal(peer.certificateFingerprint, smdp.fingerprint);
  });

  it("tolerates the spec's example: timeStamp, a string notificationPointId, a Failed status with its codes", async () => {
    const body = notification({
      timestamp: undefined,
      timeStamp: '2026-12-05T09:31:00+01:00',
      notificationPointId: '1',
      notificationPointStatus: { status: 'Failed', statusCodeData: { subjectCode: '8.8.5', reasonCode: '6.4', message: 'Maximum number of retries exceeded' } },
      eid: undefined,
    });
    const before = env.received.length;
    const answer = await postJson(url(env.listener), body, as(smdp));
    assert.equal(answer.status, 204);
    const { info } = env.received[before]!;
    assert.equal(info.timestamp, '2026-12-05T09:31:00+01:00');
    assert.equal(info.notificationPointId, 1);
    assert.equal(info.eid, undefined);
    assert.deepEqual(info.notificationPointStatus, { status: 'Failed', statusCodeData: { subjectCode: '8.8.5', reasonCode: '6.4', message: 'Maximum number of retries exceeded' } });
  });

  it('refuses bodies that are not the declared notification (400, the field subject code) and does not call back', async () => {
    const before = env.received.length;
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [notification({ iccid: undefined }), '8.2.1', '2.2'],
      [notification({ iccid: '12345' }), '8.2.1', '2.1'],
      [notification({ iccid: '894701000012345678412' }), '8.2.1', '2.1'],
      [notification({ eid: '0102030040506070809A0B0C0D0E0F' }), '8.1.1', '2.1'],
      [notification({ profileType: undefined }), '8.2.5', '2.2'],
      [notification({ timestamp: undefined }), '1.6', '2.2'],
      [notification({ notificationPointId: -1 }), '1.6', '2.1'],
      [notification({ notificationPointId: '4x' }), '1.6', '2.1'],
      [notification({ notificationPointStatus: { status: 'Done' } }), '1.6', '2.1'],
      [notification({ notificationPointStatus: { status: 'Failed', statusCodeData: { subjectCode: 8 } } }), '1.6', '2.1'],
      [notification({ notificationPointStatus: 'Executed-Success' }), '1.6', '2.1'],
      [notification({ resultData: 'not base64!' }), '1.6', '2.1'],
      [notification({ header: undefined }), '1.1', '2.2'],
      [notification({ header: { functionRequesterIdentifier: 'smdp.example' } }), '1.1', '2.2'],
      [notification({ header: { functionRequesterIdentifier: 'x'.repeat(257), functionCallIdentifier: 'c' } }), '1.1', '2.1'],
    ];
    for (const [body, subjectCode, reasonCode] of cases) {
      const answer = await postJson(url(env.listener), body, as(smdp));
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.deepEqual({ ...failure(answer.body), message: undefined }, { subjectCode, reasonCode, message: undefined }, JSON.stringify(body));
    }
    const array = await postJson(url(env.listener), [notification()], as(smdp));
    assert.equal(array.status, 400);
    const notJson = await rawPost(env.listener, Buffer.from('{"header":'), { 'X-Admin-Protocol': 'gsma/rsp/v2.5.0', 'Content-Type': 'application/json' });
    assert.equal(notJson.status, 400);
    assert.match(notJson.body, /not JSON/);
    assert.equal(env.received.length, before);
  });

  it('refuses an oversized body (413), a missing X-Admin-Protocol (400), another path (404) or method (405)', async () => {
    const before = env.received.length;
    const big = Buffer.from(JSON.stringify(notification({ padding: 'x'.repeat(MAX_PROGRESS_BODY) })));
    const tooLarge = await rawPost(env.listener, big, { 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' });
    assert.equal(tooLarge.status, 413);
    // Without a Content-Length the bound is enforced while reading.
    const chunked = await rawPost(env.listener, big, { 'X-Admin-Protocol': 'gsma/rsp/v2.5.0', 'Transfer-Encoding': 'chunked' });
    assert.equal(chunked.status, 413);
    assert.match(chunked.body, /exceeds/);
    const body = Buffer.from(JSON.stringify(notification()));
    assert.equal((await rawPost(env.listener, body, {})).status, 400);
    assert.equal((await rawPost(env.listener, body, { 'X-Admin-Protocol': 'gsma/rsp/v3.0.0' })).status, 400);
    assert.equal((await rawPost(env.listener, body, { 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' }, 'POST', '/gsma/rsp2/es2plus/downloadOrder')).status, 404);
    assert.equal((await rawPost(env.listener, Buffer.alloc(0), { 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' }, 'GET')).status, 405);
    assert.equal(env.received.length, before);
  });

  it('refuses another client certificate and none with 403, without calling back', async () => {
    const before = env.received.length;
    const other = await postJson(url(env.listener), notification(), as(stranger));
    assert.equal(other.status, 403);
    assert.deepEqual({ ...failure(other.body), message: undefined }, { subjectCode: '1.1', reasonCode: '1.1', message: undefined });
    const none = await postJson(url(env.listener), notification(), as(undefined));
    assert.equal(none.status, 403);
    assert.match(JSON.stringify(none.body), /a client certificate is required/);
    assert.equal(env.received.length, before);
  });
});

describe('HandleDownloadProgressInfo listener, other settings', () => {
  it("with --client-ca: the SM-DP+'s CERT.DP.TLS under its CI is accepted, another certificate fails the handshake", async () => {
    const env = await listen({ clientCa: certificateToPem(pki.ci.der) });
    try {
      const answer = await postJson(url(env.listener), notification(), { ...dpTls, ca: operator.certificatePem });
      assert.equal(answer.status, 204);
      assert.equal(env.received.length, 1);
      await assert.rejects(postJson(url(env.listener), notification(), as(smdp)), (e: unknown) => e instanceof McimError && e.code === 'IO_ERROR');
      await assert.rejects(postJson(url(env.listener), notification(), as(undefined)), (e: unknown) => e instanceof McimError && e.code === 'IO_ERROR');
      assert.equal(env.received.length, 1);
    } finally {
      await env.listener.close();
    }
  });

  it('without pins or CA any caller is served, its fingerprint undefined when it sent no certificate', async () => {
    const env = await listen();
    try {
      assert.equal((await postJson(url(env.listener), notification(), as(undefined))).status, 204);
      assert.equal(env.received[0]!.peer.certificateFingerprint, undefined);
    } finally {
      await env.listener.close();
    }
  });

  it('a callback that throws answers 500 (the SM-DP+ retries) and reports the error', async () => {
    const env = await listen({ fail: true });
    try {
      const answer = await postJson(url(env.listener), notification(), as(smdp));
      assert.equal(answer.status, 500);
      assert.deepEqual({ ...failure(answer.body), message: undefined }, { subjectCode: '1.2', reasonCode: '4.2', message: undefined });
      assert.doesNotMatch(JSON.stringify(answer.body), /database is down/);
      assert.equal(env.errors.length, 1);
    } finally {
      await env.listener.close();
    }
  });

  it('refuses pins and a CA together, and fingerprints that are not 64 hex digits', async () => {
    await assert.rejects(listen({ pins: [smdp.fingerprint], clientCa: certificateToPem(pki.ci.der) }), /not both/);
    assert.throws(() => normalizeFingerprint('abc'), /not a SHA-256 fingerprint/);
    assert.equal(normalizeFingerprint(smdp.fingerprint.toUpperCase()), smdp.fingerprint);
  });

  it('decodeNotification keeps timestamp when both spellings are sent, and refuses an empty profile type', () => {
    assert.equal(decodeNotification(notification({ timeStamp: '1764927047' })).timestamp, '2026-12-05T09:30:47Z');
    assert.equal(decodeNotification(notification({ timestamp: undefined, timeStamp: '1764927047' })).timestamp, '1764927047');
    assert.throws(() => decodeNotification(notification({ profileType: '' })), (e: unknown) => e instanceof McimError && e.code === 'FUNCTION_FAILED');
  });
});
