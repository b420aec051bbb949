// The SM-DP+ against guessing and session floods (issue 8; SGP.22 5.6.1, 5.6.3 codes): a failed AuthenticateClient ends its
// session, matching-ID failures lock out the EID and the source (exponentially, visibly to the operator, answered as a
// wrong guess), and one source's open sessions are capped (1.2/4.4, nothing signed or stored) while other sources go on.
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeEid } from '../../src/pki/eid.js';
import { issueTestCertificate, type TestPki } from '../../src/pki/testPki.js';
import { importProfile } from '../../src/smdpp/importProfile.js';
import { authenticationKey, eidKey, sourceKey, sourceOf } from '../../src/smdpp/rateLimit.js';
import { readFixture } from '../helpers/fixtures.js';
import { captureLogger, type LogCapture } from '../helpers/logCapture.js';
import { EuiccSimulator, type InitiateAuthenticationOk } from './euiccSimulator.js';
import { encode } from '../../src/asn1/schema.js';
import { AuthenticateServerResponse } from '../../src/asn1/definitions/rsp.js';
import { SMDP_ADDRESS, startHarness, type Es9Response, type Harness } from './harness.js';

const PROFILE = readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const OTHER_SOURCE = '127.0.0.2';
let counter = 0;

const b64 = (b: Buffer): string => b.toString('base64');

function assertSuccess(r: Es9Response): void {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.header?.functionExecutionStatus.status, 'Executed-Success', JSON.stringify(r.body));
}

function codeOf(r: Es9Response): string {
  const data = r.body.header?.functionExecutionStatus.statusCodeData;
  return `${data?.subjectCode}/${data?.reasonCode}`;
}

function assertFailed(r: Es9Response, code: string, message?: string): void {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.header?.functionExecutionStatus.status, 'Failed', JSON.stringify(r.body));
  assert.equal(codeOf(r), code, JSON.stringify(r.body));
  if (message !== undefined) assert.equal(r.body.header?.functionExecutionStatus.statusCodeData?.message, message);
}

/** Another eUICC of the harness's P-256 EUM with a fresh EID. */
function freshEuicc(pki: TestPki): EuiccSimulator {
  const eid = makeEid('89049032', Array.from({ length: 22 }, () => randomInt(10)).join(''));
  return new EuiccSimulator({ ...pki, eid, euicc: issueTestCertificate('euicc', pki.eum, { eid, notBefore: new Date(Date.now() - HOUR) }) });
}

/** An order; with a download-attempt limit, its attempts are counted (and show which orders were tried). */
async function order(h: Harness, eid?: string): Promise<string> {
  const matchingId = `RATE-LIMIT-${++counter}-${Date.now()}`;
  await importProfile(h.store, PROFILE, { matchingId, maxDownloadAttempts: 10, ...(eid === undefined ? {} : { eid }) }, h.now);
  return matchingId;
}

async function initiate(h: Harness, euicc: EuiccSimulator, from?: string): Promise<Es9Response> {
  euicc.newSession();
  return h.call('initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: SMDP_ADDRESS }, {}, from);
}

async function authenticate(h: Harness, euicc: EuiccSimulator, matchingId: string | undefined, from?: string): Promise<{ init: InitiateAuthenticationOk; auth: Es9Response }> {
  const r = await initiate(h, euicc, from);
  assertSuccess(r);
  const init = r.body as unknown as InitiateAuthenticationOk;
  const auth = await h.call('authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)) }, {}, from);
  return { init, auth };
}

async function sessionRows(h: Harness, source: string): Promise<number> {
  const r = await h.store.db.selectFrom('smdp_sessions').select((eb) => eb.fn.countAll<number>().as('n')).where('source', '=', source).executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('a failed AuthenticateClient ends its session', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('an unknown matchingId (8.2.6/3.8) ends the session: the right one on the same transactionId gets 8.10.1/3.9', async () => {
    const euicc = new EuiccSimulator(h.p256);
    const matchingId = await order(h);
    const { init, auth } = await authenticate(h, euicc, `${matchingId}-WRONG`);
    assertFailed(auth, '8.2.6/3.8');
    assert.equal((await h.store.sessions.get(init.transactionId))?.state, 'failed');
    const retry = await h.call('authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)) });
    assertFailed(retry, '8.10.1/3.9');
    const o = await h.store.orders.get(matchingId);
    assert.equal(o?.state, 'released');
    assert.equal(o?.downloadAttempts, 0, 'no attempt was counted on the order');
    // The eUICC starts again with InitiateAuthentication.
    assertSuccess((await authenticate(h, euicc, matchingId)).auth);
  });

  it('a refused eUICC signature (8.1/6.1) ends the session too', async () => {
    const euicc = new EuiccSimulator(h.p256);
    const matchingId = await order(h);
    const r = await initiate(h, euicc);
    const init = r.body as unknown as InitiateAuthenticationOk;
    const bad = await h.call('authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId, { tamperSignature: true })) });
    assertFailed(bad, '8.1/6.1');
    const retry = await h.call('authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)) });
    assertFailed(retry, '8.10.1/3.9');
  });

  it('concurrent AuthenticateClient calls on one transactionId: one takes the session, the others get 8.10.1/3.9', async () => {
    const euicc = new EuiccSimulator(h.p256);
    const guesses = await Promise.all(Array.from({ length: 8 }, () => order(h)));
    const r = await initiate(h, euicc);
    const init = r.body as unknown as InitiateAuthenticationOk;
    const answers = await Promise.all(
      guesses.map((g) => h.call('authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, g)) })),
    );
    const taken = answers.filter((a) => codeOf(a) !== '8.10.1/3.9');
    assert.equal(taken.length, 1, answers.map(codeOf).join(' '));
    assertSuccess(taken[0]!);
    const attempts = await Promise.all(guesses.map(async (g) => (await h.store.orders.get(g))?.downloadAttempts));
    assert.equal(attempts.reduce((a, b) => a! + b!, 0), 1, 'one order was tried');
  });
});

describe('matching-ID failures lock out the EID and the source', () => {
  let h: Harness;
  let log: LogCapture;
  const events = (name: string): Record<string, unknown>[] => log.lines().filter((l) => l['event'] === name);
  const eidPolicy = { maxFailures: 3, windowMs: HOUR, lockoutMs: 10 * MINUTE, maxLockoutMs: HOUR };
  const sourcePolicy = { maxFailures: 10, windowMs: HOUR, lockoutMs: 10 * MINUTE, maxLockoutMs: HOUR };
  before(async () => {
    log = captureLogger();
    h = await startHarness({ limits: { eid: eidPolicy, source: sourcePolicy }, logger: log.logger });
  });
  after(async () => {
    await h.close();
  });

  async function guessWrong(euicc: EuiccSimulator, times: number, from?: string): Promise<void> {
    for (let i = 0; i < times; i++) assertFailed((await authenticate(h, euicc, `GUESS-${++counter}-${Date.now()}`, from)).auth, '8.2.6/3.8', 'unknown matchingId');
  }

  it('after K failures the EID gets 8.2.6/3.8 even for the right matchingId, nothing is looked up, the operator sees it; the lock ends, and the next one lasts twice as long', async () => {
    const euicc = freshEuicc(h.p256);
    const matchingId = await order(h);
    await guessWrong(euicc, eidPolicy.maxFailures, OTHER_SOURCE);
    const [locked] = await h.store.lockouts.locked([eidKey(euicc.eid)], h.now);
    assert.equal(locked?.lockedUntil, h.now + eidPolicy.lockoutMs);
    assert.equal(locked?.lockouts, 1);

    const { auth } = await authenticate(h, euicc, matchingId, OTHER_SOURCE);
    assertFailed(auth, '8.2.6/3.8', 'unknown matchingId');
    const o = await h.store.orders.get(matchingId);
    assert.equal(o?.state, 'released');
    assert.equal(o?.downloadAttempts, 0, 'the order was not tried');
    assert.ok((await h.store.lockouts.list(h.now)).some((e) => e.key === eidKey(euicc.eid) && e.lockedUntil !== undefined), 'listed for the operator');
    // The log shows the EID by its prefix (src/http/logging.ts).
    const eidShown = (e: Record<string, unknown>): boolean => typeof e['subject'] === 'string' && euicc.eid.startsWith(e['subject'].replace('…', ''));
    const started = events('lockout.started');
    assert.deepEqual(started.map((e) => [e['scope'], e['until'], e['client'], e['reason']]), [['eid', h.now + eidPolicy.lockoutMs, OTHER_SOURCE, 'matching-ID failures']], 'the lockout is a security event');
    assert.ok(eidShown(started[0]!), JSON.stringify(started[0]));
    const hits = events('rateLimit.hit');
    assert.deepEqual(hits.map((e) => [e['scope'], e['reason']]), [['eid', 'matching-ID lockout']]);
    assert.ok(eidShown(hits[0]!));

    // Another eUICC from the same source is not locked (the source has fewer failures than its own limit).
    const other = freshEuicc(h.p256);
    assertSuccess((await authenticate(h, other, await order(h), OTHER_SOURCE)).auth);

    h.now += eidPolicy.lockoutMs + 1;
    assertSuccess((await authenticate(h, euicc, matchingId, OTHER_SOURCE)).auth);

    await guessWrong(euicc, eidPolicy.maxFailures, OTHER_SOURCE);
    const [again] = await h.store.lockouts.locked([eidKey(euicc.eid)], h.now);
    assert.equal(again?.lockedUntil, h.now + 2 * eidPolicy.lockoutMs, 'the second lockout lasts twice as long');
    assert.equal(again?.lockouts, 2);

    // The operator clears it: the eUICC is served at once.
    assert.equal(await h.store.lockouts.clear(eidKey(euicc.eid)), true);
    assertSuccess((await authenticate(h, euicc, await order(h), OTHER_SOURCE)).auth);
    await h.store.lockouts.clear(sourceKey(OTHER_SOURCE));
  });

  it('an order bound to another EID (8.1.1/3.8) counts as a failure; no matchingId (default SM-DP+) does not', async () => {
    const euicc = freshEuicc(h.p256);
    const owner = freshEuicc(h.p256);
    const theirs = await order(h, owner.eid);
    for (let i = 0; i < eidPolicy.maxFailures + 2; i++) assertFailed((await authenticate(h, euicc, undefined, OTHER_SOURCE)).auth, '8.1.1/3.8');
    assert.deepEqual(await h.store.lockouts.locked([eidKey(euicc.eid)], h.now), [], 'asking for its own orders is not guessing');
    for (let i = 0; i < eidPolicy.maxFailures; i++) assertFailed((await authenticate(h, euicc, theirs, OTHER_SOURCE)).auth, '8.1.1/3.8');
    assert.equal((await h.store.lockouts.locked([eidKey(euicc.eid)], h.now)).length, 1);
    await h.store.lockouts.clear(sourceKey(OTHER_SOURCE));
  });

  it('a source that guesses with many EIDs is locked out for every EID, another source is not', async () => {
    await h.store.lockouts.clear(sourceKey('127.0.0.1'));
    for (let i = 0; i < sourcePolicy.maxFailures / 2; i++) await guessWrong(freshEuicc(h.p256), 2);
    assert.equal((await h.store.lockouts.locked([sourceKey('127.0.0.1')], h.now)).length, 1);
    const newcomer = freshEuicc(h.p256);
    const matchingId = await order(h);
    assertFailed((await authenticate(h, newcomer, matchingId)).auth, '8.2.6/3.8', 'unknown matchingId');
    assertSuccess((await authenticate(h, newcomer, matchingId, OTHER_SOURCE)).auth);
    await h.store.lockouts.clear(sourceKey('127.0.0.1'));
  });

  it('guessing is bounded: of 30 guesses by one eUICC, only the K before its lockout reach the orders', async () => {
    const euicc = freshEuicc(h.p256);
    const target = await order(h);
    await guessWrong(euicc, 30, OTHER_SOURCE);
    const [entry] = await h.store.lockouts.locked([eidKey(euicc.eid)], h.now);
    assert.equal(entry?.lockouts, 1, 'locked once');
    assert.equal(entry?.failures, 0, 'no guess was looked up (or counted) while locked out');
    assertFailed((await authenticate(h, euicc, target, OTHER_SOURCE)).auth, '8.2.6/3.8', 'unknown matchingId');
    assert.equal((await h.store.orders.get(target))?.downloadAttempts, 0, 'the right guess did not reach the order');
    await h.store.lockouts.clear(sourceKey(OTHER_SOURCE));
  });
});

describe('open sessions per source', () => {
  let h: Harness;
  const cap = 5;
  before(async () => {
    h = await startHarness({ limits: { maxOpenSessionsPerSource: cap } });
  });
  after(async () => {
    await h.close();
  });

  it('a flood of InitiateAuthentication from one source stops creating rows at the cap (1.2/4.4, nothing signed); another source still gets sessions', async () => {
    const euicc = new EuiccSimulator(h.p256);
    const flood = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const device = new EuiccSimulator(h.p256);
        return { device, r: await initiate(h, device) };
      }),
    );
    const opened = flood.filter((f) => f.r.body.header?.functionExecutionStatus.status === 'Executed-Success');
    assert.equal(opened.length, cap);
    for (const f of flood.filter((x) => !opened.includes(x))) {
      assertFailed(f.r, '1.2/4.4');
      assert.equal(f.r.body.serverSignature1, undefined, 'nothing signed');
    }
    assert.equal(await sessionRows(h, '127.0.0.1'), cap, 'no row beyond the cap');
    assertSuccess(await initiate(h, euicc, OTHER_SOURCE));
    assert.equal(await sessionRows(h, OTHER_SOURCE), 1);

    // A session that ends (here: a failed AuthenticateClient) frees its place; an expired one too.
    const { device, r } = opened[0]!;
    const first = r.body as unknown as InitiateAuthenticationOk;
    assertFailed(await h.call('authenticateClient', { transactionId: first.transactionId, authenticateServerResponse: b64(device.authenticateServer(first, 'NO-SUCH-ORDER-XYZ')) }), '8.2.6/3.8');
    assertSuccess(await initiate(h, euicc));
    assertFailed(await initiate(h, euicc), '1.2/4.4');
    h.now += 5 * MINUTE + 1;
    assertSuccess(await initiate(h, euicc));
  });

  it('ended sessions (failed, cancelled) are purged before they expire, so the table stays bounded under a flood', async () => {
    const open = async (transactionId: string): Promise<void> => {
      await h.store.sessions.create({ transactionId, curve: 'P-256', ciKeyId: 'aa', euiccChallenge: randomBytes(16), serverChallenge: randomBytes(16), expiresAt: h.now + HOUR, source: '192.0.2.1' }, h.now);
    };
    await open('PURGE-FAILED');
    await open('PURGE-CANCELLED');
    await open('PURGE-LIVE');
    await h.store.sessions.setState('PURGE-FAILED', ['initiated'], 'failed');
    await h.store.sessions.setState('PURGE-CANCELLED', ['initiated'], 'cancelled');
    assert.ok((await h.store.sessions.purge(h.now)) >= 2);
    assert.equal(await h.store.sessions.get('PURGE-FAILED'), undefined);
    assert.equal(await h.store.sessions.get('PURGE-CANCELLED'), undefined);
    assert.equal((await h.store.sessions.get('PURGE-LIVE'))?.state, 'initiated');
  });
});

describe('failed authentications from one source', () => {
  let h: Harness;
  const policy = { maxFailures: 3, windowMs: HOUR, lockoutMs: 10 * MINUTE, maxLockoutMs: HOUR };
  before(async () => {
    h = await startHarness({ limits: { authentication: policy } });
  });
  after(async () => {
    await h.close();
  });

  it('K refused eUICC authentications lock the source out of InitiateAuthentication (1.2/4.4, no row); other sources and refusals of other kinds are not counted', async () => {
    const euicc = new EuiccSimulator(h.p256);
    const matchingId = await order(h);
    // Refusals that are not failed authentications (here: unknown matchingId) do not count.
    for (let i = 0; i < policy.maxFailures; i++) assertFailed((await authenticate(h, euicc, `NOT-AN-ORDER-${i}-XXXXXXXX`, OTHER_SOURCE)).auth, '8.2.6/3.8');
    assert.deepEqual(await h.store.lockouts.locked([authenticationKey(OTHER_SOURCE)], h.now), []);
    // Nor do unsigned error answers (authenticateResponseError): they cost no verification, and anyone can send them.
    for (let i = 0; i <= policy.maxFailures; i++) {
      const init = (await initiate(h, euicc, OTHER_SOURCE)).body as unknown as InitiateAuthenticationOk;
      const refusal = encode(AuthenticateServerResponse, { type: 'authenticateResponseError', value: { transactionId: Buffer.from(init.transactionId, 'hex'), authenticateErrorCode: 1 } });
      assertFailed(await h.call('authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(refusal) }, {}, OTHER_SOURCE), '8.1/6.1');
    }
    assert.deepEqual(await h.store.lockouts.list(h.now).then((all) => all.filter((e) => e.key === authenticationKey(OTHER_SOURCE))), []);
    for (let i = 0; i < policy.maxFailures; i++) {
      const r = await initiate(h, euicc, OTHER_SOURCE);
      const init = r.body as unknown as InitiateAuthenticationOk;
      const auth = await h.call('authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId, { tamperSignature: true })) }, {}, OTHER_SOURCE);
      assertFailed(auth, '8.1/6.1');
    }
    const rows = await sessionRows(h, OTHER_SOURCE);
    assertFailed(await initiate(h, euicc, OTHER_SOURCE), '1.2/4.4');
    assert.equal(await sessionRows(h, OTHER_SOURCE), rows, 'no row for the refused call');
    assert.ok((await h.store.lockouts.list(h.now)).some((e) => e.key === authenticationKey(OTHER_SOURCE) && e.lockedUntil === h.now + policy.lockoutMs));
    assertSuccess((await authenticate(h, euicc, matchingId)).auth);

    h.now += policy.lockoutMs + 1;
    assertSuccess(await initiate(h, euicc, OTHER_SOURCE));
  });
});

describe('sourceOf', () => {
  it('counts IPv4 addresses alone, IPv4-mapped ones as IPv4, IPv6 by /64', () => {
    assert.equal(sourceOf('192.0.2.7'), '192.0.2.7');
    assert.equal(sourceOf('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(sourceOf('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(sourceOf('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(sourceOf('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(sourceOf('::1'), '0:0:0:0::/64');
  });
});
