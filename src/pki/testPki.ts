// A complete test PKI following the SGP.22 4.5.2.1 certificate profiles as SGP.26 instantiates them, plus an SGP.32 eIM.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { X509_OID } from '../asn1/definitions/x509.js';
import { McimError } from '../errors.js';
import { generateKeyPair, type EcCurve } from '../crypto/ecdsa.js';
import {
  RSP_ROLE_OIDS,
  certificateToPem,
  distinguishedName,
  nameAttribute,
  parseCertificate,
  type GsmaCertificate,
} from './certificate.js';
import { isValidEid, makeEid } from './eid.js';
import { PkiError } from './errors.js';
import { buildName, extensions as ext, issueCertificate, keyIdentifier, type CertificateTemplate, type NameSpec } from './issue.js';
import { makePrivateDir, writePrivateFile } from './privateFiles.js';

/** The certificates a test PKI holds. */
export type TestEntity = 'ci' | 'eum' | 'euicc' | 'dp-auth' | 'dp-pb' | 'dp-tls' | 'eim';

export const TEST_ENTITIES: readonly TestEntity[] = ['ci', 'eum', 'euicc', 'dp-auth', 'dp-pb', 'dp-tls', 'eim'];

export interface IssuedCertificate {
  readonly entity: TestEntity;
  readonly der: Buffer;
  readonly certificate: GsmaCertificate;
  readonly privateKey: KeyObject;
}

/** SGP.26's EUM permitted EID prefix. */
export const DEFAULT_EID_PREFIX = '89049032';
export const DEFAULT_SMDP_ADDRESS = 'testsmdpplus1.example.com';
/** SGP.26 uses OIDs under the example arc 2.999 (X.660): the CI 2.999.1, the EUM 2.999.5, SM-DP+ 2.999.10. */
export const DEFAULT_SMDP_OID = '2.999.10';
const CI_OID = '2.999.1';
const EUM_OID = '2.999.5';
const CRL_URL = 'http://ci.test.example.com/mcim-test-ci.crl';
const DEFAULT_ORGANIZATION = 'mcim Test EUM';
/** RFC 5280 4.1.2.5: the notAfter of a certificate without a well-defined expiration date. */
const NO_EXPIRY = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

export interface EntityOptions {
  /** Curve of the new key: the issuer's by default (P-256 for dp-tls, to serve TLS 1.3 everywhere). */
  readonly curve?: EcCurve;
  /** Start of validity (default: now, whole seconds). The profile decides the lifetime unless notAfter is given. */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Overrides the profile's subject. */
  readonly subject?: NameSpec;
  /** eum: the EID prefix its name constraints permit. */
  readonly eidPrefix?: string;
  /** eum: its organization, also the one its eUICCs carry. */
  readonly organization?: string;
  /** euicc: its EID (default: a valid EID inside the issuing EUM's range). */
  readonly eid?: string;
  /** dp-tls: the SM-DP+ address (subject CN and SAN dNSName). */
  readonly smdpAddress?: string;
  /** dp-auth, dp-pb, dp-tls: the SM-DP+ OID in the SAN registeredID. */
  readonly smdpOid?: string;
  /** Last changes to the template before signing: for crafting non-conforming certificates. */
  readonly adjust?: (template: CertificateTemplate) => CertificateTemplate;
}

function nowSeconds(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

function addYears(d: Date, years: number): Date {
  const out = new Date(d);
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
}

/** The EID prefix of an EUM certificate's permitted directoryName (its serialNumber attribute). */
function permittedEidPrefix(eum: GsmaCertificate): string | undefined {
  for (const base of eum.nameConstraints?.permitted ?? []) {
    const prefix = base.type === 'directoryName' ? nameAttribute(distinguishedName(base.value), X509_OID.serialNumber) : undefined;
    if (prefix !== undefined) return prefix;
  }
  return undefined;
}

interface Profile {
  readonly subject: NameSpec;
  readonly lifetime: (notBefore: Date) => Date;
  readonly extensions: (keys: { subject: Buffer; authority: Buffer }) => CertificateTemplate['extensions'];
}

function profile(entity: TestEntity, issuer: IssuedCertificate | undefined, o: EntityOptions): Profile {
  const smdpOid = o.smdpOid ?? DEFAULT_SMDP_OID;
  const crl = ext.crlDistributionPoints([CRL_URL]);
  switch (entity) {
    case 'ci':
      return {
        subject: [['CN', 'mcim Test CI'], ['OU', 'TESTCERT'], ['O', 'RSPTEST'], ['C', 'IT']],
        lifetime: (nb) => addYears(nb, 35),
        extensions: (k) => [
          ext.subjectKeyIdentifier(k.subject),
          ext.basicConstraints(true),
          ext.certificatePolicies([RSP_ROLE_OIDS.ci]),
          ext.keyUsage(['keyCertSign', 'cRLSign']),
          ext.subjectAltName([{ type: 'registeredID', value: CI_OID }]),
          crl,
        ],
      };
    case 'eum': {
      const organization = o.organization ?? DEFAULT_ORGANIZATION;
      const permitted = buildName([['O', organization], ['serialNumber', o.eidPrefix ?? DEFAULT_EID_PREFIX]]);
      return {
        subject: [['C', 'ES'], ['O', organization], ['CN', 'mcim Test EUM']],
        lifetime: (nb) => addYears(nb, 30),
        extensions: (k) => [
          ext.authorityKeyIdentifier(k.authority),
          ext.subjectKeyIdentifier(k.subject),
          ext.keyUsage(['keyCertSign']),
          ext.certificatePolicies([RSP_ROLE_OIDS.eum]),
          ext.subjectAltName([{ type: 'registeredID', value: EUM_OID }]),
          ext.basicConstraints(true, 0),
          crl,
          ext.nameConstraints([permitted]),
        ],
      };
    }
    case 'euicc': {
      const eum = issuer?.certificate;
      const organization = o.organization ?? (eum && nameAttribute(eum.subject, X509_OID.organizationName)) ?? DEFAULT_ORGANIZATION;
      const eid = o.eid ?? makeEid((eum && permittedEidPrefix(eum)) ?? DEFAULT_EID_PREFIX);
      return {
        subject: [['C', 'ES'], ['O', organization], ['serialNumber', eid], ['CN', 'mcim Test eUICC']],
        lifetime: () => NO_EXPIRY,
        extensions: (k) => [
          ext.authorityKeyIdentifier(k.authority),
          ext.subjectKeyIdentifier(k.subject),
          ext.keyUsage(['digitalSignature']),
          ext.certificatePolicies([RSP_ROLE_OIDS.euicc]),
        ],
      };
    }
    case 'dp-auth':
    case 'dp-pb':
      return {
        subject: [['O', 'mcim'], ['CN', 'mcim Test SM-DP+']],
        lifetime: (nb) => addYears(nb, 10),
        extensions: (k) => [
          ext.authorityKeyIdentifier(k.authority),
          ext.subjectKeyIdentifier(k.subject),
          ext.subjectAltName([{ type: 'registeredID', value: smdpOid }]),
          ext.keyUsage(['digitalSignature']),
          ext.certificatePolicies([RSP_ROLE_OIDS[entity]]),
          crl,
        ],
      };
    case 'dp-tls': {
      const address = o.smdpAddress ?? DEFAULT_SMDP_ADDRESS;
      return {
        subject: [['O', 'mcim'], ['CN', address]],
        lifetime: (nb) => addYears(nb, 1),
        extensions: (k) => [
          ext.keyUsage(['digitalSignature']),
          ext.extendedKeyUsage([X509_OID.kpServerAuth, X509_OID.kpClientAuth]),
          ext.certificatePolicies([RSP_ROLE_OIDS['dp-tls']], false),
          ext.subjectKeyIdentifier(k.subject),
          ext.authorityKeyIdentifier(k.authority),
          ext.subjectAltName([
            { type: 'dNSName', value: address },
            { type: 'registeredID', value: smdpOid },
          ]),
          crl,
        ],
      };
    }
    case 'eim':
      // SGP.32 v1.2 defines no id-rspRole for the eIM: its certificate carries no GSMA role policy.
      return {
        subject: [['O', 'mcim'], ['CN', 'mcim Test eIM']],
        lifetime: (nb) => addYears(nb, 5),
        extensions: (k) => [
          ext.authorityKeyIdentifier(k.authority),
          ext.subjectKeyIdentifier(k.subject),
          ext.keyUsage(['digitalSignature']),
        ],
      };
  }
}

/**
 * Issues one test certificate with a fresh key under `issuer` (undefined for the self-signed CI), following
 * the entity's SGP.26 profile.
 */
export function issueTestCertificate(entity: TestEntity, issuer: IssuedCertificate | undefined, options: EntityOptions = {}): IssuedCertificate {
  if ((entity === 'ci') !== (issuer === undefined)) {
    throw new RangeError(entity === 'ci' ? 'the CI is self-signed: it takes no issuer' : `a ${entity} certificate needs an issuer`);
  }
  const curve = options.curve ?? (entity === 'dp-tls' ? 'P-256' : (issuer?.certificate.publicKey.curve ?? 'P-256'));
  const { privateKey, publicKey } = generateKeyPair(curve);
  const p = profile(entity, issuer, options);
  const subject = buildName(options.subject ?? p.subject);
  const subjectKeyId = keyIdentifier(publicKey);
  const notBefore = options.notBefore ?? nowSeconds();
  const template: CertificateTemplate = {
    issuer: issuer?.certificate.asn1.tbsCertificate.value.subject ?? subject,
    subject,
    notBefore,
    notAfter: options.notAfter ?? p.lifetime(notBefore),
    subjectKey: publicKey,
    extensions: p.extensions({ subject: subjectKeyId, authority: issuer?.certificate.subjectKeyIdentifier ?? subjectKeyId }),
  };
  const der = issueCertificate(options.adjust ? options.adjust(template) : template, issuer?.privateKey ?? privateKey);
  return { entity, der, certificate: parseCertificate(der), privateKey };
}

export interface TestPkiOptions {
  readonly curve?: EcCurve;
  /** The eUICC's EID (default: SGP.26's pattern under the prefix). */
  readonly eid?: string;
  /** The EUM's permitted EID prefix (default: the EID's first 8 digits, or 89049032). */
  readonly eidPrefix?: string;
  readonly smdpAddress?: string;
  readonly smdpOid?: string;
  /** Start of every certificate's validity (default: now). */
  readonly notBefore?: Date;
}

export interface TestPki {
  readonly curve: EcCurve;
  readonly eid: string;
  readonly smdpAddress: string;
  readonly smdpOid: string;
  readonly ci: IssuedCertificate;
  readonly eum: IssuedCertificate;
  readonly euicc: IssuedCertificate;
  readonly dpAuth: IssuedCertificate;
  readonly dpPb: IssuedCertificate;
  readonly dpTls: IssuedCertificate;
  readonly eim: IssuedCertificate;
}

/** Issues CI, EUM (name-constrained to the EID prefix), eUICC, DPauth, DPpb, DPtls and eIM certificates. */
export function issueTestPki(options: TestPkiOptions = {}): TestPki {
  const curve = options.curve ?? 'P-256';
  if (options.eid !== undefined && !isValidEid(options.eid)) {
    throw new PkiError('INVALID_EID', `'${options.eid}' is not an EID: 32 digits with valid check digits`);
  }
  const eidPrefix = options.eidPrefix ?? options.eid?.slice(0, DEFAULT_EID_PREFIX.length) ?? DEFAULT_EID_PREFIX;
  const eid = options.eid ?? makeEid(eidPrefix);
  if (!eid.startsWith(eidPrefix)) throw new PkiError('EID_OUT_OF_RANGE', `EID ${eid} does not start with the EUM prefix ${eidPrefix}`);
  const smdpAddress = options.smdpAddress ?? DEFAULT_SMDP_ADDRESS;
  const smdpOid = options.smdpOid ?? DEFAULT_SMDP_OID;
  const notBefore = options.notBefore ?? nowSeconds();
  const common = { notBefore, smdpOid };
  const ci = issueTestCertificate('ci', undefined, { ...common, curve });
  const eum = issueTestCertificate('eum', ci, { ...common, eidPrefix });
  return {
    curve,
    eid,
    smdpAddress,
    smdpOid,
    ci,
    eum,
    euicc: issueTestCertificate('euicc', eum, { ...common, eid }),
    dpAuth: issueTestCertificate('dp-auth', ci, common),
    dpPb: issueTestCertificate('dp-pb', ci, common),
    dpTls: issueTestCertificate('dp-tls', ci, { ...common, smdpAddress }),
    eim: issueTestCertificate('eim', ci, common),
  };
}

export interface WrittenFile {
  readonly entity: TestEntity | 'manifest';
  readonly kind: 'certificate-der' | 'certificate-pem' | 'private-key-pem' | 'manifest';
  readonly path: string;
}

const FIELD_OF: Readonly<Record<TestEntity, keyof Pick<TestPki, 'ci' | 'eum' | 'euicc' | 'dpAuth' | 'dpPb' | 'dpTls' | 'eim'>>> = {
  ci: 'ci',
  eum: 'eum',
  euicc: 'euicc',
  'dp-auth': 'dpAuth',
  'dp-pb': 'dpPb',
  'dp-tls': 'dpTls',
  eim: 'eim',
};

/**
 * Where the passphrase of a test PKI's keys comes from, as pki.json records it: `smdp-data-directory`, derived from the
 * at-rest key of the SM-DP+ data directory two levels up (DIR/pki/<curve>); `pki-passphrase`, the passphrase
 * `mcim pki init` was given ($MCIM_PKI_PASSPHRASE or a passphrase file).
 */
export type TestPkiPassphraseSource = 'smdp-data-directory' | 'pki-passphrase';

export interface WriteTestPkiOptions {
  /** Every private key is written as encrypted PKCS#8 (AES-256-CBC, PBKDF2) under this passphrase. */
  readonly passphrase: string;
  readonly passphraseSource: TestPkiPassphraseSource;
}

/** The passphrase source pki.json in `dir` records; undefined for a directory without one (keys in clear, older mcim). */
export function testPkiPassphraseSource(dir: string): TestPkiPassphraseSource | undefined {
  const manifest = join(dir, 'pki.json');
  if (!existsSync(manifest)) return undefined;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { keyPassphrase?: TestPkiPassphraseSource }).keyPassphrase;
}

/**
 * The private key `<entity>.key.pem` in `dir`, decrypted with `passphrase` (a key in clear, from an older mcim, is read
 * as it is). A wrong or missing passphrase is UNREADABLE.
 */
export function readTestPkiKey(dir: string, entity: TestEntity, passphrase: string | undefined): KeyObject {
  const path = join(dir, `${entity}.key.pem`);
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (cause) {
    throw new McimError('NOT_FOUND', `cannot read ${path}`, { cause });
  }
  if (passphrase === undefined && pem.includes('ENCRYPTED PRIVATE KEY')) throw new McimError('UNREADABLE', `${path} is encrypted: its passphrase is needed`);
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase: passphrase ?? '' });
  } catch (cause) {
    throw new McimError('UNREADABLE', `cannot decrypt ${path}: wrong passphrase, or not a private key`, { cause });
  }
}

/**
 * Writes the PKI into `dir` (created if needed, mode 700): `<entity>.der` and `<entity>.pem` certificates,
 * `<entity>.key.pem` encrypted PKCS#8 private keys and `pki.json` describing them, every file mode 600. Refuses to
 * overwrite existing files.
 */
export function writeTestPki(pki: TestPki, dir: string, options: WriteTestPkiOptions): WrittenFile[] {
  const planned: { file: WrittenFile; data: string | Buffer }[] = [];
  const files: Record<string, { certificateDer: string; certificatePem: string; privateKey: string }> = {};
  for (const entity of TEST_ENTITIES) {
    const issued = pki[FIELD_OF[entity]];
    const names = { certificateDer: `${entity}.der`, certificatePem: `${entity}.pem`, privateKey: `${entity}.key.pem` };
    files[entity] = names;
    planned.push(
      { file: { entity, kind: 'certificate-der', path: join(dir, names.certificateDer) }, data: issued.der },
      { file: { entity, kind: 'certificate-pem', path: join(dir, names.certificatePem) }, data: certificateToPem(issued.der) },
      {
        file: { entity, kind: 'private-key-pem', path: join(dir, names.privateKey) },
        data: issued.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: options.passphrase }),
      },
    );
  }
  const manifest = {
    curve: pki.curve,
    eid: pki.eid,
    smdpAddress: pki.smdpAddress,
    smdpOid: pki.smdpOid,
    ciKeyId: pki.ci.certificate.subjectKeyIdentifier?.toString('hex'),
    keyPassphrase: options.passphraseSource,
    files,
  };
  planned.push({ file: { entity: 'manifest', kind: 'manifest', path: join(dir, 'pki.json') }, data: `${JSON.stringify(manifest, null, 2)}\n` });
  const existing = planned.filter((p) => existsSync(p.file.path)).map((p) => p.file.path);
  if (existing.length > 0) throw new McimError('FILE_EXISTS', `refusing to overwrite ${existing.join(', ')}`);
  makePrivateDir(dir);
  for (const p of planned) writePrivateFile(p.file.path, p.data);
  return planned.map((p) => p.file);
}
