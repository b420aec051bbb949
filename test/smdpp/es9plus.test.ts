// ES9+ end to end over HTTPS (SGP.22 3.1.2/3.1.3, 5.6): happy paths on both curves, and the server-side negative matrix with the spec's codes.
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/asn1/schema.js';
import { CancelSessionReason, NotificationEvent, StoreMetadataRequest } from '../../src/asn1/definitions/rsp.js';
import { encodeIccid } from '../../src/asn1/definitions/saip.js';
import { importProfile } from '../../src/smdpp/importProfile.js';
import { makeEid } from '../../src/pki/eid.js';
import { issueTestCertificate, type TestPki } from '../../src/pki/testPki.js';
import { readFixture } from '../helpers/fixtures.js';
import { EuiccSimulator, type AuthenticateClientOk, type InitiateAuthenticationOk } from './euiccSimulator.js';
import { SMDP_ADDRESS, SMDP_OID, startHarness, type Es9Response, type Harness, assertFailed, assertSuccess, b64 } from './harness.js';

const PROFILE = readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
let counter = 0;

/** Another eUICC under the same CI and EUM as `pki`, with an EID no other test uses (so it has received nothing). */
function sibling(pki: TestPki): TestPki {
  const eid = makeEid('89049032', Array.from({ length: 22 }, () => randomInt(10)).join(''));
  // Valid from an hour ago: the harness clock stands at its start time, before this certificate is issued.
  return { ...pki, eid, euicc: issueTestCertificate('euicc', pki.eum, { eid, notBefore: new Date(Date.now() - 3_600_000) }) };
}

async function order(h: Harness, options: { eid?: string; confirmationCode?: string } = {}): Promise<{ matchingId: string; iccid: string }> {
  const matchingId = `MATCHING-ID-${++counter}-${Date.now()}`;
  const r = await importProfile(h.store, PROFILE, { matchingId, ...options }, h.now);
  return { matchingId, iccid: r.iccid };
}

async function initiate(h: Harness, euicc: EuiccSimulator, smdpAddress = SMDP_ADDRESS): Promise<Es9Response> {
  euicc.newSession();
  return h.call('initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress });
}

async function authenticate(h: Harness, euicc: EuiccSimulator, matchingId: string): Promise<{ init: InitiateAuthenticationOk; auth: Es9Response }> {
  const r = await initiate(h, euicc);
  assertSuccess(r);
  const init = r.body as unknown as InitiateAuthenticationOk;
  const auth = await h.call('authenticateClient', {
    transactionId: init.transactionId,
    authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)),
  });
  return { init, auth };
}

async function download(
  h: Harness,
  euicc: EuiccSimulator,
  matchingId: string,
  confirmationCode?: string,
): Promise<{ transactionId: string; bpp: Es9Response; auth: AuthenticateClientOk }> {
  const { init, auth } = await authenticate(h, euicc, matchingId);
  assertSuccess(auth);
  const authOk = auth.body as unknown as AuthenticateClientOk;
  const bpp = await h.call('getBoundProfilePackage', {
    transactionId: init.transactionId,
    prepareDownloadResponse: b64(euicc.prepareDownload(authOk, confirmationCode)),
  });
  return { transactionId: init.transactionId, bpp, auth: authOk };
}

describe('SM-DP+ ES9+ over HTTPS', () => {
  let h: Harness;
  let p256: TestPki;
  let brainpool: TestPki;

  before(async () => {
    h = await startHarness();
    p256 = h.p256;
    brainpool = h.brainpool;
  });
  after(async () => {
    await h.close();
  });

  for (const curve of ['P-256', 'brainpoolP256r1'] as const) {
    it(`downloads a profile end to end on ${curve}, with PPKs, and installs it on a signed PIR`, async () => {
      const euicc = new EuiccSimulator(curve === 'P-256' ? p256 : brainpool);
      const { matchingId, iccid } = await order(h);
      const { transactionId, bpp, auth } = await download(h, euicc, matchingId);
      assertSuccess(bpp);
      const metadata = decode(StoreMetadataRequest, Buffer.from(auth.profileMetadata, 'base64'));
      assert.ok(metadata.iccid.equals(encodeIccid(iccid)));
      assert.equal(metadata.notificationConfigurationInfo?.[0]?.notificationAddress, SMDP_ADDRESS);
      const unwrapped = euicc.loadBoundProfilePackage(Buffer.from(bpp.body.boundProfilePackage as string, 'base64'));
      assert.ok(unwrapped.profilePackage.equals(PROFILE), 'the profile package comes back intact');
      assert.equal(unwrapped.usedPpk, true);
      assert.deepEqual(unwrapped.metadata, metadata);
      assert.equal((await h.store.orders.get(matchingId))?.state, 'downloaded');

      const pir = await h.call('handleNotification', { pendingNotification: b64(euicc.installationResult(SMDP_OID, SMDP_ADDRESS, metadata.iccid, true)) });
      assert.equal(pir.status, 204);
      assert.equal((await h.store.orders.get(matchingId))?.state, 'installed');
      assert.equal((await h.store.sessions.get(transactionId))?.state, 'delivered');
    });
  }

  it('the PIR is verified against the eUICC kept at delivery, or from the session row when this process does not hold it', async () => {
    for (const kept of [true, false]) {
      const euicc = new EuiccSimulator(p256);
      const { matchingId, iccid } = await order(h);
      const { transactionId, bpp } = await download(h, euicc, matchingId);
      assertSuccess(bpp);
      const deliveredSessions = h.server.context.deliveredSessions;
      assert.ok(deliveredSessions.size > 0, 'the delivery is kept until its PIR');
      // Another worker delivered it, or the entry went out: the PIR reads the session row.
      if (!kept) assert.ok(deliveredSessions.take(transactionId) !== undefined);
      const pir = await h.call('handleNotification', { pendingNotification: b64(euicc.installationResult(SMDP_OID, SMDP_ADDRESS, encodeIccid(iccid), true)) });
      assert.equal(pir.status, 204);
      assert.equal((await h.store.orders.get(matchingId))?.state, 'installed', kept ? 'kept' : 'from the session row');
      assert.equal(deliveredSessions.take(transactionId), undefined, 'the first PIR takes the entry');
    }
  });

  it('downloads with a confirmation code', async () => {
    const euicc = new EuiccSimulator(p256);
    const { matchingId } = await order(h, { confirmationCode: '1234' });
    const { bpp, auth } = await download(h, euicc, matchingId, '1234');
    assertSuccess(bpp);
    assert.equal(decodeCcFlag(auth), true);
    assert.ok(euicc.loadBoundProfilePackage(Buffer.from(bpp.body.boundProfilePackage as string, 'base64')).profilePackage.equals(PROFILE));
  });

  it('a failed installation result puts the order in error; a replayed PIR changes nothing', async () => {
    const euicc = new EuiccSimulator(p256);
    const { matchingId, iccid } = await order(h);
    assertSuccess((await download(h, euicc, matchingId)).bpp);
    const failure = euicc.installationResult(SMDP_OID, SMDP_ADDRESS, encodeIccid(iccid), false);
    assert.equal((await h.call('handleNotification', { pendingNotification: b64(failure) })).status, 204);
    const afterFirst = await h.store.orders.get(matchingId);
    assert.equal(afterFirst?.state, 'error');
    h.notifications.length = 0;
    assert.equal((await h.call('handleNotification', { pendingNotification: b64(failure) })).status, 204);
    assert.deepEqual(h.notifications, [{ outcome: 'replayed' }]);
    assert.deepEqual(await h.store.orders.get(matchingId), afterFirst);
  });

  it('a PIR with a bad signature is discarded (204, state unchanged)', async () => {
    const euicc = new EuiccSimulator(p256);
    const { matchingId, iccid } = await order(h);
    assertSuccess((await download(h, euicc, matchingId)).bpp);
    h.notifications.length = 0;
    const r = await h.call('handleNotification', {
      pendingNotification: b64(euicc.installationResult(SMDP_OID, SMDP_ADDRESS, encodeIccid(iccid), true, { tamperSignature: true })),
    });
    assert.equal(r.status, 204);
    assert.equal(h.notifications[0]?.outcome, 'discarded');
    assert.equal((await h.store.orders.get(matchingId))?.state, 'downloaded');
  });

  it('a signed delete notification moves the installed order to deleted', async () => {
    const euicc = new EuiccSimulator(p256);
    const { matchingId, iccid } = await order(h);
    assertSuccess((await download(h, euicc, matchingId)).bpp);
    await h.call('handleNotification', { pendingNotification: b64(euicc.installationResult(SMDP_OID, SMDP_ADDRESS, encodeIccid(iccid), true)) });
    const del = euicc.otherNotification(NotificationEvent.notificationDelete, SMDP_ADDRESS, encodeIccid(iccid));
    assert.equal((await h.call('handleNotification', { pendingNotification: b64(del) })).status, 204);
    assert.equal((await h.store.orders.get(matchingId))?.state, 'deleted');
  });

  describe('security review fixes', () => {
    it('H2: a delete notification from another eUICC than the one the profile was delivered to is discarded', async () => {
      const owner = new EuiccSimulator(p256);
      const stranger = new EuiccSimulator(sibling(p256));
      const { matchingId, iccid } = await order(h);
      assertSuccess((await download(h, owner, matchingId)).bpp);
      await h.call('handleNotification', { pendingNotification: b64(owner.installationResult(SMDP_OID, SMDP_ADDRESS, encodeIccid(iccid), true)) });
      assert.equal((await h.store.orders.get(matchingId))?.state, 'installed');
      h.notifications.length = 0;
      for (const event of [NotificationEvent.notificationDelete, NotificationEvent.notificationDisable]) {
        const forged = stranger.otherNotification(event, SMDP_ADDRESS, encodeIccid(iccid));
        assert.equal((await h.call('handleNotification', { pendingNotification: b64(forged) })).status, 204);
      }
      assert.deepEqual(
        h.notifications.map((n) => n.outcome),
        ['discarded', 'discarded'],
      );
      assert.match((h.notifications[0] as { reason: string }).reason, /was delivered/);
      assert.equal((await h.store.orders.get(matchingId))?.state, 'installed');
      const del = owner.otherNotification(NotificationEvent.notificationDelete, SMDP_ADDRESS, encodeIccid(iccid));
      assert.equal((await h.call('handleNotification', { pendingNotification: b64(del) })).status, 204);
      assert.equal((await h.store.orders.get(matchingId))?.state, 'deleted');
    });

    it('H2: a PIR signed by another eUICC than the one of the delivering session is discarded', async () => {
      const owner = new EuiccSimulator(p256);
      const stranger = new EuiccSimulator(sibling(p256));
      const { matchingId, iccid } = await order(h);
      const { transactionId } = await download(h, owner, matchingId);
      h.notifications.length = 0;
      const forged = stranger.installationResult(SMDP_OID, SMDP_ADDRESS, encodeIccid(iccid), false, { transactionId: Buffer.from(transactionId, 'hex') });
      assert.equal((await h.call('handleNotification', { pendingNotification: b64(forged) })).status, 204);
      assert.equal(h.notifications[0]?.outcome, 'discarded');
      assert.equal((await h.store.orders.get(matchingId))?.state, 'downloaded');
    });

    it('H3: a postponed cancelSession after delivery re-releases the order to the same eUICC only', async () => {
      const owner = new EuiccSimulator(p256);
      const other = new EuiccSimulator(sibling(p256));
      const { matchingId } = await order(h);
      const first = await download(h, owner, matchingId);
      assertSuccess(first.bpp);
      const cancel = await h.call('cancelSession', {
        transactionId: first.transactionId,
        cancelSessionResponse: b64(owner.cancelSession(CancelSessionReason.postponed, SMDP_OID)),
      });
      assertSuccess(cancel);
      const o = await h.store.orders.get(matchingId);
      assert.equal(o?.state, 'released');
      assert.equal(o?.eid, p256.eid);
      assertFailed((await authenticate(h, other, matchingId)).auth, '8.1.1', '3.8');
      assertSuccess((await download(h, owner, matchingId)).bpp);
      assert.equal((await h.store.orders.get(matchingId))?.state, 'downloaded');
    });

    it('H3: a timeout cancelSession before delivery keeps the order open to any eUICC', async () => {
      const owner = new EuiccSimulator(p256);
      const { matchingId } = await order(h);
      const { init } = await authenticate(h, owner, matchingId);
      assertSuccess(await h.call('cancelSession', { transactionId: init.transactionId, cancelSessionResponse: b64(owner.cancelSession(CancelSessionReason.timeout, SMDP_OID)) }));
      assert.equal((await h.store.orders.get(matchingId))?.eid, undefined);
      assertSuccess((await download(h, new EuiccSimulator(brainpool), matchingId)).bpp);
    });

    it('M1: an eUICC chain under a trusted CI other than the session\'s: 8.11.1/3.9', async () => {
      // euiccInfo1 offers only the P-256 CI, so the session runs under it; the chain presented is brainpool's.
      const euicc = new EuiccSimulator(brainpool, [p256.ci.certificate.subjectKeyIdentifier!]);
      const { matchingId } = await order(h);
      const { init, auth } = await authenticate(h, euicc, matchingId);
      assert.ok(Buffer.from(init.euiccCiPKIdToBeUsed, 'base64').includes(p256.ci.certificate.subjectKeyIdentifier!));
      assertFailed(auth, '8.11.1', '3.9');
      assert.equal((await h.store.sessions.get(init.transactionId))?.state, 'failed');
    });

    it('M3: expired sessions are purged (not one awaiting its PIR) and a download still completes', async () => {
      const owner = new EuiccSimulator(p256);
      const { matchingId, iccid } = await order(h);
      const delivered = await download(h, owner, matchingId);
      assertSuccess(delivered.bpp);
      const idle: string[] = [];
      for (let i = 0; i < 3; i++) idle.push(((await initiate(h, new EuiccSimulator(p256))).body as unknown as InitiateAuthenticationOk).transactionId);
      const start = h.now;
      h.now += h.server.context.sessionTtlMs + 1;
      try {
        assert.ok((await h.store.sessions.purge(h.now)) >= idle.length);
        for (const id of idle) assert.equal(await h.store.sessions.get(id), undefined, `session ${id} purged`);
        assert.equal((await h.store.sessions.get(delivered.transactionId))?.state, 'delivered', 'kept for its PIR');
        const pir = owner.installationResult(SMDP_OID, SMDP_ADDRESS, encodeIccid(iccid), true);
        assert.equal((await h.call('handleNotification', { pendingNotification: b64(pir) })).status, 204);
        assert.equal((await h.store.orders.get(matchingId))?.state, 'installed');
        await h.store.sessions.purge(h.now);
        assert.equal(await h.store.sessions.get(delivered.transactionId), undefined);
        // The order keeps what the notifications need: the owner can still delete, a stranger still cannot.
        h.notifications.length = 0;
        const forged = new EuiccSimulator(sibling(p256)).otherNotification(NotificationEvent.notificationDelete, SMDP_ADDRESS, encodeIccid(iccid));
        await h.call('handleNotification', { pendingNotification: b64(forged) });
        assert.equal(h.notifications[0]?.outcome, 'discarded');
        const del = owner.otherNotification(NotificationEvent.notificationDelete, SMDP_ADDRESS, encodeIccid(iccid));
        await h.call('handleNotification', { pendingNotification: b64(del) });
        assert.equal((await h.store.orders.get(matchingId))?.state, 'deleted');
        const next = await order(h);
        assertSuccess((await download(h, new EuiccSimulator(p256), next.matchingId)).bpp);
      } finally {
        h.now = start;
      }
    });

    it('M3: the HTTPS server bounds request and idle connection time', () => {
      assert.equal(h.server.app.server.requestTimeout, 30_000);
      assert.equal(h.server.app.server.timeout, 30_000);
    });
  });

  describe('negative matrix', () => {
    it('wrong smdpAddress: 8.8.1/3.8', async () => {
      assertFailed(await initiate(h, new EuiccSimulator(p256), 'other.example.com'), '8.8.1', '3.8');
    });

    it('the address compares case-insensitively', async () => {
      assertSuccess(await initiate(h, new EuiccSimulator(p256), SMDP_ADDRESS.toUpperCase()));
    });

    it('unknown CI in euiccInfo1: 8.8.2/3.1', async () => {
      const euicc = new EuiccSimulator(p256, [Buffer.alloc(20, 0x42)]);
      assertFailed(await initiate(h, euicc), '8.8.2', '3.1');
    });

    it('an eUICC chain under a CI the SM-DP+ does not trust: 8.11.1/3.9', async () => {
      const { issueTestPki } = await import('../../src/pki/testPki.js');
      const foreign = issueTestPki({ curve: 'P-256' });
      // The eUICC claims our CI in euiccInfo1 but presents a chain from another CI.
      const euicc = new EuiccSimulator(foreign, [p256.ci.certificate.subjectKeyIdentifier!]);
      const { matchingId } = await order(h);
      assertFailed((await authenticate(h, euicc, matchingId)).auth, '8.11.1', '3.9');
    });

    it('tampered euiccSignature1: 8.1/6.1', async () => {
      const euicc = new EuiccSimulator(p256);
      const { matchingId } = await order(h);
      const init = (await initiate(h, euicc)).body as unknown as InitiateAuthenticationOk;
      const r = await h.call('authenticateClient', {
        transactionId: init.transactionId,
        authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId, { tamperSignature: true })),
      });
      assertFailed(r, '8.1', '6.1');
    });

    it('wrong server challenge: 8.1/6.1', async () => {
      const euicc = new EuiccSimulator(p256);
      const { matchingId } = await order(h);
      const init = (await initiate(h, euicc)).body as unknown as InitiateAuthenticationOk;
      const r = await h.call('authenticateClient', {
        transactionId: init.transactionId,
        authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId, { serverChallenge: Buffer.alloc(16, 7) })),
      });
      assertFailed(r, '8.1', '6.1');
    });

    it('replayed authenticateClient: 8.10.1/3.9', async () => {
      const euicc = new EuiccSimulator(p256);
      const { matchingId } = await order(h);
      const init = (await initiate(h, euicc)).body as unknown as InitiateAuthenticationOk;
      const body = { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)) };
      assertSuccess(await h.call('authenticateClient', body));
      assertFailed(await h.call('authenticateClient', body), '8.10.1', '3.9');
    });

    it('transactionId of another session: 8.10.1/3.9', async () => {
      const euicc = new EuiccSimulator(p256);
      const { matchingId } = await order(h);
      const other = (await initiate(h, new EuiccSimulator(p256))).body as unknown as InitiateAuthenticationOk;
      const init = (await initiate(h, euicc)).body as unknown as InitiateAuthenticationOk;
      const r = await h.call('authenticateClient', {
        transactionId: other.transactionId,
        authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)),
      });
      assertFailed(r, '8.10.1', '3.9');
      assertFailed(await h.call('authenticateClient', { transactionId: 'AABBCCDD', authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)) }), '8.10.1', '3.9');
    });

    it('unknown matchingId: 8.2.6/3.8', async () => {
      assertFailed((await authenticate(h, new EuiccSimulator(p256), 'NO-SUCH-ID')).auth, '8.2.6', '3.8');
    });

    it('matchingId ordered for another EID: 8.1.1/3.8', async () => {
      const { matchingId } = await order(h, { eid: brainpool.eid });
      const r = (await authenticate(h, new EuiccSimulator(p256), matchingId)).auth;
      assertFailed(r, '8.1.1', '3.8');
    });

    it('matchingId ordered for this EID is accepted', async () => {
      const { matchingId } = await order(h, { eid: p256.eid });
      assertSuccess((await download(h, new EuiccSimulator(p256), matchingId)).bpp);
    });

    it('tampered euiccSignature2: 8.1/6.1', async () => {
      const euicc = new EuiccSimulator(p256);
      const { matchingId } = await order(h);
      const { init, auth } = await authenticate(h, euicc, matchingId);
      const r = await h.call('getBoundProfilePackage', {
        transactionId: init.transactionId,
        prepareDownloadResponse: b64(euicc.prepareDownload(auth.body as unknown as AuthenticateClientOk, undefined, { tamperSignature: true })),
      });
      assertFailed(r, '8.1', '6.1');
      assert.equal((await h.store.orders.get(matchingId))?.state, 'released');
    });

    it('missing, wrong confirmation codes and lockout: 8.2.7/2.2, 3.8, 6.4', async () => {
      const euicc = new EuiccSimulator(p256);
      const { matchingId } = await order(h, { confirmationCode: '5678' });
      assertFailed((await download(h, euicc, matchingId)).bpp, '8.2.7', '2.2');
      assertFailed((await download(h, euicc, matchingId, '0000')).bpp, '8.2.7', '3.8');
      assertFailed((await download(h, euicc, matchingId, '1111')).bpp, '8.2.7', '3.8');
      assertFailed((await download(h, euicc, matchingId, '2222')).bpp, '8.2.7', '6.4');
      const locked = await h.store.orders.get(matchingId);
      assert.equal(locked?.state, 'error');
      assert.equal(locked?.ccAttempts, 3);
      // Even the right code is refused now, already at authenticateClient.
      assertFailed((await authenticate(h, euicc, matchingId)).auth, '8.2.7', '6.4');
    });

    it('expired session: 8.10.1/3.9', async () => {
      const euicc = new EuiccSimulator(p256);
      const { matchingId } = await order(h);
      const init = (await initiate(h, euicc)).body as unknown as InitiateAuthenticationOk;
      h.now += h.server.context.sessionTtlMs + 1;
      try {
        const r = await h.call('authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)) });
        assertFailed(r, '8.10.1', '3.9');
        assert.equal((await h.store.sessions.get(init.transactionId))?.state, 'expired');
      } finally {
        h.now = Date.now();
      }
    });

    it('a second getBoundProfilePackage, in the same or a new session: 8.2/3.7', async () => {
      const euicc = new EuiccSimulator(p256);
      const { matchingId } = await order(h);
      const first = await download(h, euicc, matchingId);
      assertSuccess(first.bpp);
      const again = await h.call('getBoundProfilePackage', {
        transactionId: first.transactionId,
        prepareDownloadResponse: b64(euicc.prepareDownload(first.auth)),
      });
      assertFailed(again, '8.2', '3.7');
      assertFailed((await authenticate(h, euicc, matchingId)).auth, '8.2', '3.7');
    });

    it('getBoundProfilePackage after cancelSession: 8.10.1/3.9; the order stays released for postponed', async () => {
      const euicc = new EuiccSimulator(p256);
      const { matchingId } = await order(h);
      const { init, auth } = await authenticate(h, euicc, matchingId);
      const authOk = auth.body as unknown as AuthenticateClientOk;
      const cancel = await h.call('cancelSession', { transactionId: init.transactionId, cancelSessionResponse: b64(euicc.cancelSession(1, SMDP_OID)) });
      assertSuccess(cancel);
      const r = await h.call('getBoundProfilePackage', { transactionId: init.transactionId, prepareDownloadResponse: b64(euicc.prepareDownload(authOk)) });
      assertFailed(r, '8.10.1', '3.9');
      assert.equal((await h.store.orders.get(matchingId))?.state, 'released');
      assertSuccess((await download(h, euicc, matchingId)).bpp);
    });

    it('cancelSession checks the eUICC signature and the SM-DP+ OID; endUserRejection puts the order in error', async () => {
      const euicc = new EuiccSimulator(p256);
      const stranger = new EuiccSimulator(brainpool);
      const { matchingId } = await order(h);
      const { init } = await authenticate(h, euicc, matchingId);
      const txid = Buffer.from(init.transactionId, 'hex');
      const forged = await h.call('cancelSession', { transactionId: init.transactionId, cancelSessionResponse: b64(stranger.cancelSession(0, SMDP_OID, txid)) });
      assertFailed(forged, '8.1', '6.1');
      assertFailed(await h.call('cancelSession', { transactionId: init.transactionId, cancelSessionResponse: b64(euicc.cancelSession(0, '2.999.99')) }), '8.8', '3.10');
      assertSuccess(await h.call('cancelSession', { transactionId: init.transactionId, cancelSessionResponse: b64(euicc.cancelSession(0, SMDP_OID)) }));
      assert.equal((await h.store.orders.get(matchingId))?.state, 'error');
      assertFailed(await h.call('cancelSession', { transactionId: init.transactionId, cancelSessionResponse: b64(euicc.cancelSession(0, SMDP_OID)) }), '8.10.1', '3.9');
    });

    it('malformed JSON, base64, hex and ASN.1: typed failures, nothing written', async () => {
      const countSessions = async (): Promise<number> =>
        Number((await h.store.db.selectFrom('smdp_sessions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      const before = await countSessions();
      const euicc = new EuiccSimulator(p256);
      const notJson = await h.call('initiateAuthentication', '{"euiccChallenge": ');
      assert.equal(notJson.status, 400);
      assertFailed(notJson, '1.1', '2.1');
      assertFailed(await h.call('initiateAuthentication', '[1,2]'), '1.1', '2.1');
      assertFailed(await h.call('initiateAuthentication', { euiccChallenge: '***', euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: SMDP_ADDRESS }), '8.1', '2.1');
      assertFailed(await h.call('initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(Buffer.from('bf2003800102', 'hex')), smdpAddress: SMDP_ADDRESS }), '8.1', '2.1');
      assertFailed(await h.call('initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()) }), '8.8.1', '2.2');
      assertFailed(await h.call('initiateAuthentication', { euiccChallenge: 12, euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: SMDP_ADDRESS }), '8.1', '2.1');
      assertFailed(await h.call('initiateAuthentication', { euiccChallenge: b64(Buffer.alloc(15)), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: SMDP_ADDRESS }), '8.1', '2.1');
      assertFailed(await h.call('authenticateClient', { transactionId: 'XYZ', authenticateServerResponse: 'AAAA' }), '8.10.1', '2.1');
      assertFailed(await h.call('getBoundProfilePackage', { transactionId: '00', prepareDownloadResponse: b64(Buffer.from('bf2100', 'hex')) }), '8.1', '2.1');
      assertFailed(await h.call('handleNotification', { pendingNotification: b64(Buffer.from('300100', 'hex')) }), '8.1', '2.1');
      assertFailed(await h.call('cancelSession', { transactionId: '00', cancelSessionResponse: 'not base64!' }), '8.1', '2.1');
      assert.equal(await countSessions(), before);
    });

    it('rejects another X-Admin-Protocol', async () => {
      const euicc = new EuiccSimulator(p256);
      const r = await h.call(
        'initiateAuthentication',
        { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: SMDP_ADDRESS },
        { 'X-Admin-Protocol': 'gsma/rsp/v3.0.0' },
      );
      assert.equal(r.status, 400);
      assertFailed(r, '8.8.3', '3.1');
    });
  });
});

function decodeCcFlag(auth: AuthenticateClientOk): boolean {
  const der = Buffer.from(auth.smdpSigned2, 'base64');
  // SmdpSigned2: 30 L 80 L transactionId 01 01 flag
  const txLength = der[3]!;
  return der[4 + txLength + 2] === 0xff;
}
