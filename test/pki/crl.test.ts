// RFC 5280 5.1 CertificateList codec (strict DER, round trip) and 6.3 CRL processing as src/pki/crl.ts does it: issuer checks, scope, limits, unsupported kinds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Asn1Error } from '../../src/asn1/errors.js';
import { encodeBigInteger } from '../../src/asn1/primitives.js';
import { capture, decode, encode } from '../../src/asn1/schema.js';
import { CRL_OID, X509_OID, certificateList, issuingDistributionPoint, tbsCertList, type TbsCertList } from '../../src/asn1/definitions/x509.js';
import { extensions } from '../../src/pki/issue.js';
import { signDer } from '../../src/crypto/ecdsa.js';
import {
  compareCrls,
  crlCovers,
  crlFreshness,
  crlToPem,
  crlsFromFile,
  isRevoked,
  issueCrl,
  parseCrl,
  verifyCrlIssuer,
} from '../../src/pki/crl.js';
import { PkiError } from '../../src/pki/errors.js';
import { issueTestCertificate, issueTestPki } from '../../src/pki/testPki.js';

const pki = issueTestPki();
const DAY = 86_400_000;
const T0 = new Date(Math.floor(Date.now() / 1000) * 1000);

function ciCrl(revoked: (bigint | Buffer)[] = [], o: { number?: bigint; thisUpdate?: Date; nextUpdate?: Date } = {}): Buffer {
  return issueCrl(
    {
      issuer: pki.ci.certificate,
      thisUpdate: o.thisUpdate ?? T0,
      nextUpdate: o.nextUpdate ?? new Date(T0.getTime() + 30 * DAY),
      crlNumber: o.number ?? 1n,
      revoked: revoked.map((serialNumber) => ({ serialNumber, revocationDate: T0, reason: 'keyCompromise' as const })),
    },
    pki.ci.privateKey,
  );
}

/** Re-signs a CRL after `change` edits its TBSCertList: for crafting CRLs an issuer should not issue. */
function resigned(der: Buffer, change: (tbs: TbsCertList) => TbsCertList): Buffer {
  const c = decode(certificateList, der);
  const tbs = capture(tbsCertList, change({ ...c.tbsCertList.value }));
  return encode(certificateList, { ...c, tbsCertList: tbs, signatureValue: { bytes: signDer(pki.ci.privateKey, tbs.der), unusedBits: 0 } });
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof PkiError || e instanceof Asn1Error) return e.code;
    throw e;
  }
  return 'no error';
}

describe('CertificateList codec (RFC 5280 5.1)', () => {
  it('decodes an issued CRL and re-encodes it byte for byte', () => {
    const der = ciCrl([pki.eum.certificate.serialNumber, 5n]);
    const c = decode(certificateList, der);
    assert.equal(c.tbsCertList.value.version, 1);
    assert.equal(c.tbsCertList.value.revokedCertificates?.length, 2);
    assert.ok(encode(certificateList, c).equals(der));
  });

  it('round-trips any set of serial numbers (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.bigInt({ min: 1n, max: (1n << 159n) - 1n }), { maxLength: 20 }), (serials) => {
        const der = ciCrl(serials);
        assert.ok(encode(certificateList, decode(certificateList, der)).equals(der));
        const crl = parseCrl(der);
        assert.equal(crl.revoked.size, serials.length);
        for (const s of serials) assert.ok(crl.revoked.has(encodeBigInteger(s).toString('hex')));
      }),
      { numRuns: 25 },
    );
  });

  it('is strict DER: a long-form length, a v1 version field, trailing bytes are refused', () => {
    const der = ciCrl();
    // The outer SEQUENCE with a non-minimal length form.
    const body = der.subarray(der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2);
    const longForm = Buffer.concat([Buffer.from([0x30, 0x83, 0, body.length >> 8, body.length & 0xff]), body]);
    assert.equal(code(() => decode(certificateList, longForm)), 'NON_MINIMAL_LENGTH');
    assert.equal(code(() => decode(certificateList, Buffer.concat([der, Buffer.from([0])]))), 'TRAILING_DATA');
    // version v1 (0) written out: DER omits it, RFC 5280 allows only v2 (1) when present.
    const at = der.indexOf(Buffer.from('020101', 'hex'));
    const v1 = Buffer.from(der);
    v1[at + 2] = 0;
    assert.equal(code(() => decode(certificateList, v1)), 'INVALID_VALUE');
  });

  it('PEM and DER files', () => {
    const der = ciCrl([7n]);
    assert.deepEqual(crlsFromFile(Buffer.from(crlToPem(der) + crlToPem(der))), [der, der]);
    assert.deepEqual(crlsFromFile(der), [der]);
    assert.equal(code(() => crlsFromFile(Buffer.from('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'))), 'CRL_MALFORMED');
  });
});

describe('CRL processing (RFC 5280 6.3)', () => {
  it('verifies under its issuer and finds a revoked serial by a Set lookup', () => {
    const crl = parseCrl(ciCrl([pki.eum.certificate.serialNumber], { number: 7n }));
    verifyCrlIssuer(crl, pki.ci.certificate);
    assert.equal(crl.crlNumber, 7n);
    assert.ok(isRevoked(crl, pki.eum.certificate));
    assert.ok(!isRevoked(crl, pki.dpAuth.certificate));
    assert.ok(crlCovers(crl, pki.eum.certificate));
  });

  it('a CRL whose signature does not verify: CRL_BAD_SIGNATURE', () => {
    const der = ciCrl([1n]);
    der[der.length - 1]! ^= 1;
    assert.equal(code(() => verifyCrlIssuer(parseCrl(der), pki.ci.certificate)), 'CRL_BAD_SIGNATURE');
  });

  it('another CA of the same name, another AKI, or an issuer without cRLSign: CRL_ISSUER_MISMATCH', () => {
    const other = issueTestPki();
    const crl = parseCrl(ciCrl());
    // Same subject name, another key: the AKI does not match.
    assert.equal(code(() => verifyCrlIssuer(crl, other.ci.certificate)), 'CRL_ISSUER_MISMATCH');
    assert.equal(code(() => verifyCrlIssuer(crl, pki.eum.certificate)), 'CRL_ISSUER_MISMATCH');
    // The eUICC signs its CRL with its own key: not a CA.
    const byEuicc = issueCrl({ issuer: pki.euicc.certificate, thisUpdate: T0, nextUpdate: new Date(T0.getTime() + DAY), revoked: [] }, pki.euicc.privateKey);
    assert.equal(code(() => verifyCrlIssuer(parseCrl(byEuicc), pki.euicc.certificate)), 'CRL_ISSUER_MISMATCH');
  });

  it('an EUM (keyCertSign without cRLSign in the SGP.22 profile) signs its eUICCs\' CRL', () => {
    const der = issueCrl({ issuer: pki.eum.certificate, thisUpdate: T0, nextUpdate: new Date(T0.getTime() + DAY), revoked: [{ serialNumber: pki.euicc.certificate.serialNumber, revocationDate: T0 }] }, pki.eum.privateKey);
    const crl = parseCrl(der);
    verifyCrlIssuer(crl, pki.eum.certificate);
    assert.ok(isRevoked(crl, pki.euicc.certificate));
  });

  it('freshness: current, stale after nextUpdate, CRL_NOT_YET_VALID before thisUpdate', () => {
    const crl = parseCrl(ciCrl([], { thisUpdate: T0, nextUpdate: new Date(T0.getTime() + DAY) }));
    assert.equal(crlFreshness(crl, new Date(T0.getTime() + 1000)), 'current');
    assert.equal(crlFreshness(crl, new Date(T0.getTime() + 2 * DAY)), 'stale');
    assert.equal(code(() => crlFreshness(crl, new Date(T0.getTime() - 1000))), 'CRL_NOT_YET_VALID');
  });

  it('newer by cRLNumber', () => {
    assert.ok(compareCrls(parseCrl(ciCrl([], { number: 3n })), parseCrl(ciCrl([], { number: 2n }))) > 0);
    assert.equal(compareCrls(parseCrl(ciCrl([], { number: 3n })), parseCrl(ciCrl([], { number: 3n }))), 0);
  });

  it('limits: more entries or bytes than allowed: CRL_TOO_LARGE', () => {
    const der = ciCrl(Array.from({ length: 40 }, (_, i) => BigInt(i + 1)));
    assert.equal(code(() => parseCrl(der, { maxBytes: 1 << 20, maxEntries: 39 })), 'CRL_TOO_LARGE');
    assert.equal(code(() => parseCrl(der, { maxBytes: der.length - 1, maxEntries: 1000 })), 'CRL_TOO_LARGE');
    assert.equal(parseCrl(der, { maxBytes: der.length, maxEntries: 40 }).revoked.size, 40);
  });

  it('entries with reasonCode and invalidityDate fit the element budget of maxEntries', () => {
    const n = 300;
    const der = resigned(ciCrl(Array.from({ length: n }, (_, i) => BigInt(i + 1))), (t) => ({
      ...t,
      revokedCertificates: t.revokedCertificates!.map((e) => ({
        ...e,
        crlEntryExtensions: [...e.crlEntryExtensions!, { extnID: CRL_OID.invalidityDate, extnValue: Buffer.from('180f32303236303130313030303030305a', 'hex') }],
      })),
    }));
    assert.equal(parseCrl(der, { maxBytes: 1 << 20, maxEntries: n }).revoked.size, n);
    assert.equal(code(() => parseCrl(der, { maxBytes: 1 << 20, maxEntries: n / 10 })), 'CRL_TOO_LARGE');
  });

  it('no nextUpdate: CRL_MALFORMED', () => {
    assert.equal(code(() => parseCrl(resigned(ciCrl(), (t) => ({ ...t, nextUpdate: undefined })))), 'CRL_MALFORMED');
  });

  it('delta, partial (SGP.22 segmented), indirect CRLs and unknown critical extensions: CRL_UNSUPPORTED', () => {
    const add = (extnID: string, extnValue: Buffer, critical = true) =>
      resigned(ciCrl(), (t) => ({ ...t, crlExtensions: [...(t.crlExtensions ?? []), { extnID, extnValue, ...(critical ? { critical: true } : {}) }] }));
    assert.equal(code(() => parseCrl(add(CRL_OID.deltaCRLIndicator, Buffer.from('020101', 'hex')))), 'CRL_UNSUPPORTED');
    assert.equal(code(() => parseCrl(add(CRL_OID.rspTotalPartialCrlNumber, Buffer.from('020102', 'hex'), false))), 'CRL_UNSUPPORTED');
    assert.equal(code(() => parseCrl(add('1.2.3.4', Buffer.from('0500', 'hex')))), 'CRL_UNSUPPORTED');
    assert.equal(code(() => parseCrl(add(CRL_OID.issuingDistributionPoint, encode(issuingDistributionPoint, { indirectCRL: true })))), 'CRL_UNSUPPORTED');
    // An unknown non-critical extension is read past.
    assert.equal(parseCrl(add('1.2.3.4', Buffer.from('0500', 'hex'), false)).revoked.size, 0);
  });

  it('issuingDistributionPoint scope: a CA-only CRL does not cover an end entity, a DP-scoped one only certificates pointing there', () => {
    const caOnly = parseCrl(resigned(ciCrl(), (t) => ({ ...t, crlExtensions: [...t.crlExtensions!, { extnID: CRL_OID.issuingDistributionPoint, critical: true, extnValue: encode(issuingDistributionPoint, { onlyContainsCACerts: true }) }] })));
    assert.ok(crlCovers(caOnly, pki.eum.certificate));
    assert.ok(!crlCovers(caOnly, pki.dpAuth.certificate));
    const url = 'http://ci.example/other.crl';
    const scoped = parseCrl(
      resigned(ciCrl(), (t) => ({
        ...t,
        crlExtensions: [...t.crlExtensions!, { extnID: CRL_OID.issuingDistributionPoint, critical: true, extnValue: encode(issuingDistributionPoint, { distributionPoint: { type: 'fullName', value: [{ type: 'uniformResourceIdentifier', value: url }] } }) }],
      })),
    );
    assert.ok(!crlCovers(scoped, pki.eum.certificate), 'the EUM points at the test CI CRL URL');
    const pointing = issueTestCertificate('dp-auth', pki.ci, {
      adjust: (tpl) => ({ ...tpl, extensions: tpl.extensions.map((e) => (e.oid === X509_OID.crlDistributionPoints ? extensions.crlDistributionPoints([url]) : e)) }),
    });
    assert.ok(crlCovers(scoped, pointing.certificate));
  });
});
