// The test PKI: SGP.26 certificate profiles on both curves, accepted by mcim's validator and by `openssl verify`.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509_OID } from '../../src/asn1/definitions/x509.js';
import { McimError } from '../../src/errors.js';
import { distinguishedName, parseCertificate, type GsmaCertificate } from '../../src/pki/certificate.js';
import { PkiError } from '../../src/pki/errors.js';
import { TEST_ENTITIES, issueTestPki, readTestPkiKey, writeTestPki, type TestPki, type WriteTestPkiOptions } from '../../src/pki/testPki.js';

const KEYS: WriteTestPkiOptions = { passphrase: 'a test passphrase of the test PKI', passphraseSource: 'pki-passphrase' };
import { validateChain } from '../../src/pki/validateChain.js';
import { SGP26_EID, sgp26 } from './sgp26.js';

const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;

function openssl(args: readonly string[]): { status: number | null; output: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The extensions in order with their criticality: the profile of a certificate. */
function profileOf(cert: GsmaCertificate): [string, boolean][] {
  return (cert.asn1.tbsCertificate.value.extensions ?? []).map((e) => [e.extnID, e.critical === true]);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mcim-pki-'));
}

for (const curve of ['P-256', 'brainpoolP256r1'] as const) {
  describe(`test PKI on ${curve}`, () => {
    const notBefore = new Date('2031-03-01T12:00:00Z');
    const pki = issueTestPki({ curve, notBefore });
    const at = new Date(notBefore.getTime() + 3600_000);
    const sgp = sgp26(curve === 'P-256' ? 'NIST' : 'BRP');

    test('every certificate validates for its role under the CI', () => {
      const base = { trustedCis: [pki.ci.der], at };
      const euicc = validateChain(pki.euicc.der, [pki.eum.der], { ...base, role: 'euicc' });
      assert.equal(euicc.eid, SGP26_EID);
      assert.equal(pki.eid, SGP26_EID);
      for (const [role, issued] of [
        ['dp-auth', pki.dpAuth],
        ['dp-pb', pki.dpPb],
        ['dp-tls', pki.dpTls],
        ['eim', pki.eim],
      ] as const) {
        assert.deepEqual(validateChain(issued.der, [], { ...base, role }).ciKeyId, pki.ci.certificate.subjectKeyIdentifier);
      }
    });

    test('keys: the PKI curve for signing certificates, P-256 for TLS; private keys match the certificates', () => {
      for (const issued of [pki.ci, pki.eum, pki.euicc, pki.dpAuth, pki.dpPb, pki.eim]) {
        assert.equal(issued.certificate.publicKey.curve, curve);
      }
      assert.equal(pki.dpTls.certificate.publicKey.curve, 'P-256');
      for (const issued of [pki.ci, pki.eum, pki.euicc, pki.dpAuth, pki.dpPb, pki.dpTls, pki.eim]) {
        const signature = sign('sha256', Buffer.from('x'), issued.privateKey);
        assert.equal(verify('sha256', Buffer.from('x'), issued.certificate.publicKey.key, signature), true);
      }
    });

    test('the extensions and their criticality follow the SGP.26 certificates', () => {
      const pairs: [GsmaCertificate, Buffer][] = [
        [pki.ci.certificate, sgp.ci],
        [pki.eum.certificate, sgp.eum],
        [pki.euicc.certificate, sgp.euicc],
        [pki.dpAuth.certificate, sgp.dpAuth],
        [pki.dpPb.certificate, sgp.dpPb],
        [pki.dpTls.certificate, sgp.dpTls],
      ];
      for (const [ours, theirs] of pairs) assert.deepEqual(profileOf(ours), profileOf(parseCertificate(theirs)), ours.subject.text);
    });

    test('EUM name constraints, SM-DP+ address and OID, eIM without a GSMA role', () => {
      const nc = pki.eum.certificate.nameConstraints?.permitted[0];
      assert.equal(nc?.type === 'directoryName' && distinguishedName(nc.value).text, 'O=mcim Test EUM, serialNumber=89049032');
      assert.deepEqual(pki.dpTls.certificate.subjectAltName?.dnsNames, ['testsmdpplus1.example.com']);
      assert.deepEqual(pki.dpTls.certificate.extendedKeyUsage, [X509_OID.kpServerAuth, X509_OID.kpClientAuth]);
      assert.deepEqual(pki.dpAuth.certificate.subjectAltName?.registeredIds, ['2.999.10']);
      assert.deepEqual(pki.eim.certificate.roles, []);
      assert.deepEqual(pki.eim.certificate.keyUsage, ['digitalSignature']);
      assert.equal(pki.euicc.certificate.notAfter.toISOString(), '9999-12-31T23:59:59.000Z');
      assert.equal(pki.dpTls.certificate.notAfter.toISOString(), '2032-03-01T12:00:00.000Z');
    });

    describe('openssl verify', { skip: !HAS_OPENSSL && 'openssl is not installed' }, () => {
      const dir = tempDir();
      writeTestPki(pki, dir, KEYS);
      after(() => rmSync(dir, { recursive: true, force: true }));
      const path = (name: string): string => join(dir, name);

      test('accepts the CI, EUM, DPauth, DPpb and eIM certificates with -x509_strict', () => {
        const r = openssl(['verify', '-x509_strict', '-attime', String(at.getTime() / 1000), '-CAfile', path('ci.pem'),
          path('ci.pem'), path('eum.pem'), path('dp-auth.pem'), path('dp-pb.pem'), path('eim.pem')]);
        assert.equal(r.status, 0, r.output);
        assert.equal(r.output.match(/: OK$/gm)?.length, 5, r.output);
      });

      test('accepts the DPtls certificate as a TLS server certificate', () => {
        const r = openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', pki.smdpAddress,
          '-attime', String(at.getTime() / 1000), '-CAfile', path('ci.pem'), path('dp-tls.pem')]);
        assert.equal(r.status, 0, r.output);
      });

      test('rejects the eUICC for its name constraints, as for SGP.26; its signature verifies with openssl dgst', () => {
        // OpenSSL matches a directoryName subtree as an RDN prefix of the subject, so the GSMA reading
        // (O equal, serialNumber a prefix of the EID) fails there: it reports a permitted subtree violation.
        const chain = openssl(['verify', '-attime', String(at.getTime() / 1000), '-CAfile', path('ci.pem'), '-untrusted', path('eum.pem'), path('euicc.pem')]);
        assert.notEqual(chain.status, 0);
        assert.match(chain.output, /permitted subtree violation/);
        const eumKey = openssl(['x509', '-in', path('eum.pem'), '-pubkey', '-noout']);
        assert.equal(eumKey.status, 0, eumKey.output);
        writeFileSync(path('eum.pub.pem'), eumKey.output);
        writeFileSync(path('euicc.tbs'), pki.euicc.certificate.tbsDer);
        writeFileSync(path('euicc.sig'), pki.euicc.certificate.signature);
        const dgst = openssl(['dgst', '-sha256', '-verify', path('eum.pub.pem'), '-signature', path('euicc.sig'), path('euicc.tbs')]);
        assert.equal(dgst.status, 0, dgst.output);
        assert.match(dgst.output, /Verified OK/);
      });

      test('rejects a certificate under another CI', () => {
        const other = issueTestPki({ curve, notBefore });
        writeFileSync(path('other-dp-auth.pem'), `-----BEGIN CERTIFICATE-----\n${other.dpAuth.der.toString('base64')}\n-----END CERTIFICATE-----\n`);
        const r = openssl(['verify', '-attime', String(at.getTime() / 1000), '-CAfile', path('ci.pem'), path('other-dp-auth.pem')]);
        assert.notEqual(r.status, 0);
      });
    });
  });
}

describe('options and files', () => {
  test('a given EID sets the EUM prefix; invalid or out-of-prefix EIDs are refused', () => {
    const eid = '89033023426200000000000012345606';
    const pki = issueTestPki({ eid, notBefore: new Date('2030-01-01T00:00:00Z') });
    assert.equal(pki.euicc.certificate.eid, eid);
    const r = validateChain(pki.euicc.der, [pki.eum.der], { role: 'euicc', trustedCis: [pki.ci.der], at: new Date('2030-01-02T00:00:00Z') });
    assert.equal(r.eid, eid);
    assert.throws(() => issueTestPki({ eid: '89033023426200000000000012345607' }), (e: unknown) => e instanceof PkiError && e.code === 'INVALID_EID');
    assert.throws(() => issueTestPki({ eid, eidPrefix: '89049032' }), (e: unknown) => e instanceof PkiError && e.code === 'EID_OUT_OF_RANGE');
  });

  test('writeTestPki writes DER, PEM and encrypted PKCS#8 files and a manifest, all mode 600, and never overwrites', () => {
    const parent = tempDir();
    const dir = join(parent, 'pki');
    const pki: TestPki = issueTestPki({ curve: 'brainpoolP256r1', smdpAddress: 'smdp.example.org' });
    const files = writeTestPki(pki, dir, KEYS);
    assert.equal(files.length, TEST_ENTITIES.length * 3 + 1);
    const manifest = JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(manifest.curve, 'brainpoolP256r1');
    assert.equal(manifest.smdpAddress, 'smdp.example.org');
    assert.equal(manifest.ciKeyId, pki.ci.certificate.subjectKeyIdentifier?.toString('hex'));
    assert.equal(manifest.keyPassphrase, 'pki-passphrase');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const entity of TEST_ENTITIES) {
      const der = readFileSync(join(dir, `${entity}.der`));
      const pem = readFileSync(join(dir, `${entity}.pem`), 'utf8');
      assert.match(pem, /^-----BEGIN CERTIFICATE-----\n/);
      assert.deepEqual(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'), der);
      const keyPem = readFileSync(join(dir, `${entity}.key.pem`), 'utf8');
      assert.match(keyPem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
      assert.throws(() => createPrivateKey(keyPem), `${entity}: no key without the passphrase`);
      assert.throws(() => readTestPkiKey(dir, entity, 'another passphrase of 16+'), (e: unknown) => e instanceof McimError && e.code === 'UNREADABLE');
      for (const name of [`${entity}.key.pem`, `${entity}.der`, `${entity}.pem`]) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
      const cert = parseCertificate(der);
      assert.deepEqual(
        createPublicKey(readTestPkiKey(dir, entity, KEYS.passphrase)).export({ type: 'spki', format: 'der' }),
        cert.publicKey.key.export({ type: 'spki', format: 'der' }),
      );
    }
    assert.throws(() => writeTestPki(pki, dir, KEYS), (e: unknown) => e instanceof McimError && e.code === 'FILE_EXISTS');
    rmSync(parent, { recursive: true, force: true });
  });
});
