// GSMA RSP certificates (SGP.22 4.5.2.1 certificate profiles, SGP.32 eIM certificates) parsed into typed fields.
import { derBlocks, toPem } from './pem.js';
import type { KeyObject } from 'node:crypto';
import { Asn1Error } from '../asn1/errors.js';
import { decode, type Codec } from '../asn1/schema.js';
import {
  KEY_USAGE_BITS,
  X509_OID,
  authorityKeyIdentifier,
  basicConstraints,
  certificate as certificateCodec,
  certificatePolicies,
  crlDistributionPoints,
  extKeyUsage,
  keyUsage,
  nameConstraints,
  generalNames,
  subjectKeyIdentifier,
  type AttributeValue,
  type Certificate,
  type GeneralName,
  type KeyUsageName,
  type Name,
} from '../asn1/definitions/x509.js';
import { publicKeyFromPoint, type EcCurve } from '../crypto/ecdsa.js';
import { PkiError } from './errors.js';

/** GSMA RSP role object identifiers (RSPDefinitions: id-rspRole = 2.23.146.1.2.1), carried as certificate policies. */
export const RSP_ROLE_OIDS = {
  ci: '2.23.146.1.2.1.0',
  euicc: '2.23.146.1.2.1.1',
  eum: '2.23.146.1.2.1.2',
  'dp-tls': '2.23.146.1.2.1.3',
  'dp-auth': '2.23.146.1.2.1.4',
  'dp-pb': '2.23.146.1.2.1.5',
  'ds-tls': '2.23.146.1.2.1.6',
  'ds-auth': '2.23.146.1.2.1.7',
} as const;

export type RspRole = keyof typeof RSP_ROLE_OIDS;

const ROLE_BY_OID: ReadonlyMap<string, RspRole> = new Map(
  (Object.entries(RSP_ROLE_OIDS) as [RspRole, string][]).map(([role, oid]) => [oid, role]),
);

/** Short names of name attributes as OpenSSL prints them (and as `-subj` style specifications use them). */
export const NAME_ATTRIBUTE_SHORT_NAMES: Readonly<Record<string, string>> = {
  [X509_OID.commonName]: 'CN',
  [X509_OID.surname]: 'SN',
  [X509_OID.serialNumber]: 'serialNumber',
  [X509_OID.countryName]: 'C',
  [X509_OID.localityName]: 'L',
  [X509_OID.stateOrProvinceName]: 'ST',
  [X509_OID.streetAddress]: 'street',
  [X509_OID.organizationName]: 'O',
  [X509_OID.organizationalUnitName]: 'OU',
  [X509_OID.title]: 'title',
  [X509_OID.givenName]: 'GN',
  [X509_OID.domainComponent]: 'DC',
  [X509_OID.emailAddress]: 'emailAddress',
};

const CURVE_BY_OID: ReadonlyMap<string, EcCurve> = new Map([
  [X509_OID.prime256v1, 'P-256'],
  [X509_OID.brainpoolP256r1, 'brainpoolP256r1'],
]);

export interface NameAttribute {
  /** Attribute type OID. */
  readonly type: string;
  /** CN, O, serialNumber...; undefined for types without a usual short name. */
  readonly shortName: string | undefined;
  /** The text of a string value; other value types as `#` and the hex of their DER (RFC 4514 2.4). */
  readonly value: string;
}

export interface DistinguishedName {
  /** The Name exactly as encoded: issuer/subject chaining compares these bytes. */
  readonly der: Buffer;
  readonly rdns: readonly (readonly NameAttribute[])[];
  /** One line, in encoding order: `C=ES, O=RSP Test EUM, CN=EUM Test`. */
  readonly text: string;
}

export interface CertificatePublicKey {
  readonly key: KeyObject;
  readonly curve: EcCurve;
  /** Uncompressed point 04 || x || y. */
  readonly point: Buffer;
  /** The SubjectPublicKeyInfo DER as received. */
  readonly spki: Buffer;
}

export interface SubjectAltNames {
  readonly names: readonly GeneralName[];
  readonly dnsNames: readonly string[];
  /** registeredID values: the SM-DP+ OID of DPauth/DPpb/DPtls certificates. */
  readonly registeredIds: readonly string[];
}

export interface ParsedNameConstraints {
  readonly permitted: readonly GeneralName[];
  readonly excluded: readonly GeneralName[];
}

export interface GsmaCertificate {
  readonly der: Buffer;
  /** The tbsCertificate bytes as received: the signed data. */
  readonly tbsDer: Buffer;
  readonly asn1: Certificate;
  readonly serialNumber: Buffer;
  readonly issuer: DistinguishedName;
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: CertificatePublicKey;
  /** The issuer's signature: a DER ECDSA-Sig-Value (ecdsa-with-SHA256). */
  readonly signature: Buffer;
  readonly subjectKeyIdentifier: Buffer | undefined;
  readonly authorityKeyIdentifier: Buffer | undefined;
  /** Undefined when the extension is absent. */
  readonly keyUsage: readonly KeyUsageName[] | undefined;
  readonly basicConstraints: { readonly ca: boolean; readonly pathLength: number | undefined } | undefined;
  /** Certificate policy OIDs, in order. */
  readonly policies: readonly string[];
  /** The GSMA roles among the policies. */
  readonly roles: readonly RspRole[];
  readonly subjectAltName: SubjectAltNames | undefined;
  readonly nameConstraints: ParsedNameConstraints | undefined;
  readonly extendedKeyUsage: readonly string[] | undefined;
  /** URIs of the CRL distribution points. */
  readonly crlDistributionPoints: readonly string[];
  /** The EID: the subject serialNumber of a certificate with the eUICC role (SGP.22 4.5.2.1.0.2). */
  readonly eid: string | undefined;
  /** Issuer and subject are the same name (a CI). */
  readonly selfIssued: boolean;
}

function malformed(message: string, cause?: unknown): PkiError {
  return new PkiError('MALFORMED', message, cause === undefined ? undefined : { cause });
}

function attributeText(value: AttributeValue): string {
  return value.type === 'other' ? `#${value.value.toString('hex')}` : value.value;
}

/** The typed view of a Name. */
export function distinguishedName(n: Name): DistinguishedName {
  const rdns = n.value.map((rdn) =>
    rdn.map((atv) => ({ type: atv.type, shortName: NAME_ATTRIBUTE_SHORT_NAMES[atv.type], value: attributeText(atv.value) })),
  );
  const text = rdns.map((rdn) => rdn.map((a) => `${a.shortName ?? a.type}=${a.value}`).join(' + ')).join(', ');
  return { der: n.der, rdns, text };
}

/** The first value of an attribute type (an OID) in a name. */
export function nameAttribute(dn: DistinguishedName, type: string): string | undefined {
  for (const rdn of dn.rdns) for (const a of rdn) if (a.type === type) return a.value;
  return undefined;
}

function decodeExtension<T>(oidName: string, codec: Codec<T>, value: Buffer): T {
  try {
    return decode(codec, value);
  } catch (e) {
    if (e instanceof Asn1Error) throw malformed(`extension ${oidName}: ${e.message}`, e);
    throw e;
  }
}

function keyUsageNames(bits: readonly number[]): KeyUsageName[] {
  return (Object.entries(KEY_USAGE_BITS) as [KeyUsageName, number][]).filter(([, bit]) => bits.includes(bit)).map(([n]) => n);
}

function uris(names: readonly GeneralName[]): string[] {
  return names.flatMap((n) => (n.type === 'uniformResourceIdentifier' ? [n.value] : []));
}

function parsePublicKey(c: Certificate): CertificatePublicKey {
  const spki = c.tbsCertificate.value.subjectPublicKeyInfo;
  const { algorithm, subjectPublicKey } = spki.value;
  if (algorithm.algorithm !== X509_OID.ecPublicKey) {
    throw new PkiError('UNSUPPORTED_ALGORITHM', `public key algorithm ${algorithm.algorithm} is not id-ecPublicKey`);
  }
  const curveOid = algorithm.parameters?.type === 'oid' ? algorithm.parameters.value : undefined;
  const curve = curveOid === undefined ? undefined : CURVE_BY_OID.get(curveOid);
  if (curve === undefined) {
    throw new PkiError('UNSUPPORTED_ALGORITHM', `EC key on ${curveOid ?? 'unnamed parameters'}: only P-256 and brainpoolP256r1 are supported`);
  }
  if (subjectPublicKey.unusedBits !== 0) throw malformed('subjectPublicKey BIT STRING has unused bits');
  const point = subjectPublicKey.bytes;
  if (point[0] !== 0x04) throw new PkiError('UNSUPPORTED_ALGORITHM', 'only uncompressed EC points are supported');
  let key: KeyObject;
  try {
    key = publicKeyFromPoint(curve, point);
  } catch (e) {
    throw malformed(`subjectPublicKey is not a valid ${curve} point`, e);
  }
  return { key, curve, point: Buffer.from(point), spki: spki.der };
}

function checkSignatureAlgorithm(c: Certificate): void {
  const outer = c.signatureAlgorithm;
  const inner = c.tbsCertificate.value.signature;
  if (outer.algorithm !== inner.algorithm) {
    throw malformed('signatureAlgorithm differs from tbsCertificate.signature (RFC 5280 4.1.1.2)');
  }
  if (outer.algorithm !== X509_OID.ecdsaWithSha256) {
    throw new PkiError('UNSUPPORTED_ALGORITHM', `signature algorithm ${outer.algorithm} is not ecdsa-with-SHA256`);
  }
  if (outer.parameters !== undefined || inner.parameters !== undefined) {
    throw malformed('ecdsa-with-SHA256 must have absent parameters (RFC 5758 3.2)');
  }
  if (c.signatureValue.unusedBits !== 0) throw malformed('signatureValue BIT STRING has unused bits');
}

interface ExtensionFields {
  subjectKeyIdentifier?: Buffer;
  authorityKeyIdentifier?: Buffer;
  keyUsage?: KeyUsageName[];
  basicConstraints?: { ca: boolean; pathLength: number | undefined };
  policies: string[];
  subjectAltName?: SubjectAltNames;
  nameConstraints?: ParsedNameConstraints;
  extendedKeyUsage?: string[];
  crlDistributionPoints: string[];
}

/** Decoders of the extensions this module processes; any other critical extension is rejected. */
const EXTENSION_HANDLERS: Readonly<Record<string, (value: Buffer, out: ExtensionFields) => void>> = {
  [X509_OID.subjectKeyIdentifier]: (v, out) => {
    out.subjectKeyIdentifier = decodeExtension('subjectKeyIdentifier', subjectKeyIdentifier, v);
  },
  [X509_OID.authorityKeyIdentifier]: (v, out) => {
    out.authorityKeyIdentifier = decodeExtension('authorityKeyIdentifier', authorityKeyIdentifier, v).keyIdentifier;
  },
  [X509_OID.keyUsage]: (v, out) => {
    out.keyUsage = keyUsageNames(decodeExtension('keyUsage', keyUsage, v));
  },
  [X509_OID.basicConstraints]: (v, out) => {
    const bc = decodeExtension('basicConstraints', basicConstraints, v);
    if (bc.pathLenConstraint !== undefined && !bc.cA) throw malformed('basicConstraints pathLenConstraint without cA (RFC 5280 4.2.1.9)');
    out.basicConstraints = { ca: bc.cA === true, pathLength: bc.pathLenConstraint };
  },
  [X509_OID.certificatePolicies]: (v, out) => {
    out.policies = decodeExtension('certificatePolicies', certificatePolicies, v).map((p) => p.policyIdentifier);
  },
  [X509_OID.subjectAltName]: (v, out) => {
    const names = decodeExtension('subjectAltName', generalNames, v);
    out.subjectAltName = {
      names,
      dnsNames: names.flatMap((n) => (n.type === 'dNSName' ? [n.value] : [])),
      registeredIds: names.flatMap((n) => (n.type === 'registeredID' ? [n.value] : [])),
    };
  },
  [X509_OID.nameConstraints]: (v, out) => {
    const nc = decodeExtension('nameConstraints', nameConstraints, v);
    const subtrees = [...(nc.permittedSubtrees ?? []), ...(nc.excludedSubtrees ?? [])];
    if (subtrees.some((s) => (s.minimum ?? 0) !== 0 || s.maximum !== undefined)) {
      throw malformed('nameConstraints with minimum or maximum (RFC 5280 4.2.1.10 forbids them)');
    }
    out.nameConstraints = {
      permitted: (nc.permittedSubtrees ?? []).map((s) => s.base),
      excluded: (nc.excludedSubtrees ?? []).map((s) => s.base),
    };
  },
  [X509_OID.extKeyUsage]: (v, out) => {
    out.extendedKeyUsage = decodeExtension('extKeyUsage', extKeyUsage, v);
  },
  [X509_OID.crlDistributionPoints]: (v, out) => {
    out.crlDistributionPoints = decodeExtension('crlDistributionPoints', crlDistributionPoints, v).flatMap((dp) =>
      dp.distributionPoint?.type === 'fullName' ? uris(dp.distributionPoint.value) : [],
    );
  },
};

function parseExtensions(c: Certificate): ExtensionFields {
  const out: ExtensionFields = { policies: [], crlDistributionPoints: [] };
  const seen = new Set<string>();
  for (const ext of c.tbsCertificate.value.extensions ?? []) {
    if (seen.has(ext.extnID)) throw malformed(`extension ${ext.extnID} appears twice (RFC 5280 4.2)`);
    seen.add(ext.extnID);
    const handler = Object.hasOwn(EXTENSION_HANDLERS, ext.extnID) ? EXTENSION_HANDLERS[ext.extnID] : undefined;
    if (handler !== undefined) handler(ext.extnValue, out);
    else if (ext.critical) throw new PkiError('UNKNOWN_CRITICAL_EXTENSION', `unknown critical extension ${ext.extnID}`);
  }
  return out;
}

/**
 * Parses a DER certificate of the GSMA RSP PKI. Throws PkiError: MALFORMED (not strict DER X.509 v3, or a
 * processed extension is malformed), UNSUPPORTED_ALGORITHM (not ECDSA-SHA256 over P-256/brainpoolP256r1),
 * UNKNOWN_CRITICAL_EXTENSION.
 */
export function parseCertificate(der: Uint8Array): GsmaCertificate {
  let c: Certificate;
  try {
    c = decode(certificateCodec, der);
  } catch (e) {
    if (e instanceof Asn1Error) throw malformed(`not a DER X.509 certificate: ${e.message}`, e);
    throw e;
  }
  const tbs = c.tbsCertificate.value;
  if (tbs.version !== 2) throw malformed(`X.509 v${(tbs.version ?? 0) + 1} certificate: SGP.22 requires v3`);
  checkSignatureAlgorithm(c);
  const publicKey = parsePublicKey(c);
  const ext = parseExtensions(c);
  const issuer = distinguishedName(tbs.issuer);
  const subject = distinguishedName(tbs.subject);
  const roles = ext.policies.flatMap((p) => {
    const role = ROLE_BY_OID.get(p);
    return role === undefined ? [] : [role];
  });
  return {
    der: Buffer.from(der),
    tbsDer: c.tbsCertificate.der,
    asn1: c,
    serialNumber: tbs.serialNumber,
    issuer,
    subject,
    notBefore: tbs.validity.notBefore.value,
    notAfter: tbs.validity.notAfter.value,
    publicKey,
    // A copy: the parsed certificate shares no memory with the caller's DER (signature checks are remembered per object).
    signature: Buffer.from(c.signatureValue.bytes),
    subjectKeyIdentifier: ext.subjectKeyIdentifier,
    authorityKeyIdentifier: ext.authorityKeyIdentifier,
    keyUsage: ext.keyUsage,
    basicConstraints: ext.basicConstraints,
    policies: ext.policies,
    roles,
    subjectAltName: ext.subjectAltName,
    nameConstraints: ext.nameConstraints,
    extendedKeyUsage: ext.extendedKeyUsage,
    crlDistributionPoints: ext.crlDistributionPoints,
    eid: roles.includes('euicc') ? nameAttribute(subject, X509_OID.serialNumber) : undefined,
    selfIssued: issuer.der.equals(subject.der),
  };
}

/** Accepts PEM (one or more CERTIFICATE blocks) or DER; returns the DER of each certificate. */
export function certificatesFromFile(data: Buffer): Buffer[] {
  const blocks = derBlocks(data, 'CERTIFICATE');
  if (blocks.length === 0) throw malformed('PEM input without a CERTIFICATE block');
  return blocks;
}

/** PEM encoding of a DER certificate. */
export function certificateToPem(der: Uint8Array): string {
  return toPem(der, 'CERTIFICATE');
}
