// RFC 5280 5 (CRL profile) and 6.3 (CRL processing) as the GSMA RSP PKI uses them (SGP.22 4.6): parsing, issuer checks, lookup, issuing.
import { derBlocks, toPem } from './pem.js';
import type { KeyObject } from 'node:crypto';
import { Asn1Error } from '../asn1/errors.js';
import { decodeBigInteger, encodeBigInteger, encodeInteger } from '../asn1/primitives.js';
import { capture, decode, encode, type Codec } from '../asn1/schema.js';
import {
  CRL_MAX_ENTRIES,
  CRL_OID,
  X509_OID,
  authorityKeyIdentifier,
  certificateList,
  crlNumber as crlNumberCodec,
  issuingDistributionPoint,
  tbsCertList,
  timeFor,
  type CertificateList,
  type Extension,
  type RevokedCertificate,
} from '../asn1/definitions/x509.js';
import { signDer, verifyDer } from '../crypto/ecdsa.js';
import { distinguishedName, type DistinguishedName, type GsmaCertificate } from './certificate.js';
import { PkiError } from './errors.js';

/** Bounds on one CRL: its DER size and its number of revoked entries. */
export interface CrlLimits {
  readonly maxBytes: number;
  readonly maxEntries: number;
}

/** 1 MiB and 50,000 entries: a GSMA CI or EUM CRL is a few KB; each entry is at least ~25 bytes. */
export const DEFAULT_CRL_LIMITS: CrlLimits = Object.freeze({ maxBytes: 1024 * 1024, maxEntries: 50_000 });

/** Which certificates a CRL covers (its issuingDistributionPoint scope, RFC 5280 5.2.5). */
export type CrlScope = 'all' | 'end-entity' | 'ca';

export interface ParsedCrl {
  readonly der: Buffer;
  /** The tbsCertList bytes as received: the signed data. */
  readonly tbsDer: Buffer;
  readonly issuer: DistinguishedName;
  readonly authorityKeyIdentifier: Buffer | undefined;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** cRLNumber (RFC 5280 5.2.3), when present. */
  readonly crlNumber: bigint | undefined;
  /** The revoked serial numbers (hex of the INTEGER content octets, as certificates carry them). */
  readonly revoked: ReadonlySet<string>;
  readonly scope: CrlScope;
  /** URIs of the issuingDistributionPoint's fullName, if any: the CRL covers only certificates pointing there. */
  readonly distributionPoints: readonly string[];
  /** DER ECDSA-Sig-Value. */
  readonly signature: Buffer;
}

function malformed(message: string, cause?: unknown): PkiError {
  return new PkiError('CRL_MALFORMED', message, cause === undefined ? undefined : { cause });
}

function unsupported(message: string): PkiError {
  return new PkiError('CRL_UNSUPPORTED', message);
}

function decodeExt<T>(what: string, codec: Codec<T>, value: Buffer): T {
  try {
    return decode(codec, value);
  } catch (e) {
    if (e instanceof Asn1Error) throw malformed(`CRL extension ${what}: ${e.message}`, e);
    throw e;
  }
}

/** Entry extensions (5.3) mcim reads past: reasonCode and invalidityDate inform, they never change the verdict. */
const KNOWN_ENTRY_EXTENSIONS: ReadonlySet<string> = new Set([CRL_OID.reasonCode, CRL_OID.invalidityDate]);

function checkEntry(entry: RevokedCertificate): void {
  for (const ext of entry.crlEntryExtensions ?? []) {
    if (ext.critical && !KNOWN_ENTRY_EXTENSIONS.has(ext.extnID)) {
      // certificateIssuer (indirect CRLs) and any other critical entry extension (RFC 5280 5.3).
      throw unsupported(`CRL entry with the critical extension ${ext.extnID}`);
    }
  }
}

interface CrlExtensionFields {
  authorityKeyIdentifier?: Buffer;
  crlNumber?: bigint;
  scope: CrlScope;
  distributionPoints: string[];
}

function parseCrlExtensions(exts: readonly Extension[]): CrlExtensionFields {
  const out: CrlExtensionFields = { scope: 'all', distributionPoints: [] };
  const seen = new Set<string>();
  for (const ext of exts) {
    if (seen.has(ext.extnID)) throw malformed(`CRL extension ${ext.extnID} appears twice (RFC 5280 5.2)`);
    seen.add(ext.extnID);
    switch (ext.extnID) {
      case X509_OID.authorityKeyIdentifier:
        out.authorityKeyIdentifier = decodeExt('authorityKeyIdentifier', authorityKeyIdentifier, ext.extnValue).keyIdentifier;
        break;
      case CRL_OID.cRLNumber: {
        const n = decodeBigInteger(decodeExt('cRLNumber', crlNumberCodec, ext.extnValue));
        if (n < 0n) throw malformed('cRLNumber is negative (RFC 5280 5.2.3)');
        out.crlNumber = n;
        break;
      }
      case CRL_OID.issuingDistributionPoint: {
        const idp = decodeExt('issuingDistributionPoint', issuingDistributionPoint, ext.extnValue);
        if (idp.indirectCRL) throw unsupported('indirect CRL (issuingDistributionPoint indirectCRL)');
        if (idp.onlySomeReasons !== undefined) throw unsupported('CRL scoped by reasons (issuingDistributionPoint onlySomeReasons)');
        if (idp.onlyContainsAttributeCerts) throw unsupported('CRL of attribute certificates');
        if (idp.onlyContainsUserCerts && idp.onlyContainsCACerts) throw malformed('issuingDistributionPoint asserts both user and CA certificates only');
        out.scope = idp.onlyContainsUserCerts ? 'end-entity' : idp.onlyContainsCACerts ? 'ca' : 'all';
        if (idp.distributionPoint?.type === 'fullName') {
          out.distributionPoints = idp.distributionPoint.value.flatMap((n) => (n.type === 'uniformResourceIdentifier' ? [n.value] : []));
        } else if (idp.distributionPoint !== undefined) {
          throw unsupported('issuingDistributionPoint named relative to the CRL issuer');
        }
        break;
      }
      case CRL_OID.deltaCRLIndicator:
        throw unsupported('delta CRL (deltaCRLIndicator): mcim loads complete CRLs only');
      case CRL_OID.rspTotalPartialCrlNumber:
      case CRL_OID.rspPartialCrlNumber:
        throw unsupported('partial CRL (SGP.22 id-rsp-totalPartialCrlNumber / id-rsp-partialCrlNumber): mcim loads complete CRLs only');
      default:
        if (ext.critical) throw unsupported(`CRL with the unknown critical extension ${ext.extnID}`);
    }
  }
  return out;
}

/**
 * Parses a DER CRL within `limits`. Throws PkiError: CRL_TOO_LARGE (bytes or entries), CRL_MALFORMED (not strict
 * DER X.509 v2, no nextUpdate, a bad extension), CRL_UNSUPPORTED (algorithm other than ecdsa-with-SHA256, delta,
 * partial, indirect or reason-scoped CRLs, unknown critical extensions).
 */
export function parseCrl(der: Uint8Array, limits: CrlLimits = DEFAULT_CRL_LIMITS): ParsedCrl {
  if (der.length > limits.maxBytes) throw new PkiError('CRL_TOO_LARGE', `a CRL of ${der.length} bytes (limit ${limits.maxBytes})`);
  let c: CertificateList;
  try {
    // An entry with reasonCode and invalidityDate is 11 elements: the element budget follows the entry bound.
    c = decode(certificateList, der, { maxSize: limits.maxBytes, maxElements: 256 + 16 * Math.min(limits.maxEntries, CRL_MAX_ENTRIES) });
  } catch (e) {
    if (e instanceof Asn1Error) {
      if (e.code === 'TOO_MANY_ELEMENTS') throw new PkiError('CRL_TOO_LARGE', `a CRL with more elements than ${limits.maxEntries} entries allow`, { cause: e });
      throw malformed(`not a DER X.509 CRL: ${e.message}`, e);
    }
    throw e;
  }
  const tbs = c.tbsCertList.value;
  const entries = tbs.revokedCertificates ?? [];
  if (entries.length > limits.maxEntries) throw new PkiError('CRL_TOO_LARGE', `a CRL with ${entries.length} entries (limit ${limits.maxEntries})`);
  const hasExtensions = tbs.crlExtensions !== undefined || entries.some((e) => e.crlEntryExtensions !== undefined);
  if (hasExtensions && tbs.version !== 1) throw malformed('a CRL with extensions must be v2 (RFC 5280 5.1.2.1)');
  if (c.signatureAlgorithm.algorithm !== tbs.signature.algorithm) throw malformed('signatureAlgorithm differs from tbsCertList.signature (RFC 5280 5.1.1.2)');
  if (c.signatureAlgorithm.algorithm !== X509_OID.ecdsaWithSha256) throw unsupported(`CRL signature algorithm ${c.signatureAlgorithm.algorithm} is not ecdsa-with-SHA256`);
  if (c.signatureAlgorithm.parameters !== undefined || tbs.signature.parameters !== undefined) throw malformed('ecdsa-with-SHA256 must have absent parameters');
  if (c.signatureValue.unusedBits !== 0) throw malformed('CRL signatureValue BIT STRING has unused bits');
  if (tbs.nextUpdate === undefined) throw malformed('a CRL without nextUpdate (RFC 5280 5.1.2.5 requires it)');
  const ext = parseCrlExtensions(tbs.crlExtensions ?? []);
  const revoked = new Set<string>();
  for (const entry of entries) {
    checkEntry(entry);
    revoked.add(entry.userCertificate.toString('hex'));
  }
  return {
    der: Buffer.from(der),
    tbsDer: c.tbsCertList.der,
    issuer: distinguishedName(tbs.issuer),
    authorityKeyIdentifier: ext.authorityKeyIdentifier,
    thisUpdate: tbs.thisUpdate.value,
    nextUpdate: tbs.nextUpdate.value,
    crlNumber: ext.crlNumber,
    revoked,
    scope: ext.scope,
    distributionPoints: ext.distributionPoints,
    signature: Buffer.from(c.signatureValue.bytes),
  };
}

/**
 * RFC 5280 6.3.3 (f), (g): `issuer` signed `crl` — the CRL's issuer name is its subject, the CRL's authority key
 * identifier (when present) its subject key identifier, its key usage allows CRL signing, and the signature verifies
 * over the received tbsCertList. The SGP.22 EUM certificate profile (SGP.26 instantiates it) asserts keyCertSign
 * without cRLSign, so for an EUM keyCertSign is accepted. Throws CRL_ISSUER_MISMATCH or CRL_BAD_SIGNATURE.
 */
export function verifyCrlIssuer(crl: ParsedCrl, issuer: GsmaCertificate): void {
  if (!crl.issuer.der.equals(issuer.subject.der)) {
    throw new PkiError('CRL_ISSUER_MISMATCH', `the CRL of '${crl.issuer.text}' is not issued by '${issuer.subject.text}'`, { certificate: issuer });
  }
  const ski = issuer.subjectKeyIdentifier;
  if (crl.authorityKeyIdentifier !== undefined && (ski === undefined || !crl.authorityKeyIdentifier.equals(ski))) {
    throw new PkiError(
      'CRL_ISSUER_MISMATCH',
      `the CRL's authority key identifier ${crl.authorityKeyIdentifier.toString('hex')} is not that of '${issuer.subject.text}'`,
      { certificate: issuer },
    );
  }
  const usage = issuer.keyUsage ?? [];
  const allowed = usage.includes('cRLSign') || (issuer.roles.includes('eum') && usage.includes('keyCertSign'));
  if (!allowed) throw new PkiError('CRL_ISSUER_MISMATCH', `'${issuer.subject.text}' may not sign CRLs (key usage lacks cRLSign)`, { certificate: issuer });
  if (!verifyDer(issuer.publicKey.key, crl.tbsDer, crl.signature)) {
    throw new PkiError('CRL_BAD_SIGNATURE', `the CRL signature does not verify with the key of '${issuer.subject.text}'`, { certificate: issuer });
  }
}

/** Whether `crl` covers `cert` (RFC 5280 6.3.3 (b)): its scope (CA or end-entity) and its distribution point. */
export function crlCovers(crl: ParsedCrl, cert: GsmaCertificate): boolean {
  const ca = cert.basicConstraints?.ca === true;
  if ((crl.scope === 'ca' && !ca) || (crl.scope === 'end-entity' && ca)) return false;
  if (crl.distributionPoints.length === 0) return true;
  return cert.crlDistributionPoints.some((uri) => crl.distributionPoints.includes(uri));
}

/** True when `crl` lists `cert`'s serial number: one Set lookup. */
export function isRevoked(crl: ParsedCrl, cert: GsmaCertificate): boolean {
  return crl.revoked.has(cert.serialNumber.toString('hex'));
}

/** 'current' between thisUpdate and nextUpdate, 'stale' after nextUpdate; a CRL from the future is CRL_NOT_YET_VALID. */
export function crlFreshness(crl: ParsedCrl, at: Date): 'current' | 'stale' {
  if (at.getTime() < crl.thisUpdate.getTime()) {
    throw new PkiError('CRL_NOT_YET_VALID', `the CRL of '${crl.issuer.text}' is not valid before ${crl.thisUpdate.toISOString()}`);
  }
  return at.getTime() > crl.nextUpdate.getTime() ? 'stale' : 'current';
}

/** Orders two CRLs of one issuer: by cRLNumber when both have one, else by thisUpdate. Positive when `a` is newer. */
export function compareCrls(a: ParsedCrl, b: ParsedCrl): number {
  if (a.crlNumber !== undefined && b.crlNumber !== undefined) return a.crlNumber === b.crlNumber ? 0 : a.crlNumber > b.crlNumber ? 1 : -1;
  return a.thisUpdate.getTime() - b.thisUpdate.getTime();
}

/** Accepts PEM (one or more X509 CRL blocks) or DER; returns the DER of each CRL. */
export function crlsFromFile(data: Buffer): Buffer[] {
  const blocks = derBlocks(data, 'X509 CRL');
  if (blocks.length === 0) throw malformed('PEM input without an X509 CRL block');
  return blocks;
}

/** PEM encoding of a DER CRL. */
export function crlToPem(der: Uint8Array): string {
  return toPem(der, 'X509 CRL');
}

/** CRLReason (RFC 5280 5.3.1) values an issued entry may carry. */
const CRL_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;

export interface RevocationEntry {
  readonly serialNumber: bigint | Buffer;
  readonly revocationDate: Date;
  readonly reason?: keyof typeof CRL_REASONS;
}

export interface CrlTemplate {
  /** The issuing CA: its subject becomes the CRL's issuer, its subject key identifier the CRL's AKI. */
  readonly issuer: GsmaCertificate;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly revoked: readonly RevocationEntry[];
  /** cRLNumber (default 1). */
  readonly crlNumber?: bigint;
  /** Further CRL extensions (e.g. issuingDistributionPoint), after AKI and cRLNumber. */
  readonly extraExtensions?: readonly Extension[];
}

/** Issues an X.509 v2 CRL (RFC 5280 5.1) signed ECDSA-with-SHA256 by `signingKey`, with AKI and cRLNumber. */
export function issueCrl(template: CrlTemplate, signingKey: KeyObject): Buffer {
  const signature = { algorithm: X509_OID.ecdsaWithSha256 };
  const ski = template.issuer.subjectKeyIdentifier;
  const exts: Extension[] = [
    ...(ski ? [{ extnID: X509_OID.authorityKeyIdentifier, extnValue: encode(authorityKeyIdentifier, { keyIdentifier: ski }) }] : []),
    { extnID: CRL_OID.cRLNumber, extnValue: encode(crlNumberCodec, encodeBigInteger(template.crlNumber ?? 1n)) },
    ...(template.extraExtensions ?? []),
  ];
  const entries: RevokedCertificate[] = template.revoked.map((r) => ({
    userCertificate: typeof r.serialNumber === 'bigint' ? encodeBigInteger(r.serialNumber) : r.serialNumber,
    revocationDate: timeFor(r.revocationDate),
    ...(r.reason !== undefined
      ? { crlEntryExtensions: [{ extnID: CRL_OID.reasonCode, extnValue: Buffer.concat([Buffer.from([0x0a, 0x01]), encodeInteger(CRL_REASONS[r.reason])]) }] }
      : {}),
  }));
  const tbs = capture(tbsCertList, {
    version: 1,
    signature,
    issuer: template.issuer.asn1.tbsCertificate.value.subject,
    thisUpdate: timeFor(template.thisUpdate),
    nextUpdate: timeFor(template.nextUpdate),
    ...(entries.length > 0 ? { revokedCertificates: entries } : {}),
    crlExtensions: exts,
  });
  const signatureValue = { bytes: signDer(signingKey, tbs.der), unusedBits: 0 };
  return encode(certificateList, { tbsCertList: tbs, signatureAlgorithm: signature, signatureValue });
}
