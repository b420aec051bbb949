// SM-DP+ conformance (SGP.22 5.6.2/5.6.3/5.6.5, SGP.23): retry with the same one-time key, cancel reasons, confirmation code retries, order limits and eligibility, large metadata.
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/asn1/schema.js';
import { BoundProfilePackage, CancelSessionReason, IconType, PprId, SmdpSigned2, StoreMetadataRequest, hasNamedBit } from '../../src/asn1/definitions/rsp.js';
import { importProfile, type ImportOptions } from '../../src/smdpp/importProfile.js';
import { decodeBindingSecrets } from '../../src/smdpp/boundProfilePackageRetry.js';
import { makeEid } from '../../src/pki/eid.js';
import { issueTestCertificate, type TestPki } from '../../src/pki/testPki.js';
import { McimError } from '../../src/errors.js';
import { readFixture } from '../helpers/fixtures.js';
import { EuiccSimulator, type AuthenticateClientOk, type InitiateAuthenticationOk } from './euiccSimulator.js';
import { SMDP_ADDRESS, SMDP_OID, startHarness, type Es9Response, type Harness, assertFailed, assertSuccess, b64 } from './harness.js';

const PROFILE = readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
const PNG_ICON = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(1016)]);
let counter = 0;

function fromB64(s: unknown): Buffer {
  return Buffer.from(s as string, 'base64');
}

/** Another eUICC under the same CI and EUM, with its own EID. */
function sibling(pki: TestPki): TestPki {
  const eid = makeEid('89049032', Array.from({ length: 22 }, () => randomInt(10)).join(''));
  return { ...pki, eid, euicc: issueTestCertificate('euicc', pki.eum, { eid, notBefore: new Date(Date.now() - 3_600_000) }) };
}

async function order(h: Harness, options: Partial<ImportOptions> = {}): Promise<string> {
  const matchingId = `CONF-${++counter}-${Date.now()}`;
  await importProfile(h.store, PROFILE, { matchingId, allowShortMatchingId: true, ...options }, h.now);
  return matchingId;
}

interface Authenticated {
  readonly transactionId: string;
  readonly auth: Es9Response;
}

async function authenticate(h: Harness, euicc: EuiccSimulator, matchingId: string, forbiddenProfilePolicyRules?: number[]): Promise<Authenticated> {
  euicc.newSession();
  const init = await h.call('initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: SMDP_ADDRESS });
  assertSuccess(init);
  const ok = init.body as unknown as InitiateAuthenticationOk;
  const auth = await h.call('authenticateClient', {
    transactionId: ok.transactionId,
    authenticateServerResponse: b64(euicc.authenticateServer(ok, matchingId, { forbiddenProfilePolicyRules })),
  });
  return { transactionId: ok.transactionId, auth };
}

function getBpp(h: Harness, euicc: EuiccSimulator, a: Authenticated, tweak: { confirmationCode?: string; newOtKey?: boolean } = {}): Promise<Es9Response> {
  return h.call('getBoundProfilePackage', {
    transactionId: a.transactionId,
    prepareDownloadResponse: b64(euicc.prepareDownload(a.auth.body as unknown as AuthenticateClientOk, tweak.confirmationCode, { newOtKey: tweak.newOtKey })),
  });
}

function cancel(h: Harness, euicc: EuiccSimulator, transactionId: string, reason: number): Promise<Es9Response> {
  return h.call('cancelSession', { transactionId, cancelSessionResponse: b64(euicc.cancelSession(reason, SMDP_OID)) });
}

function smdpSigned2Of(a: Authenticated): SmdpSigned2 {
  return decode(SmdpSigned2, fromB64((a.auth.body as unknown as AuthenticateClientOk).smdpSigned2));
}

describe('SM-DP+ conformance (issue 7)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  describe('retry with the same one-time key (SGP.22 5.6.2/5.6.3, bppEuiccOtpk)', () => {
    for (const reason of ['postponed', 'loadBppExecutionError', 'timeout'] as const) {
      it(`after a ${reason} cancel following the binding, the same eUICC and otPK get the same BPP, re-signed for the new transaction`, async () => {
        const euicc = new EuiccSimulator(h.p256);
        const matchingId = await order(h);
        const first = await authenticate(h, euicc, matchingId);
        assertSuccess(first.auth);
        assert.equal(smdpSigned2Of(first).bppEuiccOtpk, undefined, 'nothing bound yet: no bppEuiccOtpk');
        const firstBpp = await getBpp(h, euicc, first);
        assertSuccess(firstBpp);
        const bpp1 = decode(BoundProfilePackage, fromB64(firstBpp.body.boundProfilePackage));
        assertSuccess(await cancel(h, euicc, first.transactionId, CancelSessionReason[reason]));

        const second = await authenticate(h, euicc, matchingId);
        assertSuccess(second.auth);
        assert.ok(smdpSigned2Of(second).bppEuiccOtpk !== undefined, 'smdpSigned2 names the otPK.EUICC.ECKA the BPP is bound to');
        const secondBpp = await getBpp(h, euicc, second);
        assertSuccess(secondBpp);
        const bpp2 = decode(BoundProfilePackage, fromB64(secondBpp.body.boundProfilePackage));
        const isc1 = bpp1.initialiseSecureChannelRequest.value;
        const isc2 = bpp2.initialiseSecureChannelRequest.value;
        assert.ok(isc2.smdpOtpk.equals(isc1.smdpOtpk), 'the same otPK.DP.ECKA');
        assert.ok(isc2.controlRefTemplate.hostId.equals(isc1.controlRefTemplate.hostId));
        assert.ok(isc2.transactionId.equals(Buffer.from(second.transactionId, 'hex')), 'BF23 carries the new transactionId');
        assert.deepEqual(bpp2.sequenceOf86, bpp1.sequenceOf86, 'the same protected profile segments');
        assert.deepEqual(bpp2.sequenceOf88, bpp1.sequenceOf88);
        assert.deepEqual(bpp2.firstSequenceOf87, bpp1.firstSequenceOf87);
        // The eUICC verifies smdpSign over the new transactionId and its kept otPK, and decrypts.
        assert.ok(euicc.loadBoundProfilePackage(fromB64(secondBpp.body.boundProfilePackage)).profilePackage.equals(PROFILE));
        assert.equal((await h.store.orders.get(matchingId))?.state, 'downloaded');
      });
    }

    it('with a new otPK.EUICC.ECKA the profile is bound afresh (new otPK.DP.ECKA), and that binding is the one kept', async () => {
      const euicc = new EuiccSimulator(h.p256);
      const matchingId = await order(h);
      const first = await authenticate(h, euicc, matchingId);
      const bpp1 = decode(BoundProfilePackage, fromB64((await getBpp(h, euicc, first)).body.boundProfilePackage));
      assertSuccess(await cancel(h, euicc, first.transactionId, CancelSessionReason.postponed));
      const second = await authenticate(h, euicc, matchingId);
      const r = await getBpp(h, euicc, second, { newOtKey: true });
      assertSuccess(r);
      const bpp2 = decode(BoundProfilePackage, fromB64(r.body.boundProfilePackage));
      assert.ok(!bpp2.initialiseSecureChannelRequest.value.smdpOtpk.equals(bpp1.initialiseSecureChannelRequest.value.smdpOtpk));
      assert.ok(euicc.loadBoundProfilePackage(fromB64(r.body.boundProfilePackage)).profilePackage.equals(PROFILE));
      const kept = (await h.store.orders.get(matchingId))?.bppEuiccOtpk;
      assertSuccess(await cancel(h, euicc, second.transactionId, CancelSessionReason.postponed));
      const third = await authenticate(h, euicc, matchingId);
      assert.deepEqual(smdpSigned2Of(third).bppEuiccOtpk, kept, 'bppEuiccOtpk names the latest binding');
    });

    it('another eUICC is refused (8.1.1/3.8) and an order never bound carries no bppEuiccOtpk', async () => {
      const owner = new EuiccSimulator(h.p256);
      const matchingId = await order(h);
      const first = await authenticate(h, owner, matchingId);
      assertSuccess(await getBpp(h, owner, first));
      assertSuccess(await cancel(h, owner, first.transactionId, CancelSessionReason.postponed));
      assertFailed((await authenticate(h, new EuiccSimulator(sibling(h.p256)), matchingId)).auth, '8.1.1', '3.8');
      const other = await order(h);
      const a = await authenticate(h, owner, other);
      assertSuccess(a.auth);
      assert.equal(smdpSigned2Of(a).bppEuiccOtpk, undefined);
    });

    it('sessions another eUICC authenticated before the re-release can neither cancel (order kept) nor bind (8.1.1/3.8) the re-released order', async () => {
      const owner = new EuiccSimulator(h.p256);
      const matchingId = await order(h);
      // Two other eUICCs authenticate while the order is still open to any eUICC, and wait.
      const [rejecter, binder] = [new EuiccSimulator(sibling(h.p256)), new EuiccSimulator(sibling(h.p256))];
      const [waitingToCancel, waitingToBind] = [await authenticate(h, rejecter, matchingId), await authenticate(h, binder, matchingId)];
      assertSuccess(waitingToCancel.auth);
      assertSuccess(waitingToBind.auth);
      const first = await authenticate(h, owner, matchingId);
      assertSuccess(await getBpp(h, owner, first));
      assertSuccess(await cancel(h, owner, first.transactionId, CancelSessionReason.postponed));
      assert.equal((await h.store.orders.get(matchingId))?.eid, h.p256.eid, 're-released to the owner only');
      assertSuccess(await cancel(h, rejecter, waitingToCancel.transactionId, CancelSessionReason.endUserRejection));
      assertFailed(await getBpp(h, binder, waitingToBind), '8.1.1', '3.8');
      const after = await h.store.orders.get(matchingId);
      assert.deepEqual([after?.state, after?.eid, after?.deliveredEid], ['released', h.p256.eid, h.p256.eid], 'nothing bound for, or ended by, another eUICC');
      // The owner's retry still gets its retained package.
      const r = await getBpp(h, owner, await authenticate(h, owner, matchingId));
      assertSuccess(r);
      assert.ok(owner.loadBoundProfilePackage(fromB64(r.body.boundProfilePackage)).profilePackage.equals(PROFILE));
    });

    it('the binding is retained as its secrets (not the package), sealed at rest, and dropped once the profile is installed', async () => {
      const euicc = new EuiccSimulator(h.p256);
      const matchingId = await order(h);
      const a = await authenticate(h, euicc, matchingId);
      const r = await getBpp(h, euicc, a);
      const bpp = fromB64(r.body.boundProfilePackage);
      const row = await h.store.db.selectFrom('smdp_orders').select(['binding_sealed', 'bpp_euicc_otpk']).where('matching_id', '=', matchingId).executeTakeFirstOrThrow();
      assert.ok(row.binding_sealed !== null && row.bpp_euicc_otpk !== null);
      assert.ok(row.binding_sealed.length < 256, `the secrets, not the ${bpp.length}-byte package (${row.binding_sealed.length} bytes)`);
      const secrets = decodeBindingSecrets((await h.store.orders.retainedBinding(matchingId, h.p256.eid, Buffer.from(row.bpp_euicc_otpk)))!);
      const smdpOtpk = decode(BoundProfilePackage, bpp).initialiseSecureChannelRequest.value.smdpOtpk;
      assert.ok(secrets.smdpOtpk.equals(smdpOtpk), 'the binding of the delivered package');
      assert.equal(Buffer.from(row.binding_sealed).indexOf(secrets.sharedSecret), -1, 'not stored in the clear');
      const metadata = decode(StoreMetadataRequest, fromB64((a.auth.body as unknown as AuthenticateClientOk).profileMetadata));
      await h.call('handleNotification', { pendingNotification: b64(euicc.installationResult(SMDP_OID, SMDP_ADDRESS, metadata.iccid, true)) });
      const after = await h.store.db.selectFrom('smdp_orders').select(['state', 'binding_sealed', 'bpp_euicc_otpk']).where('matching_id', '=', matchingId).executeTakeFirstOrThrow();
      assert.deepEqual(after, { state: 'installed', binding_sealed: null, bpp_euicc_otpk: null });
    });
  });

  describe('cancel reasons decide the order (SGP.22 5.6.5)', () => {
    for (const [reason, state] of [
      ['endUserRejection', 'error'],
      ['pprNotAllowed', 'error'],
      ['metadataMismatch', 'error'],
      ['undefinedReason', 'error'],
      ['postponed', 'released'],
      ['timeout', 'released'],
      ['loadBppExecutionError', 'released'],
    ] as const) {
      it(`${reason} after binding: the order is ${state}`, async () => {
        const euicc = new EuiccSimulator(h.p256);
        const matchingId = await order(h);
        const a = await authenticate(h, euicc, matchingId);
        assertSuccess(await getBpp(h, euicc, a));
        assertSuccess(await cancel(h, euicc, a.transactionId, CancelSessionReason[reason]));
        const o = await h.store.orders.get(matchingId);
        assert.equal(o?.state, state);
        if (state === 'error') {
          assert.equal(o?.bppEuiccOtpk, undefined, 'no package kept for an order that ended');
          assertFailed((await authenticate(h, euicc, matchingId)).auth, '8.2', '1.2');
        } else {
          assert.equal(o?.eid, h.p256.eid);
        }
      });
    }
  });

  describe('confirmation code (SGP.22 3.1.3.4, 5.6.2)', () => {
    it('a wrong code (8.2.7/3.8) leaves the session open: the right code in the same transaction downloads', async () => {
      const euicc = new EuiccSimulator(h.p256);
      const matchingId = await order(h, { confirmationCode: '2468' });
      const a = await authenticate(h, euicc, matchingId);
      assertFailed(await getBpp(h, euicc, a, { confirmationCode: '0000' }), '8.2.7', '3.8');
      assertFailed(await getBpp(h, euicc, a, { confirmationCode: '1111' }), '8.2.7', '3.8');
      const ok = await getBpp(h, euicc, a, { confirmationCode: '2468' });
      assertSuccess(ok);
      assert.ok(euicc.loadBoundProfilePackage(fromB64(ok.body.boundProfilePackage)).profilePackage.equals(PROFILE));
      assert.equal((await h.store.orders.get(matchingId))?.ccAttempts, 2);
    });

    it('in one transaction, the attempts spent: 8.2.7/6.4, the session fails and the order is in error', async () => {
      const euicc = new EuiccSimulator(h.p256);
      const matchingId = await order(h, { confirmationCode: '2468' });
      const a = await authenticate(h, euicc, matchingId);
      assertFailed(await getBpp(h, euicc, a, { confirmationCode: '0000' }), '8.2.7', '3.8');
      assertFailed(await getBpp(h, euicc, a, { confirmationCode: '0001' }), '8.2.7', '3.8');
      assertFailed(await getBpp(h, euicc, a, { confirmationCode: '0002' }), '8.2.7', '6.4');
      assert.equal((await h.store.orders.get(matchingId))?.state, 'error');
      assert.equal((await h.store.sessions.get(a.transactionId))?.state, 'failed');
      assertFailed(await getBpp(h, euicc, a, { confirmationCode: '2468' }), '8.10.1', '3.9');
    });
  });

  describe('order limits and eligibility at authenticateClient (SGP.22 5.6.3)', () => {
    it('not yet released: 8.2/1.2 until released', async () => {
      const euicc = new EuiccSimulator(h.p256);
      const matchingId = await order(h, { released: false });
      assert.equal((await h.store.orders.get(matchingId))?.state, 'confirmed');
      assertFailed((await authenticate(h, euicc, matchingId)).auth, '8.2', '1.2');
      assert.equal(await h.store.orders.release(matchingId, h.now), true);
      assert.equal(await h.store.orders.release(matchingId, h.now), false, 'released once');
      assertSuccess((await authenticate(h, euicc, matchingId)).auth);
    });

    it('an expired order: 8.8.5/4.10, nothing written', async () => {
      const euicc = new EuiccSimulator(h.p256);
      const matchingId = await order(h, { expiresAt: h.now + 60_000 });
      assertSuccess((await authenticate(h, euicc, matchingId)).auth);
      const before = await h.store.orders.get(matchingId);
      h.now += 60_001;
      try {
        assertFailed((await authenticate(h, euicc, matchingId)).auth, '8.8.5', '4.10');
        assert.deepEqual(await h.store.orders.get(matchingId), before);
      } finally {
        h.now = Date.now();
      }
    });

    it('the download attempts spent: 8.8.5/6.4 and the order goes to error', async () => {
      const euicc = new EuiccSimulator(h.p256);
      const matchingId = await order(h, { maxDownloadAttempts: 2 });
      for (let i = 0; i < 2; i++) {
        const a = await authenticate(h, euicc, matchingId);
        assertSuccess(a.auth);
        assertSuccess(await cancel(h, euicc, a.transactionId, CancelSessionReason.postponed));
      }
      assert.equal((await h.store.orders.get(matchingId))?.downloadAttempts, 2);
      assertFailed((await authenticate(h, euicc, matchingId)).auth, '8.8.5', '6.4');
      const o = await h.store.orders.get(matchingId);
      assert.equal(o?.state, 'error');
      assert.equal(o?.downloadAttempts, 2);
      assertFailed((await authenticate(h, euicc, matchingId)).auth, '8.2', '1.2');
    });

    it('profile policy rules the eUICC forbids: 8.2.5/4.3; rules it does not forbid pass', async () => {
      const euicc = new EuiccSimulator(h.p256);
      const matchingId = await order(h, { profilePolicyRules: ['ppr2'], profileOwner: '001-01' });
      assertFailed((await authenticate(h, euicc, matchingId, [PprId.ppr2])).auth, '8.2.5', '4.3');
      assert.equal((await h.store.orders.get(matchingId))?.downloadAttempts, 0, 'a refused attempt is not counted');
      const a = await authenticate(h, euicc, matchingId, [PprId.ppr1]);
      assertSuccess(a.auth);
      const metadata = decode(StoreMetadataRequest, fromB64((a.auth.body as unknown as AuthenticateClientOk).profileMetadata));
      assert.ok(metadata.profilePolicyRules !== undefined && hasNamedBit(metadata.profilePolicyRules, PprId.ppr2));
      assert.ok(!hasNamedBit(metadata.profilePolicyRules, PprId.ppr1));
      assert.ok(metadata.profileOwner?.mccMnc.equals(Buffer.from('00f110', 'hex')));
    });
  });

  describe('large metadata (SGP.22 2.5.5, 5.5.3)', () => {
    it('a 1024-byte icon: StoreMetadata split over several 88 segments, each within 1020 bytes, and intact', async () => {
      const euicc = new EuiccSimulator(h.p256);
      const matchingId = await order(h, { icon: PNG_ICON });
      const a = await authenticate(h, euicc, matchingId);
      const r = await getBpp(h, euicc, a);
      assertSuccess(r);
      const bpp = decode(BoundProfilePackage, fromB64(r.body.boundProfilePackage));
      assert.ok(bpp.sequenceOf88.length >= 2, `${bpp.sequenceOf88.length} segment(s)`);
      assert.ok(bpp.sequenceOf88.every((s) => s.length <= 1020));
      const unwrapped = euicc.loadBoundProfilePackage(fromB64(r.body.boundProfilePackage));
      assert.ok(unwrapped.metadata.icon?.equals(PNG_ICON));
      assert.equal(unwrapped.metadata.iconType, IconType.png);
    });

    it('import refuses a bad icon, owner or policy rules with nothing stored', async () => {
      const refuse = async (options: Partial<ImportOptions>, pattern: RegExp): Promise<void> => {
        const matchingId = `BAD-${++counter}`;
        await assert.rejects(importProfile(h.store, PROFILE, { matchingId, allowShortMatchingId: true, ...options }, h.now), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message));
        assert.equal(await h.store.orders.get(matchingId), undefined);
      };
      await refuse({ icon: Buffer.concat([PNG_ICON, Buffer.alloc(1)]) }, /at most 1024/);
      await refuse({ icon: Buffer.from('GIF89a') }, /neither PNG nor JPEG/);
      await refuse({ profileOwner: '1-1' }, /MCC-MNC/);
      await refuse({ profilePolicyRules: ['ppr1'] }, /profile owner/);
      await refuse({ profilePolicyRules: ['ppr9' as 'ppr1'], profileOwner: '001-01' }, /not a profile policy rule/);
      await refuse({ maxDownloadAttempts: 0 }, /positive integer/);
    });
  });
});
