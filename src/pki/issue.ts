// Certificate issuance: RFC 5280 4.1 TBSCertificate encoding and extensions, signed ECDSA-with-SHA256 (SGP.22 4.5.2.1).
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { capture, encode } from '../asn1/schema.js';
import { encodeBigInteger } from '../asn1/primitives.js';
import {
  KEY_USAGE_BITS,
  X509_OID,
  authorityKeyIdentifier,
  basicConstraints,
  certificate as certificateCodec,
  certificatePolicies,
  crlDistributionPoints,
  extKeyUsage,
  generalNames,
  keyUsage,
  nameConstraints,
  rdnSequence,
  subjectKeyIdentifier,
  subjectPublicKeyInfo,
  tbsCertificate,
  timeFor,
  type AttributeTypeAndValue,
  type Extension,
  type GeneralName,
  type KeyUsageName,
  type Name,
} from '../asn1/definitions/x509.js';
import { curveOfKey, pointFromPublicKey, signDer } from '../crypto/ecdsa.js';
import { NAME_ATTRIBUTE_SHORT_NAMES } from './certificate.js';

const CURVE_OIDS = { 'P-256': X509_OID.prime256v1, brainpoolP256r1: X509_OID.brainpoolP256r1 } as const;

const OID_BY_SHORT_NAME: ReadonlyMap<string, string> = new Map(
  Object.entries(NAME_ATTRIBUTE_SHORT_NAMES).map(([oid, short]) => [short, oid]),
);

/** X.520 types whose values are PrintableString; all others are written as UTF8String (RFC 5280 4.1.2.4). */
const PRINTABLE_TYPES: ReadonlySet<string> = new Set([X509_OID.countryName, X509_OID.serialNumber]);

/** A name as a list of single-attribute RDNs, in encoding order: `[['C', 'ES'], ['O', 'ACME'], ['CN', 'x']]`. */
export type NameSpec = readonly (readonly [type: string, value: string])[];

/** Builds a Name from short names (CN, O, serialNumber...) or dotted OIDs. */
export function buildName(spec: NameSpec): Name {
  const rdns = spec.map(([type, value]): AttributeTypeAndValue[] => {
    const oid = OID_BY_SHORT_NAME.get(type) ?? type;
    return [{ type: oid, value: PRINTABLE_TYPES.has(oid) ? { type: 'printableString', value } : { type: 'utf8String', value } }];
  });
  return capture(rdnSequence, rdns);
}

/** An extension to put into a certificate: its OID, criticality and the DER of its value. */
export interface ExtensionSpec {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Buffer;
}

/** Key identifier per RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits (the EC point). */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(pointFromPublicKey(publicKey)).digest();
}

/** Builders of the RFC 5280 4.2.1 extensions the GSMA certificate profiles use. */
export const extensions = {
  subjectKeyIdentifier(keyId: Buffer): ExtensionSpec {
    return { oid: X509_OID.subjectKeyIdentifier, critical: false, value: encode(subjectKeyIdentifier, keyId) };
  },
  authorityKeyIdentifier(keyId: Buffer): ExtensionSpec {
    return { oid: X509_OID.authorityKeyIdentifier, critical: false, value: encode(authorityKeyIdentifier, { keyIdentifier: keyId }) };
  },
  keyUsage(usages: readonly KeyUsageName[], critical = true): ExtensionSpec {
    return { oid: X509_OID.keyUsage, critical, value: encode(keyUsage, usages.map((u) => KEY_USAGE_BITS[u])) };
  },
  basicConstraints(ca: boolean, pathLength?: number, critical = true): ExtensionSpec {
    const value = encode(basicConstraints, ca ? { cA: true, pathLenConstraint: pathLength } : {});
    return { oid: X509_OID.basicConstraints, critical, value };
  },
  certificatePolicies(policyOids: readonly string[], critical = true): ExtensionSpec {
    const value = encode(certificatePolicies, policyOids.map((policyIdentifier) => ({ policyIdentifier })));
    return { oid: X509_OID.certificatePolicies, critical, value };
  },
  subjectAltName(names: readonly GeneralName[], critical = false): ExtensionSpec {
    return { oid: X509_OID.subjectAltName, critical, value: encode(generalNames, [...names]) };
  },
  /** Permitted directoryName subtrees, as SGP.22 4.5.2.1.0.2 has EUM certificates restrict their eUICCs' subjects. */
  nameConstraints(permittedNames: readonly Name[], critical = true): ExtensionSpec {
    const permittedSubtrees = permittedNames.map((value) => ({ base: { type: 'directoryName', value } as GeneralName }));
    return { oid: X509_OID.nameConstraints, critical, value: encode(nameConstraints, { permittedSubtrees }) };
  },
  extendedKeyUsage(purposes: readonly string[], critical = true): ExtensionSpec {
    return { oid: X509_OID.extKeyUsage, critical, value: encode(extKeyUsage, [...purposes]) };
  },
  crlDistributionPoints(urls: readonly string[]): ExtensionSpec {
    const points = urls.map((url) => ({
      distributionPoint: { type: 'fullName' as const, value: [{ type: 'uniformResourceIdentifier' as const, value: url }] },
    }));
    return { oid: X509_OID.crlDistributionPoints, critical: false, value: encode(crlDistributionPoints, points) };
  },
};

export interface CertificateTemplate {
  /** Positive serial number; a random 8-byte one when absent. */
  readonly serialNumber?: bigint;
  readonly issuer: Name;
  readonly subject: Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The subject's EC public key (a private key's public half is used when given a private key). */
  readonly subjectKey: KeyObject;
  readonly extensions: readonly ExtensionSpec[];
}

function randomSerial(): bigint {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return BigInt(`0x${bytes.toString('hex')}`);
}

/** Issues an X.509 v3 certificate: encodes the TBSCertificate and signs it with `signingKey` (DER ECDSA-SHA256). */
export function issueCertificate(template: CertificateTemplate, signingKey: KeyObject): Buffer {
  const serial = template.serialNumber ?? randomSerial();
  if (serial <= 0n) throw new RangeError('certificate serial numbers are positive (RFC 5280 4.1.2.2)');
  const signature = { algorithm: X509_OID.ecdsaWithSha256 };
  const spki = {
    algorithm: { algorithm: X509_OID.ecPublicKey, parameters: { type: 'oid' as const, value: CURVE_OIDS[curveOfKey(template.subjectKey)] } },
    subjectPublicKey: { bytes: pointFromPublicKey(template.subjectKey), unusedBits: 0 },
  };
  const exts: Extension[] = template.extensions.map((e) => ({
    extnID: e.oid,
    ...(e.critical ? { critical: true as const } : {}),
    extnValue: e.value,
  }));
  const tbs = capture(tbsCertificate, {
    version: 2,
    serialNumber: encodeBigInteger(serial),
    signature,
    issuer: template.issuer,
    validity: { notBefore: timeFor(template.notBefore), notAfter: timeFor(template.notAfter) },
    subject: template.subject,
    subjectPublicKeyInfo: capture(subjectPublicKeyInfo, spki),
    ...(exts.length > 0 ? { extensions: exts } : {}),
  });
  const signatureValue = { bytes: signDer(signingKey, tbs.der), unusedBits: 0 };
  return encode(certificateCodec, { tbsCertificate: tbs, signatureAlgorithm: signature, signatureValue });
}
