// SGP.22 4.5.2.2 chain validation: the SGP.26 set validates on both curves; each defect fails with its own reason.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509_OID } from '../../src/asn1/definitions/x509.js';
import { RSP_ROLE_OIDS, parseCertificate } from '../../src/pki/certificate.js';
import { PkiError, type PkiErrorCode } from '../../src/pki/errors.js';
import { buildName, extensions, type CertificateTemplate, type ExtensionSpec } from '../../src/pki/issue.js';
import { makeEid } from '../../src/pki/eid.js';
import { issueTestCertificate, issueTestPki, type IssuedCertificate } from '../../src/pki/testPki.js';
import { validateChain, type ChainValidationOptions, type ChainValidationResult } from '../../src/pki/validateChain.js';
import { SGP26_EID, commonValidityMidpoint, sgp26 } from './sgp26.js';

function failsWith(code: PkiErrorCode, fn: () => ChainValidationResult): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PkiError, `expected a PkiError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** Copy of `der` with one byte XORed. */
function flipByte(der: Buffer, index: number): Buffer {
  const out = Buffer.from(der);
  out[index]! ^= 0x01;
  return out;
}

for (const curve of ['NIST', 'BRP'] as const) {
  describe(`SGP.26 ${curve} chains`, () => {
    const set = sgp26(curve);
    const all = Object.values(set).map((der) => parseCertificate(der));
    // Inside the validity of every certificate of the set (the TLS certificate's is the shortest).
    const at = commonValidityMidpoint(all);
    const base = { trustedCis: [set.ci], at };
    const tls = parseCertificate(set.dpTls);

    test('CI -> EUM -> eUICC validates and yields the EID', () => {
      const r = validateChain(set.euicc, [set.eum], { ...base, role: 'euicc' });
      assert.equal(r.eid, SGP26_EID);
      assert.deepEqual(r.ciKeyId, parseCertificate(set.ci).subjectKeyIdentifier);
      assert.deepEqual(
        r.path.map((c) => c.roles),
        [['euicc'], ['eum'], ['ci']],
      );
      assert.equal(r.leaf.subject.text, 'C=ES, O=RSP Test EUM, serialNumber=89049032123451234512345678901235, CN=Test eUICC');
      assert.equal(r.at, at);
    });

    test('DPauth, DPpb and DPtls (of both SM-DP+) validate for their roles', () => {
      for (const [role, der] of [
        ['dp-auth', set.dpAuth],
        ['dp-pb', set.dpPb],
        ['dp-tls', set.dpTls],
        ['dp-auth', set.dp2Auth],
        ['dp-pb', set.dp2Pb],
      ] as const) {
        const r = validateChain(der, [], { ...base, role });
        assert.equal(r.path.length, 2);
        assert.equal(r.eid, undefined);
      }
    });

    test('the chain may be given in any order and may repeat the CI', () => {
      const r = validateChain(set.euicc, [set.dpAuth, set.ci, set.eum], { ...base, role: 'euicc' });
      assert.equal(r.path.length, 3);
    });

    test('EXPIRED one second after the TLS certificate ends', () => {
      failsWith('EXPIRED', () => validateChain(set.dpTls, [], { ...base, role: 'dp-tls', at: new Date(tls.notAfter.getTime() + 1000) }));
    });

    test('NOT_YET_VALID one second before the TLS certificate starts', () => {
      const before = new Date(tls.notBefore.getTime() - 1000);
      failsWith('NOT_YET_VALID', () => validateChain(set.dpTls, [], { ...base, role: 'dp-tls', at: before }));
    });

    test('UNKNOWN_CI when the CI key identifier is not in the trusted list', () => {
      const other = sgp26(curve === 'NIST' ? 'BRP' : 'NIST');
      const otherId = parseCertificate(other.ci).subjectKeyIdentifier!;
      failsWith('UNKNOWN_CI', () => validateChain(set.dpAuth, [], { ...base, role: 'dp-auth', trustedCiKeyIds: [otherId] }));
      // The other curve's CI has the same name but another key: it did not issue these certificates.
      failsWith('UNKNOWN_CI', () => validateChain(set.euicc, [set.eum], { ...base, role: 'euicc', trustedCis: [other.ci] }));
    });

    test('BAD_SIGNATURE for a flipped byte in the signature or in the signed TBS', () => {
      // The last byte of a certificate is the last byte of s in the DER ECDSA-Sig-Value.
      failsWith('BAD_SIGNATURE', () => validateChain(flipByte(set.dpAuth, set.dpAuth.length - 1), [], { ...base, role: 'dp-auth' }));
      const cn = set.dpAuth.indexOf(Buffer.from('TEST SM-DP+'));
      assert.ok(cn > 0);
      failsWith('BAD_SIGNATURE', () => validateChain(flipByte(set.dpAuth, cn), [], { ...base, role: 'dp-auth' }));
      // A tampered EUM breaks the eUICC chain at the EUM.
      const eumCrl = set.eum.indexOf(Buffer.from('CRL-B'));
      assert.ok(eumCrl > 0);
      failsWith('BAD_SIGNATURE', () => validateChain(set.euicc, [flipByte(set.eum, eumCrl)], { ...base, role: 'euicc' }));
    });

    test('parsed certificates validate again with the signatures checked once; a bad signature fails every time', () => {
      const leaf = parseCertificate(set.euicc);
      const eum = parseCertificate(set.eum);
      const ci = parseCertificate(set.ci);
      for (let i = 0; i < 2; i++) assert.equal(validateChain(leaf, [eum], { ...base, role: 'euicc', trustedCis: [ci] }).eid, leaf.eid);
      // Everything but the signatures is still checked on each validation of the same objects.
      failsWith('EXPIRED', () => validateChain(leaf, [eum], { ...base, role: 'euicc', trustedCis: [ci], at: new Date(leaf.notAfter.getTime() + 1000) }));
      const tampered = parseCertificate(flipByte(set.eum, set.eum.indexOf(Buffer.from('CRL-B'))));
      for (let i = 0; i < 2; i++) failsWith('BAD_SIGNATURE', () => validateChain(leaf, [tampered], { ...base, role: 'euicc', trustedCis: [ci] }));
    });

    test('WRONG_ROLE for a certificate used in another role', () => {
      failsWith('WRONG_ROLE', () => validateChain(set.dpPb, [], { ...base, role: 'dp-auth' }));
      failsWith('WRONG_ROLE', () => validateChain(set.dpAuth, [], { ...base, role: 'dp-pb' }));
      failsWith('WRONG_ROLE', () => validateChain(set.dpAuth, [], { ...base, role: 'dp-tls' }));
      failsWith('WRONG_ROLE', () => validateChain(set.dpAuth, [], { ...base, role: 'eim' }));
    });
  });
}

describe('defects crafted with the test PKI', () => {
  for (const curve of ['P-256', 'brainpoolP256r1'] as const) {
    describe(curve, () => {
      const notBefore = new Date('2030-01-01T00:00:00Z');
      const at = new Date('2030-06-01T00:00:00Z');
      const pki = issueTestPki({ curve, notBefore });
      const options = (role: ChainValidationOptions['role']): ChainValidationOptions => ({ role, trustedCis: [pki.ci.der], at });
      const issue = (...args: Parameters<typeof issueTestCertificate>): IssuedCertificate =>
        issueTestCertificate(args[0], args[1], { notBefore, ...args[2] });

      test('the untouched PKI validates', () => {
        assert.equal(validateChain(pki.euicc.der, [pki.eum.der], options('euicc')).eid, pki.eid);
        validateChain(pki.dpAuth.der, [], options('dp-auth'));
        validateChain(pki.eim.der, [], options('eim'));
      });

      test('EXPIRED and NOT_YET_VALID', () => {
        const expired = issue('dp-auth', pki.ci, { notBefore: new Date('2029-01-01T00:00:00Z'), notAfter: new Date('2030-05-31T23:59:59Z') });
        failsWith('EXPIRED', () => validateChain(expired.der, [], options('dp-auth')));
        const future = issue('dp-auth', pki.ci, { notBefore: new Date('2030-06-01T00:00:01Z') });
        failsWith('NOT_YET_VALID', () => validateChain(future.der, [], options('dp-auth')));
        // An expired EUM invalidates its eUICC.
        const oldEum = issue('eum', pki.ci, { notAfter: new Date('2030-02-01T00:00:00Z') });
        failsWith('EXPIRED', () => validateChain(issue('euicc', oldEum).der, [oldEum.der], options('euicc')));
      });

      test('UNKNOWN_CI for a chain ending at another CI, or at a self-signed certificate in the chain', () => {
        const otherCi = issue('ci', undefined, { curve });
        failsWith('UNKNOWN_CI', () => validateChain(issue('dp-auth', otherCi).der, [], options('dp-auth')));
        failsWith('UNKNOWN_CI', () => validateChain(issue('dp-auth', otherCi).der, [otherCi.der], options('dp-auth')));
      });

      test('EID_OUT_OF_RANGE for an eUICC outside its EUM name constraints (EID prefix 89049032, organization)', () => {
        const foreign = issue('euicc', pki.eum, { eid: makeEid('89049033') });
        failsWith('EID_OUT_OF_RANGE', () => validateChain(foreign.der, [pki.eum.der], options('euicc')));
        const otherOrg = issue('euicc', pki.eum, { organization: 'Another EUM' });
        failsWith('EID_OUT_OF_RANGE', () => validateChain(otherOrg.der, [pki.eum.der], options('euicc')));
      });

      test('INVALID_EID for wrong check digits or a missing EID', () => {
        const bad = issue('euicc', pki.eum, { eid: '89049032123451234512345678901234' });
        failsWith('INVALID_EID', () => validateChain(bad.der, [pki.eum.der], options('euicc')));
        const none = issue('euicc', pki.eum, { subject: [['C', 'ES'], ['O', 'mcim Test EUM'], ['CN', 'no EID']] });
        failsWith('INVALID_EID', () => validateChain(none.der, [pki.eum.der], options('euicc')));
      });

      test('WRONG_KEY_USAGE: a leaf without digitalSignature, a TLS certificate without serverAuth, an EUM without keyCertSign', () => {
        const replace = (oid: string, spec: ExtensionSpec) => ({
          adjust: (t: CertificateTemplate): CertificateTemplate => ({ ...t, extensions: t.extensions.map((e) => (e.oid === oid ? spec : e)) }),
        });
        const agreement = issue('dp-auth', pki.ci, replace(X509_OID.keyUsage, extensions.keyUsage(['keyAgreement'])));
        failsWith('WRONG_KEY_USAGE', () => validateChain(agreement.der, [], options('dp-auth')));
        const signer = issue('dp-pb', pki.ci, replace(X509_OID.keyUsage, extensions.keyUsage(['digitalSignature', 'keyCertSign'])));
        failsWith('WRONG_KEY_USAGE', () => validateChain(signer.der, [], options('dp-pb')));
        const clientOnly = issue('dp-tls', pki.ci, replace(X509_OID.extKeyUsage, extensions.extendedKeyUsage([X509_OID.kpClientAuth])));
        failsWith('WRONG_KEY_USAGE', () => validateChain(clientOnly.der, [], options('dp-tls')));
        const eum = issue('eum', pki.ci, replace(X509_OID.keyUsage, extensions.keyUsage(['digitalSignature'])));
        failsWith('WRONG_KEY_USAGE', () => validateChain(issue('euicc', eum).der, [eum.der], options('euicc')));
      });

      test('NOT_A_CA for an EUM without basicConstraints cA', () => {
        const eum = issue('eum', pki.ci, {
          adjust: (t) => ({ ...t, extensions: t.extensions.filter((e) => e.oid !== X509_OID.basicConstraints) }),
        });
        failsWith('NOT_A_CA', () => validateChain(issue('euicc', eum).der, [eum.der], options('euicc')));
      });

      test('CHAIN_TOO_LONG for an extra CA between EUM and eUICC (length, then pathLenConstraint 0)', () => {
        const subEum = issue('eum', pki.eum, { subject: [['C', 'ES'], ['O', 'mcim Test EUM'], ['CN', 'mcim Test EUM sub-CA']] });
        const euicc = issue('euicc', subEum);
        failsWith('CHAIN_TOO_LONG', () => validateChain(euicc.der, [subEum.der, pki.eum.der], options('euicc')));
        failsWith('CHAIN_TOO_LONG', () => validateChain(euicc.der, [subEum.der, pki.eum.der], { ...options('euicc'), maxChainLength: 4 }));
        failsWith('CHAIN_TOO_LONG', () => validateChain(pki.dpAuth.der, [], { ...options('dp-auth'), maxChainLength: 1 }));
      });

      test('ISSUER_MISMATCH when the issuer name and the authority key identifier disagree', () => {
        const misnamed = issue('euicc', pki.eum, {
          adjust: (t) => ({ ...t, issuer: buildName([['C', 'ES'], ['O', 'mcim Test EUM'], ['CN', 'Another EUM']]) }),
        });
        failsWith('ISSUER_MISMATCH', () => validateChain(misnamed.der, [pki.eum.der], options('euicc')));
      });

      test('WRONG_ROLE: an eUICC issued by the CI, a CA as leaf, an eIM with a GSMA role or without the required policy', () => {
        failsWith('WRONG_ROLE', () => validateChain(issue('euicc', pki.ci).der, [], options('euicc')));
        const eumAsLeaf = issue('eum', pki.ci, {
          adjust: (t) => ({
            ...t,
            extensions: t.extensions.map((e) => (e.oid === X509_OID.certificatePolicies ? extensions.certificatePolicies([RSP_ROLE_OIDS['dp-auth']]) : e)),
          }),
        });
        failsWith('WRONG_ROLE', () => validateChain(eumAsLeaf.der, [], options('dp-auth')));
        failsWith('WRONG_ROLE', () => validateChain(pki.dpAuth.der, [], options('eim')));
        failsWith('WRONG_ROLE', () => validateChain(pki.eim.der, [], { ...options('eim'), eimPolicyOids: ['1.3.6.1.4.1.99999.2'] }));
        const eimWithPolicy = issue('eim', pki.ci, {
          adjust: (t) => ({ ...t, extensions: [...t.extensions, extensions.certificatePolicies(['1.3.6.1.4.1.99999.2'])] }),
        });
        validateChain(eimWithPolicy.der, [], { ...options('eim'), eimPolicyOids: ['1.3.6.1.4.1.99999.2'] });
      });

      test('MALFORMED for a certificate without authority key identifier', () => {
        const noAki = issue('dp-auth', pki.ci, {
          adjust: (t) => ({ ...t, extensions: t.extensions.filter((e) => e.oid !== X509_OID.authorityKeyIdentifier) }),
        });
        failsWith('MALFORMED', () => validateChain(noAki.der, [], options('dp-auth')));
      });

      test('the error names the certificate at fault: the EUM, the eUICC, or none when no trusted CI is reached', () => {
        const faultOf = (fn: () => ChainValidationResult): string | undefined => {
          try {
            fn();
          } catch (e) {
            assert.ok(e instanceof PkiError);
            return e.certificate?.subject.text;
          }
          assert.fail('the chain validated');
        };
        const oldEum = issue('eum', pki.ci, { notAfter: new Date('2030-02-01T00:00:00Z') });
        const youngEuicc = issue('euicc', oldEum);
        assert.equal(faultOf(() => validateChain(youngEuicc.der, [oldEum.der], options('euicc'))), oldEum.certificate.subject.text);
        const badEum = flipByte(pki.eum.der, pki.eum.der.length - 1);
        assert.equal(faultOf(() => validateChain(pki.euicc.der, [badEum], options('euicc'))), pki.eum.certificate.subject.text);
        const badEuicc = flipByte(pki.euicc.der, pki.euicc.der.length - 1);
        assert.equal(faultOf(() => validateChain(badEuicc, [pki.eum.der], options('euicc'))), pki.euicc.certificate.subject.text);
        const outside = issue('euicc', pki.eum, { eid: makeEid('89049033') });
        assert.equal(faultOf(() => validateChain(outside.der, [pki.eum.der], options('euicc'))), outside.certificate.subject.text);
        const foreign = issueTestPki({ curve, notBefore });
        assert.equal(faultOf(() => validateChain(foreign.euicc.der, [foreign.eum.der], options('euicc'))), undefined);
      });
    });
  }
});
