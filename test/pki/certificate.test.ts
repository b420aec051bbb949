// SGP.22 4.5.2.1 certificate parsing: SGP.26 fields (roles, EID, keys, SKI/AKI, name constraints, SAN, EKU) and rejections.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { X509_OID } from '../../src/asn1/definitions/x509.js';
import {
  RSP_ROLE_OIDS,
  certificateToPem,
  certificatesFromFile,
  nameAttribute,
  parseCertificate,
} from '../../src/pki/certificate.js';
import { PkiError, type PkiErrorCode } from '../../src/pki/errors.js';
import { issueTestCertificate } from '../../src/pki/testPki.js';
import { hex } from '../helpers/fixtures.js';
import { SGP26_EID, sgp26, type Sgp26Curve } from './sgp26.js';

function rejectsWith(code: PkiErrorCode, fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof PkiError && e.code === code);
}

const CURVES: Record<Sgp26Curve, string> = { NIST: 'P-256', BRP: 'brainpoolP256r1' };

for (const curve of ['NIST', 'BRP'] as const) {
  describe(`SGP.26 ${curve} certificates`, () => {
    const set = sgp26(curve);
    const ci = parseCertificate(set.ci);
    const eum = parseCertificate(set.eum);
    const euicc = parseCertificate(set.euicc);

    test('the CI: self-issued CA with role ci, keyCertSign and cRLSign, no AKI', () => {
      assert.equal(ci.selfIssued, true);
      assert.deepEqual(ci.roles, ['ci']);
      assert.deepEqual(ci.policies, [RSP_ROLE_OIDS.ci]);
      assert.deepEqual(ci.basicConstraints, { ca: true, pathLength: undefined });
      assert.deepEqual(ci.keyUsage, ['keyCertSign', 'cRLSign']);
      assert.equal(ci.authorityKeyIdentifier, undefined);
      assert.equal(ci.subject.text, 'CN=Test CI, OU=TESTCERT, O=RSPTEST, C=IT');
      assert.deepEqual(ci.subjectAltName?.registeredIds, ['2.999.1']);
      assert.deepEqual(ci.crlDistributionPoints, ['http://ci.test.example.com/CRL-A.crl', 'http://ci.test.example.com/CRL-B.crl']);
      assert.equal(ci.eid, undefined);
    });

    test('the public key: curve, uncompressed point, KeyObject, SKI = SHA-1 of the point', () => {
      for (const cert of [ci, eum, euicc]) {
        assert.equal(cert.publicKey.curve, CURVES[curve]);
        assert.equal(cert.publicKey.point.length, 65);
        assert.equal(cert.publicKey.point[0], 0x04);
        assert.equal(cert.publicKey.key.type, 'public');
        assert.deepEqual(cert.subjectKeyIdentifier, createHash('sha1').update(cert.publicKey.point).digest());
        assert.ok(cert.der.subarray(cert.der.length - cert.signature.length).equals(cert.signature));
      }
    });

    test('the EUM: CA with pathLen 0, role eum, keyCertSign, name constraints on O and the EID prefix', () => {
      assert.deepEqual(eum.roles, ['eum']);
      assert.deepEqual(eum.basicConstraints, { ca: true, pathLength: 0 });
      assert.deepEqual(eum.keyUsage, ['keyCertSign']);
      assert.deepEqual(eum.authorityKeyIdentifier, ci.subjectKeyIdentifier);
      assert.ok(eum.issuer.der.equals(ci.subject.der));
      const permitted = eum.nameConstraints?.permitted ?? [];
      assert.equal(permitted.length, 1);
      assert.equal(eum.nameConstraints?.excluded.length, 0);
      const base = permitted[0]!;
      assert.equal(base.type, 'directoryName');
      assert.deepEqual(
        base.type === 'directoryName' && base.value.value.flat().map((a) => [a.type, a.value.value]),
        [
          [X509_OID.organizationName, 'RSP Test EUM'],
          [X509_OID.serialNumber, '89049032'],
        ],
      );
    });

    test('the eUICC: role euicc, digitalSignature, the EID in the subject serialNumber', () => {
      assert.deepEqual(euicc.roles, ['euicc']);
      assert.deepEqual(euicc.keyUsage, ['digitalSignature']);
      assert.equal(euicc.basicConstraints, undefined);
      assert.equal(euicc.eid, SGP26_EID);
      assert.equal(nameAttribute(euicc.subject, X509_OID.serialNumber), SGP26_EID);
      assert.equal(nameAttribute(euicc.subject, X509_OID.organizationName), 'RSP Test EUM');
      assert.deepEqual(euicc.authorityKeyIdentifier, eum.subjectKeyIdentifier);
      assert.equal(euicc.notAfter.toISOString(), '7496-01-24T09:48:58.000Z');
    });

    test('SM-DP+ certificates: roles, the SM-DP+ OID in SAN, TLS EKU and dNSName', () => {
      const auth = parseCertificate(set.dpAuth);
      const pb = parseCertificate(set.dpPb);
      const tls = parseCertificate(set.dpTls);
      assert.deepEqual(auth.roles, ['dp-auth']);
      assert.deepEqual(pb.roles, ['dp-pb']);
      assert.deepEqual(tls.roles, ['dp-tls']);
      assert.deepEqual(auth.subjectAltName?.registeredIds, ['2.999.10']);
      assert.deepEqual(parseCertificate(set.dp2Auth).subjectAltName?.registeredIds, ['2.999.12']);
      assert.deepEqual(tls.subjectAltName?.dnsNames, ['testsmdpplus1.example.com']);
      assert.deepEqual(tls.extendedKeyUsage, [X509_OID.kpServerAuth, X509_OID.kpClientAuth]);
      assert.equal(tls.notAfter.toISOString(), '2027-02-06T13:39:07.000Z');
      assert.deepEqual(auth.serialNumber, hex('0100'));
      assert.equal(auth.eid, undefined);
    });
  });
}

describe('rejections', () => {
  const ci = issueTestCertificate('ci', undefined);

  test('an unknown critical extension is rejected, an unknown non-critical one ignored', () => {
    const unknown = (critical: boolean) =>
      issueTestCertificate('dp-auth', ci, {
        adjust: (t) => ({ ...t, extensions: [...t.extensions, { oid: '1.3.6.1.4.1.99999.1', critical, value: hex('0500') }] }),
      }).der;
    rejectsWith('UNKNOWN_CRITICAL_EXTENSION', () => parseCertificate(unknown(true)));
    assert.deepEqual(parseCertificate(unknown(false)).roles, ['dp-auth']);
  });

  test('a duplicated extension is malformed', () => {
    rejectsWith('MALFORMED', () =>
      issueTestCertificate('dp-auth', ci, { adjust: (t) => ({ ...t, extensions: [...t.extensions, t.extensions[0]!] }) }),
    );
  });

  test('a malformed extension value is malformed', () => {
    rejectsWith('MALFORMED', () =>
      issueTestCertificate('dp-auth', ci, {
        adjust: (t) => ({ ...t, extensions: [...t.extensions, { oid: X509_OID.extKeyUsage, critical: false, value: hex('3000') }] }),
      }),
    );
  });

  test('signature algorithms other than ecdsa-with-SHA256 are unsupported', () => {
    const der = Buffer.from(sgp26('NIST').dpAuth);
    const sha256 = hex('06082a8648ce3d040302');
    // ecdsa-with-SHA384 has an OID of the same length: swap both occurrences (TBS and outer).
    for (let at = der.indexOf(sha256); at >= 0; at = der.indexOf(sha256, at + 1)) der[at + 9] = 0x03;
    rejectsWith('UNSUPPORTED_ALGORITHM', () => parseCertificate(der));
  });

  test('truncated or empty input is malformed', () => {
    const der = sgp26('BRP').euicc;
    rejectsWith('MALFORMED', () => parseCertificate(der.subarray(0, der.length - 1)));
    rejectsWith('MALFORMED', () => parseCertificate(Buffer.alloc(0)));
  });
});

describe('PEM', () => {
  test('certificateToPem and certificatesFromFile round-trip one or several certificates', () => {
    const { ci, eum } = sgp26('NIST');
    const pem = certificateToPem(ci) + certificateToPem(eum);
    assert.match(pem, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n/);
    assert.deepEqual(certificatesFromFile(Buffer.from(pem)), [ci, eum]);
    assert.deepEqual(certificatesFromFile(ci), [ci]);
    rejectsWith('MALFORMED', () => certificatesFromFile(Buffer.from('-----BEGIN PRIVATE KEY-----\n')));
  });
});
