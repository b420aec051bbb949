// SGP.22 v2.5 5.7.12 ES10b.LoadCRL over APDUs (sent by the IPA's loadCrl): CRLs of the eUICC's CIs verified, bounded and sealed;
// then AuthenticateServer (5.7.13) and PrepareDownload (5.7.5) refuse a revoked CERT.DPauth / CERT.DPpb with invalidCertificate.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode } from '../../src/asn1/schema.js';
import {
  AuthenticateErrorCode,
  AuthenticateServerResponse,
  DownloadErrorCode,
  EUICCInfo2,
  GetEuiccInfo2Request,
  LoadCRLRequest,
  LoadCRLResponse,
  LoadCRLResponseError,
  PrepareDownloadResponse,
  RspCapability,
  hasNamedBit,
} from '../../src/asn1/definitions/rsp.js';
import { certificateList } from '../../src/asn1/definitions/x509.js';
import { issueCrl } from '../../src/pki/crl.js';
import { issueTestPki, type IssuedCertificate } from '../../src/pki/testPki.js';
import { Es10Client as IpaEs10Client } from '../../src/ipa/es10Client.js';
import { Es10ResultError } from '../../src/ipa/errors.js';
import { loadCrl as ipaLoadCrl } from '../../src/ipa/es10b/loadCrl.js';
import { EUICC_CRL_LIMITS } from '../../src/euicc/es10b/loadCrl.js';
import { challenge, type Rig, rigsCleanedAfter } from './harness.js';

const newRig = rigsCleanedAfter();
const DAY = 86_400_000;

function crl(issuer: IssuedCertificate, revoked: IssuedCertificate[], o: { number?: bigint; serials?: bigint[] } = {}): Buffer {
  const thisUpdate = new Date(Math.floor(Date.now() / 1000) * 1000 - DAY);
  return issueCrl(
    {
      issuer: issuer.certificate,
      thisUpdate,
      nextUpdate: new Date(thisUpdate.getTime() + 30 * DAY),
      crlNumber: o.number ?? 1n,
      revoked: [...revoked.map((c) => c.certificate.serialNumber), ...(o.serials ?? [])].map((serialNumber) => ({ serialNumber, revocationDate: thisUpdate })),
    },
    issuer.privateKey,
  );
}

/** The eUICC's LoadCRL answer to `der`, sent as the spec's BF35 by the test's own encoder: undefined for ok, else the error. */
function load(r: Rig, der: Buffer): number | undefined {
  const response = decode(LoadCRLResponse, r.client.command(encode(LoadCRLRequest, { crl: decode(certificateList, der) })));
  return response.type === 'loadCRLResponseOk' ? undefined : response.value;
}

function authenticateServerError(r: Rig): number | undefined {
  const response = decode(AuthenticateServerResponse, r.client.command(r.smdp.authenticateServerRequest(challenge(r.client))));
  return response.type === 'authenticateResponseOk' ? undefined : (response.value as { authenticateErrorCode: number }).authenticateErrorCode;
}

function prepareDownloadError(r: Rig): number | undefined {
  const asResponse = r.client.command(r.smdp.authenticateServerRequest(challenge(r.client)));
  const response = decode(PrepareDownloadResponse, r.client.command(r.smdp.prepareDownloadRequest(asResponse)));
  return response.type === 'downloadResponseOk' ? undefined : (response.value as { downloadErrorCode: number }).downloadErrorCode;
}

describe('ES10b.LoadCRL', () => {
  it('advertises crlSupport in EUICCInfo2', () => {
    const r = newRig();
    const info2 = decode(EUICCInfo2, r.client.command(encode(GetEuiccInfo2Request, {})));
    assert.ok(hasNamedBit(info2.rspCapability, RspCapability.crlSupport));
  });

  it('after the CI revokes CERT.DPauth, AuthenticateServer answers invalidCertificate; the CRL survives a power cycle', async () => {
    const r = newRig();
    assert.equal(authenticateServerError(r), undefined, 'accepted before the CRL');
    // Through the IPA's ES10b function, over APDUs.
    const ipa = await IpaEs10Client.open({ transmit: (apdu) => r.card.transmit(apdu) });
    await ipaLoadCrl(ipa, crl(r.pki.ci, [r.pki.dpAuth]));
    await ipa.close();
    assert.equal(authenticateServerError(r), AuthenticateErrorCode.invalidCertificate);
    r.reopen();
    assert.equal(authenticateServerError(r), AuthenticateErrorCode.invalidCertificate, 'the CRL is in the sealed state');
  });

  it('after the CI revokes CERT.DPpb, PrepareDownload answers invalidCertificate; DPauth still authenticates', () => {
    const r = newRig();
    assert.equal(load(r, crl(r.pki.ci, [r.pki.dpPb])), undefined);
    assert.equal(authenticateServerError(r), undefined);
    assert.equal(prepareDownloadError(r), DownloadErrorCode.invalidCertificate);
  });

  it('a forged CRL (signature does not verify): invalidSignature, it revokes nothing', async () => {
    const r = newRig();
    const forged = crl(r.pki.ci, [r.pki.dpAuth]);
    forged[forged.length - 1]! ^= 0x01;
    assert.equal(load(r, forged), LoadCRLResponseError.invalidSignature);
    assert.equal(authenticateServerError(r), undefined, 'the forged CRL revoked nothing');
    const ipa = await IpaEs10Client.open({ transmit: (apdu) => r.card.transmit(apdu) });
    await assert.rejects(ipaLoadCrl(ipa, forged), (e) => e instanceof Es10ResultError && e.result === LoadCRLResponseError.invalidSignature && /invalidSignature/.test(e.message));
  });

  it("a CRL signed by another CI, or by the EUM: verificationKeyNotFound", () => {
    const r = newRig();
    const stranger = issueTestPki();
    assert.equal(load(r, crl(stranger.ci, [r.pki.dpAuth])), LoadCRLResponseError.verificationKeyNotFound);
    assert.equal(load(r, crl(r.pki.eum, [])), LoadCRLResponseError.verificationKeyNotFound);
    assert.equal(authenticateServerError(r), undefined);
  });

  it('an older CRL after a newer one: fresherCrlAlreadyLoaded; a newer one replaces it (un-revoking)', () => {
    const r = newRig();
    assert.equal(load(r, crl(r.pki.ci, [r.pki.dpAuth], { number: 5n })), undefined);
    assert.equal(load(r, crl(r.pki.ci, [], { number: 4n })), LoadCRLResponseError.fresherCrlAlreadyLoaded);
    assert.equal(authenticateServerError(r), AuthenticateErrorCode.invalidCertificate);
    assert.equal(load(r, crl(r.pki.ci, [], { number: 6n })), undefined);
    assert.equal(authenticateServerError(r), undefined);
  });

  it('a CRL over the eUICC bounds: notEnoughMemorySpace; a malformed one: invalidCRLFormat', () => {
    const r = newRig();
    const serials = Array.from({ length: EUICC_CRL_LIMITS.maxEntries + 1 }, (_, i) => BigInt(i + 1000));
    assert.equal(load(r, crl(r.pki.ci, [], { serials })), LoadCRLResponseError.notEnoughMemorySpace);
    // A BF35 whose [0] is not a CertificateList.
    const bad = decode(LoadCRLResponse, r.client.command(Buffer.from('bf3505a003020101', 'hex')));
    assert.deepEqual(bad, { type: 'loadCRLResponseError', value: LoadCRLResponseError.invalidCRLFormat });
    assert.equal(authenticateServerError(r), undefined);
  });
});
