// The operator's SM-DP+ credentials (SGP.22 4.5.2.1): every check of an import refuses its broken set with its code and writes nothing.
import assert from 'node:assert/strict';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { X509_OID } from '../../src/asn1/definitions/x509.js';
import { generateKeyPair } from '../../src/crypto/ecdsa.js';
import { McimError } from '../../src/errors.js';
import { certificateToPem, parseCertificate } from '../../src/pki/certificate.js';
import { extensions as ext } from '../../src/pki/issue.js';
import { issueTestCertificate, issueTestPki, type IssuedCertificate, type TestPki } from '../../src/pki/testPki.js';
import { CredentialError, readPrivateKey, sgp26Sources, type CredentialSources } from '../../src/smdpp/credentialSet.js';
import { importSmdpCredentials, initSmdpDataDir } from '../../src/smdpp/dataDir.js';
import { fixturePath } from '../helpers/fixtures.js';

const HOST = 'smdp.example.com';
const OID = '2.999.10';
const PASSPHRASE = 'correct horse battery staple';
const tmp = mkdtempSync(join(tmpdir(), 'mcim-credentials-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
function fresh(name: string): string {
  return join(tmp, `${name}-${++counter}`);
}

const p256 = issueTestPki({ curve: 'P-256', smdpAddress: HOST, smdpOid: OID });
const brainpool = issueTestPki({ curve: 'brainpoolP256r1', smdpAddress: HOST, smdpOid: OID });

type KeyFormat = 'pkcs8-pem' | 'sec1-pem' | 'pkcs8-der' | 'sec1-der' | 'encrypted-pem' | 'encrypted-der';

function writeKey(file: string, key: KeyObject, format: KeyFormat): string {
  const data =
    format === 'pkcs8-pem'
      ? key.export({ type: 'pkcs8', format: 'pem' })
      : format === 'sec1-pem'
        ? key.export({ type: 'sec1', format: 'pem' })
        : format === 'pkcs8-der'
          ? key.export({ type: 'pkcs8', format: 'der' })
          : format === 'sec1-der'
            ? key.export({ type: 'sec1', format: 'der' })
            : format === 'encrypted-pem'
              ? key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE })
              : key.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: PASSPHRASE });
  writeFileSync(file, data);
  return file;
}

function writeCert(file: string, ...certs: IssuedCertificate[]): string {
  writeFileSync(file, file.endsWith('.der') ? certs[0]!.der : certs.map((c) => certificateToPem(c.der)).join(''));
  return file;
}

interface SetParts {
  readonly cis: readonly IssuedCertificate[];
  readonly dpAuth: readonly { cert: IssuedCertificate; key?: KeyObject }[];
  readonly dpPb: readonly { cert: IssuedCertificate; key?: KeyObject }[];
  readonly tls: { cert: IssuedCertificate; key?: KeyObject; chain?: IssuedCertificate[] };
}

/** Writes the parts as files in mixed formats (PEM/DER certificates; SEC1, PKCS#8, encrypted PKCS#8 keys). */
function writeSet(parts: SetParts): CredentialSources {
  const dir = fresh('input');
  mkdirSync(dir);
  const formats: KeyFormat[] = ['sec1-pem', 'encrypted-pem', 'pkcs8-der', 'sec1-der', 'encrypted-der', 'pkcs8-pem'];
  let n = 0;
  const keyed = (name: string, p: { cert: IssuedCertificate; key?: KeyObject }) => ({
    certificate: writeCert(join(dir, `${name}.${n % 2 === 0 ? 'der' : 'pem'}`), p.cert),
    key: writeKey(join(dir, `${name}.key`), p.key ?? p.cert.privateKey, formats[n++ % formats.length]!),
  });
  return {
    cis: parts.cis.map((ci, i) => writeCert(join(dir, `ci-${i}.${i % 2 === 0 ? 'pem' : 'der'}`), ci)),
    dpAuth: parts.dpAuth.map((p, i) => keyed(`dp-auth-${i}`, p)),
    dpPb: parts.dpPb.map((p, i) => keyed(`dp-pb-${i}`, p)),
    tls: {
      certificate: writeCert(join(dir, 'tls.pem'), parts.tls.cert, ...(parts.tls.chain ?? [])),
      key: writeKey(join(dir, 'tls.key'), parts.tls.key ?? parts.tls.cert.privateKey, 'encrypted-pem'),
    },
    passphrase: PASSPHRASE,
  };
}

function goodParts(pki: TestPki = p256): SetParts {
  return { cis: [pki.ci], dpAuth: [{ cert: pki.dpAuth }], dpPb: [{ cert: pki.dpPb }], tls: { cert: pki.dpTls } };
}

function refuses(code: string, parts: SetParts | CredentialSources, options: { address?: string; oid?: string; at?: Date } = {}, dir = fresh('data')): void {
  const sources = 'cis' in parts && typeof parts.cis[0] === 'string' ? (parts as CredentialSources) : writeSet(parts as SetParts);
  assert.throws(
    () => importSmdpCredentials(dir, sources, options),
    (e: unknown) => {
      assert.ok(e instanceof McimError, `expected a McimError, got ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    },
  );
  assert.equal(existsSync(dir), false, 'nothing may be written');
}

/** A certificate issued by `issuer` for `entity` with a template change. */
function crafted(entity: 'dp-auth' | 'dp-pb' | 'dp-tls', issuer: IssuedCertificate, options: Parameters<typeof issueTestCertificate>[2] = {}): IssuedCertificate {
  return issueTestCertificate(entity, issuer, { smdpAddress: HOST, smdpOid: OID, ...options });
}

function withoutExtension(oid: string, replacement?: ReturnType<typeof ext.keyUsage>) {
  return (t: Parameters<NonNullable<Parameters<typeof issueTestCertificate>[2]>['adjust'] & object>[0]) => ({
    ...t,
    extensions: t.extensions.flatMap((e) => (e.oid === oid ? (replacement ? [replacement] : []) : [e])),
  });
}

describe('supplied SM-DP+ credentials', () => {
  it('imports a set in PEM and DER, SEC1 and (encrypted) PKCS#8; address and OID come from the certificates; keys are encrypted at rest', () => {
    const dir = fresh('data');
    const { set, data } = importSmdpCredentials(dir, writeSet(goodParts()));
    assert.equal(set.address, HOST);
    assert.equal(set.oid, OID);
    assert.equal(data.credentialSource, 'supplied');
    assert.equal(data.created, true);
    assert.equal(data.credentials.length, 1);
    assert.equal(data.tls.maxVersion, undefined, 'a P-256 TLS certificate serves TLS 1.3 too');
    const stored = readdirSync(join(dir, 'credentials')).filter((f) => f.endsWith('.key.pem'));
    assert.equal(stored.length, 3);
    for (const f of stored) {
      const pem = readFileSync(join(dir, 'credentials', f), 'utf8');
      assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/, f);
      assert.throws(() => createPrivateKey(pem), `${f} must not open without the at-rest key`);
    }
    const reopened = initSmdpDataDir(dir);
    assert.equal(reopened.created, false);
    assert.equal(reopened.address, HOST);
    // A TLS file that carries the CI after the leaf: the CI is not served (clients hold it).
    const withCi = importSmdpCredentials(fresh('data'), writeSet({ ...goodParts(), tls: { cert: p256.dpTls, chain: [p256.ci] } })).data;
    assert.equal(withCi.tls.cert.toString(), certificateToPem(p256.dpTls.der));
    assert.deepEqual(reopened.credentials[0]!.dpAuth.certificate.der, p256.dpAuth.der);
    assert.deepEqual(reopened.pkiDirs, {});
  });

  it('reads EC private keys as PEM and DER, SEC1, PKCS#8 and encrypted PKCS#8', () => {
    const expected = p256.dpAuth.privateKey.export({ type: 'pkcs8', format: 'der' });
    for (const format of ['pkcs8-pem', 'sec1-pem', 'pkcs8-der', 'sec1-der', 'encrypted-pem', 'encrypted-der'] as const) {
      const file = writeKey(fresh(`key-${format}`), p256.dpAuth.privateKey, format);
      assert.deepEqual(readPrivateKey(file, PASSPHRASE).export({ type: 'pkcs8', format: 'der' }), expected, format);
    }
    // SGP.26 ships SEC1 keys behind an EC PARAMETERS block.
    assert.equal(readPrivateKey(fixturePath('sgp26', 'DPauth', 'SK_S_SM_DPauth_ECDSA_BRP.pem'), undefined).asymmetricKeyDetails?.namedCurve, 'brainpoolP256r1');
  });

  it('holds one credential per CI (two roots on one curve) and trusts every supplied CI, including one without DPauth', () => {
    const secondRoot = issueTestPki({ curve: 'P-256', smdpOid: OID });
    const trustOnly = issueTestPki({ curve: 'brainpoolP256r1' });
    const parts = goodParts();
    const dir = fresh('data');
    const { data } = importSmdpCredentials(
      dir,
      writeSet({
        ...parts,
        cis: [p256.ci, brainpool.ci, secondRoot.ci, trustOnly.ci],
        dpAuth: [...parts.dpAuth, { cert: secondRoot.dpAuth }, { cert: brainpool.dpAuth }],
        dpPb: [{ cert: brainpool.dpPb }, { cert: secondRoot.dpPb }, ...parts.dpPb],
      }),
      { address: `${HOST}:8443` },
    );
    const hexOf = (b: Buffer | undefined): string => b?.toString('hex') ?? '';
    assert.deepEqual(data.credentials.map((c) => hexOf(c.ci.der)).sort(), [p256.ci.der, secondRoot.ci.der, brainpool.ci.der].map(hexOf).sort());
    for (const c of data.credentials) {
      assert.equal(c.curve, c.ci.publicKey.curve);
      assert.equal(hexOf(c.dpAuth.certificate.authorityKeyIdentifier), hexOf(c.ci.subjectKeyIdentifier), 'DPauth paired with its own CI');
      assert.equal(hexOf(c.dpPb.certificate.authorityKeyIdentifier), hexOf(c.ci.subjectKeyIdentifier), 'DPpb paired with its own CI');
    }
    assert.equal(data.trustedCis.length, 4);
    assert.equal(data.address, `${HOST}:8443`);
    assert.deepEqual(Object.keys(data.ciCertificateFiles), ['p256', 'brainpool', 'p256-2', 'brainpool-2']);
    const { atRestKeyCheck, ...config } = JSON.parse(readFileSync(join(dir, 'smdpp.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(config, { address: `${HOST}:8443`, oid: OID });
    assert.match(String(atRestKeyCheck), /^[0-9a-f]{64}$/);
  });

  it('loads the GSMA SGP.26 set from its own file names, address and OID from its certificates', () => {
    const at = new Date('2026-12-01T00:00:00Z');
    for (const [curve, maxVersion] of [['P-256', undefined], ['brainpoolP256r1', 'TLSv1.2']] as const) {
      const { set, data } = importSmdpCredentials(fresh('sgp26'), sgp26Sources(fixturePath('sgp26'), curve), { at });
      assert.equal(set.address, 'testsmdpplus1.example.com');
      assert.equal(set.oid, '2.999.10');
      assert.deepEqual(set.credentials.map((c) => c.curve), ['P-256', 'brainpoolP256r1']);
      assert.equal(set.tls.curve, curve);
      assert.equal(data.tls.maxVersion, maxVersion);
      assert.match(data.tlsCaFile, curve === 'P-256' ? /ci-1-p256\.pem$/ : /ci-2-brainpool\.pem$/);
    }
    assert.throws(() => sgp26Sources(tmp), (e: unknown) => e instanceof CredentialError && e.code === 'UNREADABLE');
  });

  it('refuses a private key that is not the certificate key (KEY_MISMATCH)', () => {
    const parts = goodParts();
    refuses('KEY_MISMATCH', { ...parts, dpAuth: [{ cert: p256.dpAuth, key: p256.dpPb.privateKey }] });
    refuses('KEY_MISMATCH', { ...parts, tls: { cert: p256.dpTls, key: generateKeyPair('P-256').privateKey } });
  });

  it('refuses a certificate of the wrong GSMA role (WRONG_ROLE)', () => {
    refuses('WRONG_ROLE', { ...goodParts(), dpPb: [{ cert: p256.dpAuth }] });
    refuses('WRONG_ROLE', { ...goodParts(), cis: [p256.eum] });
  });

  it('refuses a certificate whose key usage does not fit (WRONG_KEY_USAGE)', () => {
    const noSign = crafted('dp-auth', p256.ci, { adjust: withoutExtension(X509_OID.keyUsage, ext.keyUsage(['keyAgreement'])) });
    refuses('WRONG_KEY_USAGE', { ...goodParts(), dpAuth: [{ cert: noSign }] });
    const noServerAuth = crafted('dp-tls', p256.ci, { adjust: withoutExtension(X509_OID.extKeyUsage, ext.extendedKeyUsage([X509_OID.kpClientAuth])) });
    refuses('WRONG_KEY_USAGE', { ...goodParts(), tls: { cert: noServerAuth } });
  });

  it('refuses a chain that does not verify to a supplied CI (UNKNOWN_CI, BAD_SIGNATURE)', () => {
    const other = issueTestPki({ curve: 'P-256', smdpAddress: HOST, smdpOid: OID });
    refuses('UNKNOWN_CI', { ...goodParts(), dpAuth: [{ cert: other.dpAuth }] });
    // Same issuer name and key identifier as the CI, signed with another key.
    const forged = crafted('dp-pb', { ...p256.ci, privateKey: generateKeyPair('P-256').privateKey });
    refuses('BAD_SIGNATURE', { ...goodParts(), dpPb: [{ cert: forged }] });
    const tlsElsewhere = crafted('dp-tls', other.ci);
    refuses('UNKNOWN_CI', { ...goodParts(), tls: { cert: tlsElsewhere } });
  });

  it('refuses expired and not yet valid certificates (EXPIRED, NOT_YET_VALID)', () => {
    const day = 86_400_000;
    const expired = crafted('dp-tls', p256.ci, { notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() - day) });
    refuses('EXPIRED', { ...goodParts(), tls: { cert: expired } });
    const later = crafted('dp-auth', p256.ci, { notBefore: new Date(Date.now() + day) });
    refuses('NOT_YET_VALID', { ...goodParts(), dpAuth: [{ cert: later }] });
    // The CI itself, and the whole set at a time outside its validity.
    refuses('EXPIRED', goodParts(), { at: new Date(Date.now() + 2 * 365 * day) });
    refuses('NOT_YET_VALID', goodParts(), { at: new Date(Date.now() - day) });
  });

  it('refuses a TLS certificate without the SM-DP+ address in its subjectAltName (ADDRESS_NOT_IN_TLS_CERTIFICATE)', () => {
    refuses('ADDRESS_NOT_IN_TLS_CERTIFICATE', goodParts(), { address: 'other.example.com' });
    const otherHost = crafted('dp-tls', p256.ci, { smdpAddress: 'other.example.com' });
    refuses('ADDRESS_NOT_IN_TLS_CERTIFICATE', { ...goodParts(), tls: { cert: otherHost } }, { address: HOST });
    const noSan = crafted('dp-tls', p256.ci, { adjust: withoutExtension(X509_OID.subjectAltName) });
    refuses('ADDRESS_NOT_IN_TLS_CERTIFICATE', { ...goodParts(), tls: { cert: noSan } }, { oid: OID });
    // A wildcard names one label more, no fewer or further; it does not give the address by itself.
    const wildcard = crafted('dp-tls', p256.ci, { smdpAddress: '*.example.com' });
    refuses('ADDRESS_NOT_IN_TLS_CERTIFICATE', { ...goodParts(), tls: { cert: wildcard } });
    refuses('ADDRESS_NOT_IN_TLS_CERTIFICATE', { ...goodParts(), tls: { cert: wildcard } }, { address: 'a.b.example.com' });
    refuses('ADDRESS_NOT_IN_TLS_CERTIFICATE', { ...goodParts(), tls: { cert: wildcard } }, { address: 'example.com' });
    assert.equal(importSmdpCredentials(fresh('data'), writeSet({ ...goodParts(), tls: { cert: wildcard } }), { address: HOST }).set.address, HOST);
    // An existing directory keeps its address: the message says so.
    const generated = fresh('data');
    initSmdpDataDir(generated);
    assert.throws(() => importSmdpCredentials(generated, writeSet(goodParts())), /serves 'localhost:8443': import into a new data directory/);
    assert.equal(existsSync(join(generated, 'credentials')), false);
  });

  it('refuses certificates naming different SM-DP+ OIDs, or an OID other than the one given (OID_MISMATCH)', () => {
    refuses('OID_MISMATCH', { ...goodParts(), dpPb: [{ cert: crafted('dp-pb', p256.ci, { smdpOid: '2.999.12' }) }] });
    refuses('OID_MISMATCH', goodParts(), { oid: '2.999.12' });
  });

  it('refuses an incomplete set and a DPauth on another curve than its CI (INCOMPLETE, CURVE_MISMATCH)', () => {
    refuses('INCOMPLETE', { ...goodParts(), dpPb: [] });
    refuses('INCOMPLETE', { ...goodParts(), dpAuth: [], dpPb: [] });
    refuses('INCOMPLETE', { ...goodParts(), dpAuth: [{ cert: p256.dpAuth }, { cert: crafted('dp-auth', p256.ci) }] });
    refuses('CURVE_MISMATCH', { ...goodParts(), dpAuth: [{ cert: crafted('dp-auth', p256.ci, { curve: 'brainpoolP256r1' }) }] });
  });

  it('refuses an encrypted key without or with a wrong passphrase, and a missing file (UNREADABLE)', () => {
    const sources = writeSet(goodParts());
    refuses('UNREADABLE', { ...sources, passphrase: undefined });
    refuses('UNREADABLE', { ...sources, passphrase: 'wrong' });
    refuses('UNREADABLE', { ...sources, cis: [join(tmp, 'missing.pem')] });
  });

  it('leaves an existing directory untouched when a new set fails, keeps its address, and checks the stored set again on opening', () => {
    const dir = fresh('data');
    importSmdpCredentials(dir, writeSet(goodParts()));
    const before = readFileSync(join(dir, 'credentials', 'credentials.json'));
    const config = readFileSync(join(dir, 'smdpp.json'));
    assert.throws(() => importSmdpCredentials(dir, writeSet({ ...goodParts(), dpPb: [] })), (e: unknown) => e instanceof CredentialError && e.code === 'INCOMPLETE');
    assert.deepEqual(readFileSync(join(dir, 'credentials', 'credentials.json')), before);
    assert.deepEqual(readFileSync(join(dir, 'smdpp.json')), config);
    assert.deepEqual(readdirSync(dir).sort(), ['credentials', 'secret.key', 'smdpp.json']);
    assert.throws(() => importSmdpCredentials(dir, writeSet(goodParts()), { address: 'other.example.com' }), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
    // Replacing the set with a new one under the same address.
    const next = issueTestPki({ curve: 'P-256', smdpAddress: HOST, smdpOid: OID });
    importSmdpCredentials(dir, writeSet(goodParts(next)));
    assert.deepEqual(initSmdpDataDir(dir).credentials[0]!.ci.der, next.ci.der);
    assert.throws(() => initSmdpDataDir(dir, undefined, new Date(Date.now() + 2 * 365 * 86_400_000)), (e: unknown) => e instanceof McimError && e.code === 'EXPIRED');
  });

  it('imports over a generated test PKI directory, which then serves the supplied set', () => {
    const dir = fresh('data');
    const generated = initSmdpDataDir(dir, HOST);
    assert.equal(generated.credentialSource, 'generated');
    const { data } = importSmdpCredentials(dir, writeSet(goodParts()));
    assert.equal(data.credentialSource, 'supplied');
    assert.equal(data.created, false);
    assert.deepEqual(initSmdpDataDir(dir).credentials.map((c) => c.ci.der), [p256.ci.der]);
    assert.equal(parseCertificate(p256.dpTls.der).subjectAltName?.dnsNames[0], HOST);
  });
});
