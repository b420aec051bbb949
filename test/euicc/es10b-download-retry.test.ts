// SGP.22 v2.5 5.7.5 PrepareDownload with bppEuiccOtpk: the eUICC keeps its one-time key pair across sessions for a retry, until a profile installs or a new pair replaces it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode } from '../../src/asn1/schema.js';
import { PrepareDownloadResponse, ProfileInstallationResult, type PrepareDownloadResponseOk } from '../../src/asn1/definitions/rsp.js';
import { generateKeyPair, pointFromPublicKey } from '../../src/crypto/ecdsa.js';
import { assertSuccess, challenge, ts48, type Rig, rigsCleanedAfter } from './harness.js';
import { assembleBpp, metadataFor } from './smdpSimulator.js';

const newRig = rigsCleanedAfter();
const NAME = 'TS48V1-A-UNIQUE';
const UPP = ts48(NAME);
const METADATA = metadataFor(UPP, NAME);

/** A new session (challenge, AuthenticateServer) then PrepareDownload, optionally naming a kept key; the raw response and its otPK. */
function prepareSession(r: Rig, bppEuiccOtpk?: Buffer): { response: Buffer; otPk: Buffer } {
  const asResponse = r.client.command(r.smdp.authenticateServerRequest(challenge(r.client)));
  const response = r.client.command(r.smdp.prepareDownloadRequest(asResponse, { bppEuiccOtpk }));
  const decoded = decode(PrepareDownloadResponse, response);
  assert.equal(decoded.type, 'downloadResponseOk');
  return { response, otPk: (decoded.value as PrepareDownloadResponseOk).euiccSigned2.value.euiccOtpk };
}

describe('ES10b.PrepareDownload retry with bppEuiccOtpk', () => {
  it('reuses the key pair of an earlier session that did not install, and a BPP bound to it installs', () => {
    const r = newRig();
    const first = prepareSession(r).otPk;
    // The session ends without a load (e.g. cancelled); the next one names the key the SM-DP+ bound the BPP to.
    const again = prepareSession(r, first);
    assert.ok(again.otPk.equals(first), 'the same otPK.EUICC.ECKA');
    const pir = decode(ProfileInstallationResult, r.client.loadBoundProfilePackage(assembleBpp(r.smdp.bindProfile(again.response, UPP, METADATA))));
    assertSuccess(pir);
    // Installed: the key pair is gone, a retry naming it gets a new one; so does an eUICC reopened (the pair lives in memory).
    assert.ok(!prepareSession(r, first).otPk.equals(first));
    const kept = prepareSession(r).otPk;
    r.reopen();
    assert.ok(!prepareSession(r, kept).otPk.equals(kept));
  });

  it('generates a new pair when bppEuiccOtpk names another key, or is absent; the replaced pair is not reused later', () => {
    const r = newRig();
    const first = prepareSession(r).otPk;
    const stranger = pointFromPublicKey(generateKeyPair(r.pki.curve).publicKey);
    const second = prepareSession(r, stranger).otPk;
    assert.ok(!second.equals(first) && !second.equals(stranger));
    assert.ok(!prepareSession(r, first).otPk.equals(first), 'the first pair was replaced');
    const fourth = prepareSession(r).otPk;
    assert.ok(!prepareSession(r).otPk.equals(fourth), 'without bppEuiccOtpk every session gets a new pair');
  });
});
