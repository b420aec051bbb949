// Security events and metrics of a running SM-DP+ over TLS: every Failed status, forged and replayed notifications and confirmation code failures are one log event each, without secrets; the metrics endpoint counts them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { encodeIccid } from '../../src/asn1/definitions/saip.js';
import { ServerMetrics, registrySource, startMetricsEndpoint, type MetricsEndpoint } from '../../src/http/metrics.js';
import { importProfile } from '../../src/smdpp/importProfile.js';
import { readFixture } from '../helpers/fixtures.js';
import { captureLogger, type LogCapture } from '../helpers/logCapture.js';
import { EuiccSimulator, type AuthenticateClientOk, type InitiateAuthenticationOk } from './euiccSimulator.js';
import { SMDP_ADDRESS, SMDP_OID, startHarness, type Es9Response, type Harness } from './harness.js';

const PROFILE = readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
let counter = 0;

function b64(b: Buffer): string {
  return b.toString('base64');
}

function status(r: Es9Response): string {
  const s = r.body.header?.functionExecutionStatus;
  return s?.status === 'Failed' ? `${s.statusCodeData?.subjectCode}/${s.statusCodeData?.reasonCode}` : (s?.status ?? String(r.status));
}

async function order(h: Harness, confirmationCode?: string): Promise<{ matchingId: string; iccid: string }> {
  const matchingId = `OBSERVED${++counter}X${Date.now()}ZZZZZZ`;
  const r = await importProfile(h.store, PROFILE, { matchingId, ...(confirmationCode === undefined ? {} : { confirmationCode }) }, h.now);
  return { matchingId, iccid: r.iccid };
}

async function authenticate(h: Harness, euicc: EuiccSimulator, matchingId: string): Promise<{ init: InitiateAuthenticationOk; auth: Es9Response }> {
  euicc.newSession();
  const r = await h.call('initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: SMDP_ADDRESS });
  const init = r.body as unknown as InitiateAuthenticationOk;
  const auth = await h.call('authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)) });
  return { init, auth };
}

async function getBpp(h: Harness, euicc: EuiccSimulator, init: InitiateAuthenticationOk, auth: Es9Response, cc?: string): Promise<Es9Response> {
  return h.call('getBoundProfilePackage', {
    transactionId: init.transactionId,
    prepareDownloadResponse: b64(euicc.prepareDownload(auth.body as unknown as AuthenticateClientOk, cc)),
  });
}

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

/** The value of one sample of the exposition text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((l) => line.includes(l))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('SM-DP+ security events and metrics', () => {
  let h: Harness;
  let log: LogCapture;
  let metrics: ServerMetrics;
  let endpoint: MetricsEndpoint;

  before(async () => {
    log = captureLogger();
    metrics = new ServerMetrics();
    h = await startHarness({ logger: log.logger, metrics });
    endpoint = await startMetricsEndpoint(registrySource(metrics.registry), '127.0.0.1', 0);
  });
  after(async () => {
    await endpoint.close();
    await h.close();
  });

  const events = (name: string): Record<string, unknown>[] => log.lines().filter((l) => l['event'] === name);

  it('a refused authentication is one es9.failed event: function, codes, message, transactionId prefix, EID, client address', async () => {
    const euicc = new EuiccSimulator(h.p256);
    const { matchingId } = await order(h);
    euicc.newSession();
    const init = (await h.call('initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: SMDP_ADDRESS }))
      .body as unknown as InitiateAuthenticationOk;
    const r = await h.call('authenticateClient', {
      transactionId: init.transactionId,
      authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId, { tamperSignature: true })),
    });
    assert.equal(status(r), '8.1/6.1');
    const [e, ...more] = events('es9.failed');
    assert.equal(more.length, 0);
    assert.equal(e?.['function'], 'authenticateClient');
    assert.equal(e?.['subjectCode'], '8.1');
    assert.equal(e?.['reasonCode'], '6.1');
    assert.equal(e?.['message'], 'euiccSignature1 does not verify');
    assert.equal(e?.['transactionId'], `${init.transactionId.slice(0, 8)}…`);
    assert.equal(e?.['eid'], undefined, 'a certificate is public: without a valid signature the EID is not named');
    assert.equal(e?.['client'], '127.0.0.1');
    assert.equal(e?.['level'], 'warn');
    assert.ok(!log.text().includes(init.transactionId), 'the full transactionId is not logged');
  });

  it('a body refused before any handler runs (over the function\'s limit) is one es9.failed event and a counted call', async () => {
    const r = await h.call('initiateAuthentication', { euiccChallenge: 'A'.repeat(64 * 1024), euiccInfo1: 'AAAA', smdpAddress: SMDP_ADDRESS });
    assert.equal(r.status, 413);
    assert.equal(status(r), '1.1/2.1');
    const refused = events('es9.failed').filter((e) => e['function'] === 'initiateAuthentication' && e['subjectCode'] === '1.1');
    assert.equal(refused.length, 1);
    assert.equal(refused[0]?.['client'], '127.0.0.1');
    assert.match(String(refused[0]?.['message']), /malformed request/);
    const text = await scrape(endpoint.port);
    assert.ok(text.split('\n').some((l) => l.includes('initiateAuthentication') && l.includes('rejected')), 'the refused call is counted');
  });

  it('an unknown matching ID is a matchingId.refused event without the matching ID', async () => {
    const guess = 'GUESSEDMATCHINGID0123456789';
    const { auth } = await authenticate(h, new EuiccSimulator(h.p256), guess);
    assert.equal(status(auth), '8.2.6/3.8');
    const [e] = events('matchingId.refused');
    assert.equal(e?.['eid'], h.p256.eid);
    assert.ok(!log.text().includes(guess));
  });

  it('wrong confirmation codes are confirmationCode.failed events up to the lockout (8.2.7/3.8 then 6.4)', async () => {
    const euicc = new EuiccSimulator(h.p256);
    const { matchingId } = await order(h, '97531');
    const codes: string[] = [];
    for (const cc of ['11111', '22222', '33333']) {
      const { init, auth } = await authenticate(h, euicc, matchingId);
      codes.push(status(await getBpp(h, euicc, init, auth, cc)));
    }
    assert.deepEqual(codes, ['8.2.7/3.8', '8.2.7/3.8', '8.2.7/6.4']);
    assert.deepEqual(events('confirmationCode.failed').map((e) => `${String(e['reasonCode'])} ${String(e['eid'])}`), [
      `3.8 ${h.p256.eid}`,
      `3.8 ${h.p256.eid}`,
      `6.4 ${h.p256.eid}`,
    ]);
    assert.ok(!log.text().includes(matchingId) && !log.text().includes('97531'));
  });

  it('a forged PIR is notification.discarded, a replayed one notification.replayed; a download leaves no package bytes in the log', async () => {
    const euicc = new EuiccSimulator(h.p256);
    const { matchingId, iccid } = await order(h);
    const { init, auth } = await authenticate(h, euicc, matchingId);
    const bpp = await getBpp(h, euicc, init, auth);
    assert.equal(status(bpp), 'Executed-Success');
    const forged = euicc.installationResult(SMDP_OID, SMDP_ADDRESS, encodeIccid(iccid), true, { tamperSignature: true });
    assert.equal((await h.call('handleNotification', { pendingNotification: b64(forged) })).status, 204);
    const pir = euicc.installationResult(SMDP_OID, SMDP_ADDRESS, encodeIccid(iccid), true);
    assert.equal((await h.call('handleNotification', { pendingNotification: b64(pir) })).status, 204);
    assert.equal((await h.call('handleNotification', { pendingNotification: b64(pir) })).status, 204);
    const [discarded] = events('notification.discarded');
    assert.equal(discarded?.['reason'], 'euiccSignPIR does not verify');
    assert.equal(discarded?.['client'], '127.0.0.1');
    assert.equal(events('notification.replayed').length, 1);
    const packageText = bpp.body.boundProfilePackage as string;
    assert.ok(!log.text().includes(packageText.slice(100, 140)));
    assert.ok(!log.text().includes(matchingId));
  });

  it('other parts raise events through ctx.events: a rate-limit hit is logged and counted by scope', () => {
    h.server.context.events.securityEvent('rateLimit.hit', { scope: 'source', subject: '203.0.113.7', reason: 'too many InitiateAuthentication', client: '203.0.113.7' });
    const [e] = events('rateLimit.hit');
    assert.deepEqual([e?.['scope'], e?.['subject'], e?.['level']], ['source', '203.0.113.7', 'warn']);
  });

  it('the metrics endpoint counts calls by function and outcome, latency, security events, rate-limit hits and connections', async () => {
    const text = await scrape(endpoint.port);
    assert.equal(sample(text, 'mcim_rate_limit_hits_total', { scope: 'source' }), 1);
    const calls = (labels: Record<string, string>): number => sample(text, 'mcim_es9_calls_total', labels);
    assert.equal(calls({ function: 'getBoundProfilePackage', outcome: 'success' }), 1);
    assert.equal(calls({ function: 'getBoundProfilePackage', outcome: 'failed', subject_code: '8.2.7', reason_code: '3.8' }), 2);
    assert.equal(calls({ function: 'authenticateClient', outcome: 'failed', subject_code: '8.2.6', reason_code: '3.8' }), 1);
    assert.equal(calls({ function: 'handleNotification', outcome: 'success' }), 3);
    assert.equal(sample(text, 'mcim_security_events_total', { event: 'notification.discarded' }), 1);
    assert.equal(sample(text, 'mcim_security_events_total', { event: 'confirmationCode.failed' }), 3);
    // Six sessions timed; the body refused before its handler is counted (above, as rejected) but not timed.
    assert.equal(sample(text, 'mcim_es9_call_duration_seconds_count', { function: 'initiateAuthentication' }), 6);
    assert.equal(calls({ function: 'initiateAuthentication', outcome: 'rejected', subject_code: '1.1', reason_code: '2.1' }), 1);
    assert.match(text, /^mcim_http_connections_active \d+$/m);
    assert.match(text, /^mcim_process_resident_memory_bytes \d+/m);
  });

  it('the metrics endpoint serves /metrics only', async () => {
    await assert.rejects(
      new Promise((resolve, reject) => {
        get({ host: '127.0.0.1', port: endpoint.port, path: '/' }, (res) => (res.statusCode === 404 ? reject(new Error('404')) : resolve(res.statusCode))).on('error', reject);
      }),
      /404/,
    );
  });
});
