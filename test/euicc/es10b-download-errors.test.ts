// SGP.22 v2.5 5.7.5 PrepareDownload and 5.7.6 LoadBoundProfilePackage error cases over APDUs: DownloadErrorCode and PIR errorResult per failure, nothing installed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { decode } from '../../src/asn1/schema.js';
import {
  BppCommandId,
  DownloadErrorCode,
  ErrorReason,
  InitialiseSecureChannelRequest,
  PrepareDownloadResponse,
  ProfileInstallationResult,
  type PrepareDownloadResponseOk,
} from '../../src/asn1/definitions/rsp.js';
import { makeEid } from '../../src/pki/eid.js';
import { issueTestCertificate } from '../../src/pki/testPki.js';
import { Es10Client, StatusWordError } from './es10Client.js';
import { assertPirError, assertSuccess, challenge, download, downloadTs48, prepare, profiles, ts48, type Rig, rigsCleanedAfter } from './harness.js';
import { assembleBpp, metadataFor, type BppParts, type SmdpSimulator } from './smdpSimulator.js';

const newRig = rigsCleanedAfter();

const NAME = 'TS48V1-A-UNIQUE';
const UPP = ts48(NAME);
const METADATA = metadataFor(UPP, NAME);

function prepareWith(r: Rig, options: Parameters<SmdpSimulator['prepareDownloadRequest']>[1]): PrepareDownloadResponse {
  const asResponse = r.client.command(r.smdp.authenticateServerRequest(challenge(r.client)));
  return decode(PrepareDownloadResponse, r.client.command(r.smdp.prepareDownloadRequest(asResponse, options)));
}

function downloadErrorCode(response: PrepareDownloadResponse): number {
  assert.equal(response.type, 'downloadResponseError');
  return (response.value as { downloadErrorCode: number }).downloadErrorCode;
}

/** Loads tampered parts; expects the PIR error, no profile, and a working eUICC afterwards. */
function expectPirError(r: Rig, parts: BppParts, bppCommandId: number, errorReason: number): void {
  const pir = decode(ProfileInstallationResult, r.client.loadBoundProfilePackage(assembleBpp(parts)));
  assertPirError(pir, bppCommandId, errorReason);
  assert.equal(profiles(r.client).length, 0, 'nothing installed');
  assertSuccess(download(r, UPP, METADATA));
}

function flip(segment: Buffer, index = segment.length - 12): Buffer {
  const out = Buffer.from(segment);
  out[index]! ^= 0x01;
  return out;
}

describe('ES10b.PrepareDownload errors', () => {
  it('tampered smdpSignature2: invalidSignature', () => {
    const r = newRig();
    assert.equal(downloadErrorCode(prepareWith(r, { signingKey: r.pki.dpAuth.privateKey })), DownloadErrorCode.invalidSignature);
  });

  it('transactionId of another session: invalidTransactionId', () => {
    const r = newRig();
    assert.equal(downloadErrorCode(prepareWith(r, { transactionId: Buffer.alloc(16, 7) })), DownloadErrorCode.invalidTransactionId);
  });

  it('DPauth certificate as DPpb: invalidCertificate', () => {
    const r = newRig();
    const response = prepareWith(r, { smdpCertificate: r.pki.dpAuth.der, signingKey: r.pki.dpAuth.privateKey });
    assert.equal(downloadErrorCode(response), DownloadErrorCode.invalidCertificate);
  });

  it('DPpb of another SM-DP+ (other OID) than the authenticated one: invalidCertificate', () => {
    const r = newRig();
    const otherDpPb = issueTestCertificate('dp-pb', r.pki.ci, { smdpOid: '2.999.77' });
    const response = prepareWith(r, { smdpCertificate: otherDpPb.der, signingKey: otherDpPb.privateKey });
    assert.equal(downloadErrorCode(response), DownloadErrorCode.invalidCertificate);
  });

  it('without an authenticated session: noSessionContext', () => {
    const r = newRig();
    const asResponse = r.client.command(r.smdp.authenticateServerRequest(challenge(r.client)));
    const request = r.smdp.prepareDownloadRequest(asResponse);
    challenge(r.client); // a new challenge ends the session
    assert.equal(downloadErrorCode(decode(PrepareDownloadResponse, r.client.command(request))), DownloadErrorCode.noSessionContext);
  });

  it('confirmation code: hashCc is required when ccRequiredFlag is set, and signed over in EUICCSigned2', () => {
    const r = newRig();
    assert.equal(downloadErrorCode(prepareWith(r, { ccRequired: true })), DownloadErrorCode.undefinedError);
    const hashCc = createHash('sha256').update('whatever').digest();
    const response = prepareWith(r, { ccRequired: true, hashCc });
    assert.equal(response.type, 'downloadResponseOk');
    assert.deepEqual((response.value as PrepareDownloadResponseOk).euiccSigned2.value.hashCc, hashCc);
  });
});

describe('ES10b.LoadBoundProfilePackage errors: PIR errorResult, nothing installed', () => {
  it('tampered profile segment (86): loadProfileElements, scp03tSecurityError', () => {
    const r = newRig();
    const parts = prepare(r, UPP, METADATA);
    expectPirError(r, { ...parts, a3: parts.a3.map((s, i) => (i === 2 ? flip(s) : s)) }, BppCommandId.loadProfileElements, ErrorReason.scp03tSecurityError);
  });

  it('tampered StoreMetadata segment (88): storeMetadata, scp03tSecurityError', () => {
    const r = newRig();
    const parts = prepare(r, UPP, METADATA);
    expectPirError(r, { ...parts, a1: parts.a1.map((s) => flip(s, 4)) }, BppCommandId.storeMetadata, ErrorReason.scp03tSecurityError);
  });

  it('profile segments reordered: scp03tSecurityError', () => {
    const r = newRig();
    const parts = prepare(r, UPP, METADATA);
    const a3 = [...parts.a3];
    [a3[1], a3[2]] = [a3[2]!, a3[1]!];
    expectPirError(r, { ...parts, a3 }, BppCommandId.loadProfileElements, ErrorReason.scp03tSecurityError);
  });

  it('truncated BPP (last profile segment missing): installFailedDueToPEProcessingError', () => {
    const r = newRig();
    const parts = prepare(r, UPP, METADATA);
    expectPirError(r, { ...parts, a3: parts.a3.slice(0, -1) }, BppCommandId.loadProfileElements, ErrorReason.installFailedDueToPEProcessingError);
  });

  it('tampered smdpSign of InitialiseSecureChannel: invalidSignature', () => {
    const r = newRig();
    const parts = prepare(r, UPP, METADATA);
    expectPirError(r, { ...parts, isc: flip(parts.isc, parts.isc.length - 1) }, BppCommandId.initialiseSecureChannel, ErrorReason.invalidSignature);
  });

  it('signed smdpOtpk that is not a point of the curve, or not uncompressed: incorrectInputValues', () => {
    for (const bad of [
      (p: Buffer): Buffer => Buffer.concat([p.subarray(0, 64), Buffer.from([p[64]! ^ 0x01])]),
      (p: Buffer): Buffer => Buffer.concat([Buffer.from([0x02 | (p[64]! & 1)]), p.subarray(1, 33)]),
    ]) {
      const r = newRig();
      const asResponse = r.client.command(r.smdp.authenticateServerRequest(challenge(r.client)));
      const pdResponse = r.client.command(r.smdp.prepareDownloadRequest(asResponse));
      const parts = r.smdp.bindProfile(pdResponse, UPP, METADATA, { smdpOtpk: bad });
      expectPirError(r, parts, BppCommandId.initialiseSecureChannel, ErrorReason.incorrectInputValues);
    }
  });

  it('InitialiseSecureChannel for another transaction: invalidTransactionId', () => {
    const r = newRig();
    const asResponse = r.client.command(r.smdp.authenticateServerRequest(challenge(r.client)));
    const pdResponse = r.client.command(r.smdp.prepareDownloadRequest(asResponse));
    const parts = r.smdp.bindProfile(pdResponse, UPP, METADATA, { transactionId: Buffer.alloc(16, 9) });
    expectPirError(r, parts, BppCommandId.initialiseSecureChannel, ErrorReason.invalidTransactionId);
  });

  it('ICCID already installed: installFailedDueToIccidAlreadyExistsOnEuicc; metadata ICCID not the profile\'s: installFailedDueToDataMismatch', () => {
    const r = newRig();
    assertSuccess(downloadTs48(r, NAME));
    assertPirError(downloadTs48(r, NAME), BppCommandId.storeMetadata, ErrorReason.installFailedDueToIccidAlreadyExistsOnEuicc);
    const other = ts48('TS48V1-B-UNIQUE');
    assertPirError(download(r, other, { ...METADATA, iccid: Buffer.from('98001032547698103254', 'hex') }), BppCommandId.loadProfileElements, ErrorReason.installFailedDueToDataMismatch);
    assert.equal(profiles(r.client).length, 1);
  });

  it('a BPP replayed into another eUICC is refused (smdpSign covers the first one-time key); keys derived for another EID fail the MAC', () => {
    const a = newRig();
    const eum = issueTestCertificate('eum', a.pki.ci);
    const eid = makeEid('89049032', '9876598765987654321098765432');
    const b = newRig({ pki: { ...a.pki, eid, eum, euicc: issueTestCertificate('euicc', eum, { eid }) } });
    const smdp = a.smdp;
    const partsA = prepare({ client: a.client, smdp }, UPP, METADATA);
    const transactionId = decode(InitialiseSecureChannelRequest, partsA.isc).transactionId;
    const sessionOnB = (): Buffer => {
      const asResponse = b.client.command(smdp.authenticateServerRequest(challenge(b.client), { transactionId }));
      return b.client.command(smdp.prepareDownloadRequest(asResponse));
    };
    sessionOnB();
    expectPirError(b, partsA, BppCommandId.initialiseSecureChannel, ErrorReason.invalidSignature);
    const partsForOtherEid = smdp.bindProfile(sessionOnB(), UPP, METADATA, { eid: Buffer.from(a.pki.eid, 'hex') });
    const pir = decode(ProfileInstallationResult, b.client.loadBoundProfilePackage(assembleBpp(partsForOtherEid)));
    assertPirError(pir, BppCommandId.configureISDP, ErrorReason.scp03tSecurityError);
    assert.equal(profiles(b.client).length, 1, 'only the download of expectPirError');
  });

  it('a second BPP load on another logical channel is refused (6985) and leaves the first one intact', () => {
    const r = newRig();
    const commands = Es10Client.bppCommands(assembleBpp(prepare(r, UPP, METADATA)));
    for (const c of commands.slice(0, 2)) assert.equal(r.client.command(c).length, 0);
    const opened = r.card.transmit(Buffer.from('0070000001', 'hex'));
    assert.equal(opened.subarray(1).toString('hex'), '9000');
    const other = new Es10Client(r.card, { channel: opened[0]! });
    other.selectIsdR();
    assert.equal(other.transmit(commands[0]!).sw, 0x6985);
    assert.equal(r.card.transmit(Buffer.from([0x00, 0x70, 0x80, opened[0]!])).toString('hex'), '9000');
    assertSuccess(decode(ProfileInstallationResult, r.client.loadBoundProfilePackage(Buffer.alloc(0), commands.slice(2))));
    assert.equal(profiles(r.client).length, 1);
  });

  it('LoadBoundProfilePackage without a prepared session: 6985', () => {
    const r = newRig();
    const parts = prepare(newRig(), UPP, METADATA);
    assert.throws(() => r.client.loadBoundProfilePackage(assembleBpp(parts)), (e: unknown) => e instanceof StatusWordError && e.sw === 0x6985);
    assertSuccess(download(r, UPP, METADATA));
  });
});
