// SGP.22 v2.5 5.7.13 ES10b.AuthenticateServer, 5.7.7/5.7.8 challenge and EUICCInfo, 5.7.14 CancelSession over APDUs: success and every AuthenticateErrorCode the eUICC decides.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode } from '../../src/asn1/schema.js';
import {
  AuthenticateErrorCode,
  AuthenticateServerResponse,
  CancelSessionRequest,
  CancelSessionResponse,
  CtxParams1,
  EUICCInfo1,
  EUICCInfo2,
  GetEuiccInfo1Request,
  GetEuiccInfo2Request,
  type AuthenticateResponseOk,
  type CancelSessionResponseOk,
} from '../../src/asn1/definitions/rsp.js';
import { verifyPlain } from '../../src/crypto/ecdsa.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { issueTestCertificate, issueTestPki } from '../../src/pki/testPki.js';
import { challenge, testPki, type Rig, rigsCleanedAfter } from './harness.js';
import { DEVICE_INFO_CTX, SmdpSimulator } from './smdpSimulator.js';

const newRig = rigsCleanedAfter();

function authenticate(r: Rig, request: Buffer): ReturnType<typeof decode<AuthenticateServerResponse>> {
  return decode(AuthenticateServerResponse, r.client.command(request));
}

function errorCode(response: AuthenticateServerResponse): number {
  assert.equal(response.type, 'authenticateResponseError');
  return (response.value as { authenticateErrorCode: number }).authenticateErrorCode;
}

describe('ES10b.AuthenticateServer', () => {
  for (const curve of ['P-256', 'brainpoolP256r1'] as const) {
    it(`signs euiccSigned1 with the SM-DP+'s transaction, address, challenge and the ctxParams1 as sent (${curve})`, () => {
      const r = newRig({ curve });
      const info1 = decode(EUICCInfo1, r.client.command(encode(GetEuiccInfo1Request, {})));
      assert.deepEqual(info1.euiccCiPKIdListForSigning, [r.pki.ci.certificate.subjectKeyIdentifier]);
      assert.deepEqual(info1.euiccCiPKIdListForVerification, [r.pki.ci.certificate.subjectKeyIdentifier]);
      const request = r.smdp.authenticateServerRequest(challenge(r.client));
      const response = authenticate(r, request);
      assert.equal(response.type, 'authenticateResponseOk');
      const ok = response.value as AuthenticateResponseOk;
      assert.ok(verifyPlain(parseCertificate(ok.euiccCertificate).publicKey.key, ok.euiccSigned1.der, ok.euiccSignature1));
      assert.equal(ok.euiccSigned1.value.serverAddress, r.pki.smdpAddress);
      assert.ok(ok.euiccSigned1.der.includes(encode(CtxParams1, DEVICE_INFO_CTX)));
      assert.deepEqual(ok.eumCertificate, r.pki.eum.der);
      const info2 = decode(EUICCInfo2, r.client.command(encode(GetEuiccInfo2Request, {})));
      assert.deepEqual(ok.euiccSigned1.value.euiccInfo2, info2);
    });
  }

  it('refuses an SM-DP+ certified by a CI it does not know: ciPKUnknown', () => {
    const r = newRig();
    const stranger = SmdpSimulator.fromTestPki(issueTestPki());
    assert.equal(errorCode(authenticate(r, stranger.authenticateServerRequest(challenge(r.client), { ciKeyId: r.smdp.ciKeyId }))), AuthenticateErrorCode.ciPKUnknown);
  });

  it('refuses an expired DPauth certificate (injected clock): invalidCertificate', () => {
    const r = newRig({ options: { clock: () => new Date(Date.UTC(2100, 0, 1)) } });
    assert.equal(errorCode(authenticate(r, r.smdp.authenticateServerRequest(challenge(r.client)))), AuthenticateErrorCode.invalidCertificate);
    const pki = testPki();
    const expired = issueTestCertificate('dp-auth', pki.ci, { notBefore: new Date(Date.UTC(2020, 0, 1)), notAfter: new Date(Date.UTC(2021, 0, 1)) });
    const r2 = newRig();
    const request = r2.smdp.authenticateServerRequest(challenge(r2.client), { serverCertificate: expired.der, signingKey: expired.privateKey });
    assert.equal(errorCode(authenticate(r2, request)), AuthenticateErrorCode.invalidCertificate);
  });

  it('refuses a DPpb certificate presented as DPauth: invalidOid', () => {
    const r = newRig();
    const request = r.smdp.authenticateServerRequest(challenge(r.client), { serverCertificate: r.pki.dpPb.der, signingKey: r.pki.dpPb.privateKey });
    assert.equal(errorCode(authenticate(r, request)), AuthenticateErrorCode.invalidOid);
  });

  it('refuses a serverSignature1 that does not verify: invalidSignature', () => {
    const r = newRig();
    const request = r.smdp.authenticateServerRequest(challenge(r.client), { signingKey: r.pki.dpPb.privateKey });
    assert.equal(errorCode(authenticate(r, request)), AuthenticateErrorCode.invalidSignature);
  });

  it('refuses another challenge: euiccChallengeMismatch; a used or missing challenge: noSessionContext', () => {
    const r = newRig();
    const stale = challenge(r.client);
    challenge(r.client);
    assert.equal(errorCode(authenticate(r, r.smdp.authenticateServerRequest(stale))), AuthenticateErrorCode.euiccChallengeMismatch);
    const request = r.smdp.authenticateServerRequest(challenge(r.client));
    assert.equal(authenticate(r, request).type, 'authenticateResponseOk');
    assert.equal(errorCode(authenticate(r, request)), AuthenticateErrorCode.noSessionContext, 'replayed request');
  });

  it('refuses a euiccCiPKIdToBeUsed it has no certificate for: ciPKUnknown', () => {
    const r = newRig();
    const request = r.smdp.authenticateServerRequest(challenge(r.client), { ciKeyId: Buffer.alloc(20, 0x11) });
    assert.equal(errorCode(authenticate(r, request)), AuthenticateErrorCode.ciPKUnknown);
  });
});

describe('ES10b.CancelSession', () => {
  it('answers a signed EuiccCancelSessionSigned for the current transaction, invalidTransactionId otherwise', () => {
    const r = newRig();
    const request = r.smdp.authenticateServerRequest(challenge(r.client));
    const ok = authenticate(r, request).value as AuthenticateResponseOk;
    const transactionId = ok.euiccSigned1.value.transactionId;
    const cancel = (tid: Buffer): CancelSessionResponse =>
      decode(CancelSessionResponse, r.client.command(encode(CancelSessionRequest, { transactionId: tid, reason: 0 })));
    assert.deepEqual(cancel(Buffer.alloc(16, 1)), { type: 'cancelSessionResponseError', value: 5 });
    const response = cancel(transactionId);
    assert.equal(response.type, 'cancelSessionResponseOk');
    const signed = (response.value as CancelSessionResponseOk).euiccCancelSessionSigned;
    assert.deepEqual(signed.value, { transactionId, smdpOid: r.pki.smdpOid, reason: 0 });
    assert.ok(verifyPlain(parseCertificate(r.pki.euicc.der).publicKey.key, signed.der, (response.value as CancelSessionResponseOk).euiccCancelSessionSignature));
    assert.deepEqual(cancel(transactionId), { type: 'cancelSessionResponseError', value: 5 }, 'the session has ended');
  });
});
