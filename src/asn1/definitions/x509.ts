// RFC 5280 4.1 (X.509 v3 Certificate) and 4.2.1 (the standard extensions SGP.22 4.5.2 uses) as typed DER codecs.
import { Asn1Error } from '../errors.js';
import * as prim from '../primitives.js';
import {
  alternative,
  anyElement,
  bitString,
  boundedInteger,
  captured,
  choice,
  explicit,
  field,
  ia5String,
  implicit,
  integerBytes,
  namedBits,
  nullValue,
  octetString,
  oid,
  optional,
  primitive,
  printableString,
  rawElement,
  sequence,
  sequenceOf,
  setOf,
  utcTime,
  generalizedTime,
  utf8String,
  type Captured,
  type Chosen,
  type Codec,
  type TaggedCodec,
} from '../schema.js';
import type { BitString } from '../primitives.js';

/** Object identifiers of RFC 5280, RFC 5480, RFC 5639 and X.520 that certificates in SGP.22/SGP.32 use. */
export const X509_OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  prime256v1: '1.2.840.10045.3.1.7',
  brainpoolP256r1: '1.3.36.3.3.2.8.1.1.7',
  commonName: '2.5.4.3',
  surname: '2.5.4.4',
  serialNumber: '2.5.4.5',
  countryName: '2.5.4.6',
  localityName: '2.5.4.7',
  stateOrProvinceName: '2.5.4.8',
  streetAddress: '2.5.4.9',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  title: '2.5.4.12',
  givenName: '2.5.4.42',
  domainComponent: '0.9.2342.19200300.100.1.25',
  emailAddress: '1.2.840.113549.1.9.1',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  kpServerAuth: '1.3.6.1.5.5.7.3.1',
  kpClientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

// ---- AlgorithmIdentifier (RFC 5280 4.1.1.2) ----

/** Parameters of an AlgorithmIdentifier: a named curve OID (RFC 5480 2.1.1), NULL, or anything else kept raw. */
export type AlgorithmParameters = Chosen<'oid', string> | Chosen<'null', null> | Chosen<'other', Buffer>;

export interface AlgorithmIdentifier {
  readonly algorithm: string;
  readonly parameters?: AlgorithmParameters;
}

const algorithmParameters = choice<AlgorithmParameters>('AlgorithmParameters', [
  alternative('oid', oid),
  alternative('null', nullValue),
  alternative('other', anyElement),
]);

export const algorithmIdentifier = sequence<AlgorithmIdentifier>('AlgorithmIdentifier', [
  field('algorithm', oid),
  optional('parameters', algorithmParameters),
]);

// ---- Name (RFC 5280 4.1.2.4) ----

/**
 * An attribute value: the DirectoryString alternatives certificates use in practice, decoded to text, and
 * any other type (TeletexString, BMPString, an arbitrary ASN.1 value) kept as its raw element.
 */
export type AttributeValue =
  | Chosen<'utf8String', string>
  | Chosen<'printableString', string>
  | Chosen<'ia5String', string>
  | Chosen<'other', Buffer>;

export interface AttributeTypeAndValue {
  readonly type: string;
  readonly value: AttributeValue;
}

/** RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue. */
export type RelativeDistinguishedName = readonly AttributeTypeAndValue[];

/** Name (the RDNSequence alternative), parsed and together with its exact DER (names are compared bytewise). */
export type Name = Captured<RelativeDistinguishedName[]>;

const attributeValue = choice<AttributeValue>('AttributeValue', [
  alternative('utf8String', utf8String),
  alternative('printableString', printableString),
  alternative('ia5String', ia5String),
  alternative('other', anyElement),
]);

// Input budgets (docs/architecture.md, The codec): RFC 5280 bounds its lists with SIZE (1..MAX); certificates reach
// the SM-DP+ from the network, so mcim bounds them, far above what a GSMA RSP certificate carries.
/** RDNs in a Name, attributes in one RDN. */
export const MAX_RDNS = 32;
export const MAX_RDN_ATTRIBUTES = 8;
/** Extensions of a certificate (or CRL, CRL entry), and the bytes of one extension's value. */
export const MAX_EXTENSIONS = 32;
export const MAX_EXTENSION_VALUE = 32 * 1024;
/** Names of a GeneralNames, subtrees of a name constraint, distribution points, policies and their qualifiers, key purposes. */
export const MAX_GENERAL_NAMES = 32;
export const MAX_SUBTREES = 32;
export const MAX_DISTRIBUTION_POINTS = 8;
export const MAX_POLICIES = 16;
export const MAX_POLICY_QUALIFIERS = 8;
export const MAX_KEY_PURPOSES = 16;
/** A key identifier (20 bytes by RFC 5280 4.2.1.2 method 1), an iPAddress (4 or 16 bytes, twice that in a constraint). */
export const MAX_KEY_IDENTIFIER = 64;
export const MAX_IP_ADDRESS = 32;

export const attributeTypeAndValue = sequence<AttributeTypeAndValue>('AttributeTypeAndValue', [
  field('type', oid),
  field('value', attributeValue),
]);

export const relativeDistinguishedName = setOf(attributeTypeAndValue, { min: 1, max: MAX_RDN_ATTRIBUTES }) as TaggedCodec<RelativeDistinguishedName>;

/** RDNSequence ::= SEQUENCE OF RelativeDistinguishedName (the only alternative of Name). */
export const rdnSequence = sequenceOf(relativeDistinguishedName, { max: MAX_RDNS });

export const name: Codec<Name> = captured(rdnSequence);

// ---- Validity (RFC 5280 4.1.2.5) ----

export type Time = Chosen<'utcTime', Date> | Chosen<'generalTime', Date>;

export const time = choice<Time>('Time', [alternative('utcTime', utcTime), alternative('generalTime', generalizedTime)]);

/** The Time encoding RFC 5280 4.1.2.5 mandates for a date: UTCTime for 1950 through 2049, GeneralizedTime otherwise. */
export function timeFor(date: Date): Time {
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? { type: 'utcTime', value: date } : { type: 'generalTime', value: date };
}

export interface Validity {
  readonly notBefore: Time;
  readonly notAfter: Time;
}

export const validity = sequence<Validity>('Validity', [field('notBefore', time), field('notAfter', time)]);

// ---- SubjectPublicKeyInfo (RFC 5280 4.1.2.7, RFC 5480 2) ----

export interface SubjectPublicKeyInfo {
  readonly algorithm: AlgorithmIdentifier;
  /** For id-ecPublicKey the ECPoint octets (04 || x || y when uncompressed). */
  readonly subjectPublicKey: BitString;
}

export const subjectPublicKeyInfo = sequence<SubjectPublicKeyInfo>('SubjectPublicKeyInfo', [
  field('algorithm', algorithmIdentifier),
  field('subjectPublicKey', bitString),
]);

// ---- Extensions (RFC 5280 4.1.2.9) ----

/** BOOLEAN that may only be TRUE: for components `BOOLEAN DEFAULT FALSE`, which DER omits when FALSE (X.690 11.5). */
const defaultFalseBoolean = primitive<true>(
  'BOOLEAN',
  0x01,
  (v) => {
    if (!prim.decodeBoolean(v)) throw new Asn1Error('INVALID_VALUE', 'BOOLEAN DEFAULT FALSE encoded as FALSE (DER omits default values)');
    return true;
  },
  () => prim.encodeBoolean(true),
);

export interface Extension {
  readonly extnID: string;
  /** Present (true) only for critical extensions: DER omits the default FALSE. */
  readonly critical?: true;
  /** The DER of the extension's own type. */
  readonly extnValue: Buffer;
}

export const extension = sequence<Extension>('Extension', [
  field('extnID', oid),
  optional('critical', defaultFalseBoolean),
  field('extnValue', octetString({ max: MAX_EXTENSION_VALUE })),
]);

export const extensions = sequenceOf(extension, { min: 1, max: MAX_EXTENSIONS });

// ---- TBSCertificate and Certificate (RFC 5280 4.1) ----

export interface TbsCertificate {
  /** 1 = v2, 2 = v3; absent for v1 (DER omits the DEFAULT). */
  readonly version?: number;
  /** The INTEGER's content octets exactly (serial numbers are compared, not computed with). */
  readonly serialNumber: Buffer;
  readonly signature: AlgorithmIdentifier;
  readonly issuer: Name;
  readonly validity: Validity;
  readonly subject: Name;
  readonly subjectPublicKeyInfo: Captured<SubjectPublicKeyInfo>;
  readonly issuerUniqueID?: BitString;
  readonly subjectUniqueID?: BitString;
  readonly extensions?: Extension[];
}

export const tbsCertificate = sequence<TbsCertificate>('TBSCertificate', [
  optional('version', explicit(0, boundedInteger(1, 2))),
  field('serialNumber', integerBytes),
  field('signature', algorithmIdentifier),
  field('issuer', name),
  field('validity', validity),
  field('subject', name),
  field('subjectPublicKeyInfo', captured(subjectPublicKeyInfo)),
  optional('issuerUniqueID', implicit(1, bitString)),
  optional('subjectUniqueID', implicit(2, bitString)),
  optional('extensions', explicit(3, extensions)),
]);

export interface Certificate {
  /** The signed part with the exact bytes it was received as: signatures are verified over `der`. */
  readonly tbsCertificate: Captured<TbsCertificate>;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly signatureValue: BitString;
}

export const certificate = sequence<Certificate>('Certificate', [
  field('tbsCertificate', captured(tbsCertificate)),
  field('signatureAlgorithm', algorithmIdentifier),
  field('signatureValue', bitString),
]);

// ---- GeneralName (RFC 5280 4.2.1.6) ----

export interface OtherName {
  readonly typeId: string;
  /** The value inside the [0] EXPLICIT wrapper, as its raw element. */
  readonly value: Buffer;
}

export type GeneralName =
  | Chosen<'otherName', OtherName>
  | Chosen<'rfc822Name', string>
  | Chosen<'dNSName', string>
  | Chosen<'x400Address', Buffer>
  | Chosen<'directoryName', Name>
  | Chosen<'ediPartyName', Buffer>
  | Chosen<'uniformResourceIdentifier', string>
  | Chosen<'iPAddress', Buffer>
  | Chosen<'registeredID', string>;

const otherName = sequence<OtherName>('OtherName', [field('typeId', oid), field('value', explicit(0, anyElement))]);

export const generalName = choice<GeneralName>('GeneralName', [
  alternative('otherName', implicit(0, otherName)),
  alternative('rfc822Name', implicit(1, ia5String)),
  alternative('dNSName', implicit(2, ia5String)),
  alternative('x400Address', rawElement(0xa3, 'x400Address')),
  // Name is a CHOICE, so its [4] tag is explicit even in the IMPLICIT TAGS module.
  alternative('directoryName', explicit(4, name)),
  alternative('ediPartyName', rawElement(0xa5, 'ediPartyName')),
  alternative('uniformResourceIdentifier', implicit(6, ia5String)),
  alternative('iPAddress', implicit(7, octetString({ max: MAX_IP_ADDRESS }))),
  alternative('registeredID', implicit(8, oid)),
]);

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName (the value of subjectAltName and issuerAltName). */
export const generalNames = sequenceOf(generalName, { min: 1, max: MAX_GENERAL_NAMES });

// ---- Extension value types (RFC 5280 4.2.1) ----

/** SubjectKeyIdentifier ::= KeyIdentifier ::= OCTET STRING (4.2.1.2). */
export const subjectKeyIdentifier = octetString({ max: MAX_KEY_IDENTIFIER });

export interface AuthorityKeyIdentifier {
  readonly keyIdentifier?: Buffer;
  readonly authorityCertIssuer?: GeneralName[];
  readonly authorityCertSerialNumber?: Buffer;
}

/** AuthorityKeyIdentifier (4.2.1.1). */
export const authorityKeyIdentifier = sequence<AuthorityKeyIdentifier>('AuthorityKeyIdentifier', [
  optional('keyIdentifier', implicit(0, octetString({ max: MAX_KEY_IDENTIFIER }))),
  optional('authorityCertIssuer', implicit(1, generalNames)),
  optional('authorityCertSerialNumber', implicit(2, integerBytes)),
]);

/** KeyUsage bit positions (4.2.1.3). */
export const KEY_USAGE_BITS = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;

export type KeyUsageName = keyof typeof KEY_USAGE_BITS;

/** KeyUsage ::= BIT STRING { ... } as the set bit positions (4.2.1.3). */
export const keyUsage = namedBits;

export interface PolicyInformation {
  readonly policyIdentifier: string;
  /** PolicyQualifierInfo elements kept raw: SGP.22 defines none. */
  readonly policyQualifiers?: Buffer[];
}

/** CertificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation (4.2.1.4). */
export const certificatePolicies = sequenceOf(
  sequence<PolicyInformation>('PolicyInformation', [
    field('policyIdentifier', oid),
    optional('policyQualifiers', sequenceOf(anyElement, { min: 1, max: MAX_POLICY_QUALIFIERS })),
  ]),
  { min: 1, max: MAX_POLICIES },
);

export interface BasicConstraints {
  readonly cA?: true;
  readonly pathLenConstraint?: number;
}

/** BasicConstraints (4.2.1.9). */
export const basicConstraints = sequence<BasicConstraints>('BasicConstraints', [
  optional('cA', defaultFalseBoolean),
  optional('pathLenConstraint', boundedInteger(0, Number.MAX_SAFE_INTEGER)),
]);

export interface GeneralSubtree {
  readonly base: GeneralName;
  readonly minimum?: number;
  readonly maximum?: number;
}

export interface NameConstraints {
  readonly permittedSubtrees?: GeneralSubtree[];
  readonly excludedSubtrees?: GeneralSubtree[];
}

const generalSubtrees = sequenceOf(
  sequence<GeneralSubtree>('GeneralSubtree', [
    field('base', generalName),
    optional('minimum', implicit(0, boundedInteger(0, Number.MAX_SAFE_INTEGER))),
    optional('maximum', implicit(1, boundedInteger(0, Number.MAX_SAFE_INTEGER))),
  ]),
  { min: 1, max: MAX_SUBTREES },
);

/** NameConstraints (4.2.1.10). */
export const nameConstraints = sequence<NameConstraints>('NameConstraints', [
  optional('permittedSubtrees', implicit(0, generalSubtrees)),
  optional('excludedSubtrees', implicit(1, generalSubtrees)),
]);

/** ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (4.2.1.12). */
export const extKeyUsage = sequenceOf(oid, { min: 1, max: MAX_KEY_PURPOSES });

export type DistributionPointName =
  | Chosen<'fullName', GeneralName[]>
  | Chosen<'nameRelativeToCRLIssuer', RelativeDistinguishedName>;

export interface DistributionPoint {
  readonly distributionPoint?: DistributionPointName;
  readonly reasons?: number[];
  readonly cRLIssuer?: GeneralName[];
}

const distributionPointName = choice<DistributionPointName>('DistributionPointName', [
  alternative('fullName', implicit(0, generalNames)),
  alternative('nameRelativeToCRLIssuer', implicit(1, relativeDistinguishedName)),
]);

/** CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint (4.2.1.13). */
export const crlDistributionPoints = sequenceOf(
  sequence<DistributionPoint>('DistributionPoint', [
    // DistributionPointName is a CHOICE: its [0] tag is explicit.
    optional('distributionPoint', explicit(0, distributionPointName)),
    optional('reasons', implicit(1, namedBits)),
    optional('cRLIssuer', implicit(2, generalNames)),
  ]),
  { min: 1, max: MAX_DISTRIBUTION_POINTS },
);

// ---- CertificateList (RFC 5280 5.1) ----

/** Further OIDs of RFC 5280 5.2 / 5.3 (CRL and CRL entry extensions) and SGP.22 (id-rspExt) that CRLs may carry. */
export const CRL_OID = {
  cRLNumber: '2.5.29.20',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCRL: '2.5.29.46',
  reasonCode: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  certificateIssuer: '2.5.29.29',
  /** SGP.22 RSPDefinitions id-rsp-totalPartialCrlNumber / id-rsp-partialCrlNumber (segmented CRLs). */
  rspTotalPartialCrlNumber: '2.23.146.1.2.0.2',
  rspPartialCrlNumber: '2.23.146.1.2.0.3',
} as const;

/**
 * mcim's bound on revokedCertificates in one CRL as a message definition (RFC 5280 sets none): enough for any GSMA
 * CI or EUM CRL; the revocation store applies a lower configurable bound.
 */
export const CRL_MAX_ENTRIES = 100_000;

export interface RevokedCertificate {
  /** The INTEGER's content octets (compared with certificates' serialNumber bytes). */
  readonly userCertificate: Buffer;
  readonly revocationDate: Time;
  readonly crlEntryExtensions?: Extension[];
}

export const revokedCertificate = sequence<RevokedCertificate>('RevokedCertificate', [
  field('userCertificate', integerBytes),
  field('revocationDate', time),
  optional('crlEntryExtensions', extensions),
]);

export interface TbsCertList {
  /** 1 = v2 (the only value allowed when present). */
  readonly version?: number;
  readonly signature: AlgorithmIdentifier;
  readonly issuer: Name;
  readonly thisUpdate: Time;
  readonly nextUpdate?: Time;
  /** Absent when no certificate is revoked (RFC 5280 5.1.2.6: an empty list is omitted). */
  readonly revokedCertificates?: RevokedCertificate[];
  readonly crlExtensions?: Extension[];
}

export const tbsCertList = sequence<TbsCertList>('TBSCertList', [
  optional('version', boundedInteger(1, 1)),
  field('signature', algorithmIdentifier),
  field('issuer', name),
  field('thisUpdate', time),
  optional('nextUpdate', time),
  optional('revokedCertificates', sequenceOf(revokedCertificate, { min: 1, max: CRL_MAX_ENTRIES })),
  optional('crlExtensions', explicit(0, extensions)),
]);

export interface CertificateList {
  /** The signed part with its received bytes: the CRL signature is verified over `der`. */
  readonly tbsCertList: Captured<TbsCertList>;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly signatureValue: BitString;
}

/** CertificateList (RFC 5280 5.1): an X.509 v2 CRL. */
export const certificateList = sequence<CertificateList>('CertificateList', [
  field('tbsCertList', captured(tbsCertList)),
  field('signatureAlgorithm', algorithmIdentifier),
  field('signatureValue', bitString),
]);

/** CRLNumber ::= INTEGER (0..MAX) (5.2.3), as its content octets. */
export const crlNumber = integerBytes;

export interface IssuingDistributionPoint {
  readonly distributionPoint?: DistributionPointName;
  readonly onlyContainsUserCerts?: true;
  readonly onlyContainsCACerts?: true;
  readonly onlySomeReasons?: number[];
  readonly indirectCRL?: true;
  readonly onlyContainsAttributeCerts?: true;
}

/** IssuingDistributionPoint (5.2.5). */
export const issuingDistributionPoint = sequence<IssuingDistributionPoint>('IssuingDistributionPoint', [
  optional('distributionPoint', explicit(0, distributionPointName)),
  optional('onlyContainsUserCerts', implicit(1, defaultFalseBoolean)),
  optional('onlyContainsCACerts', implicit(2, defaultFalseBoolean)),
  optional('onlySomeReasons', implicit(3, namedBits)),
  optional('indirectCRL', implicit(4, defaultFalseBoolean)),
  optional('onlyContainsAttributeCerts', implicit(5, defaultFalseBoolean)),
]);
