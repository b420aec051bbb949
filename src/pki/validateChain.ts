// Certificate chain validation of SGP.22 4.5.2.2 (CI -> EUM -> eUICC, CI -> SM-DP+/SM-DS) and of SGP.32 eIM certificates.
import { X509_OID, type GeneralName } from '../asn1/definitions/x509.js';
import { verifyDer } from '../crypto/ecdsa.js';
import {
  RSP_ROLE_OIDS,
  distinguishedName,
  nameAttribute,
  parseCertificate,
  type DistinguishedName,
  type GsmaCertificate,
  type RspRole,
} from './certificate.js';
import { isValidEid } from './eid.js';
import { PkiError } from './errors.js';

/** What a leaf certificate is validated for. */
export type CertificateUse = 'euicc' | 'dp-auth' | 'dp-pb' | 'dp-tls' | 'ds-auth' | 'ds-tls' | 'eim';

export const CERTIFICATE_USES: readonly CertificateUse[] = ['euicc', 'dp-auth', 'dp-pb', 'dp-tls', 'ds-auth', 'ds-tls', 'eim'];

/** Certificates in a valid path, leaf and CI included: CI -> EUM -> eUICC, CI -> leaf otherwise (SGP.22 4.5.2.1). */
const DEFAULT_MAX_CHAIN_LENGTH: Readonly<Record<CertificateUse, number>> = {
  euicc: 3,
  'dp-auth': 2,
  'dp-pb': 2,
  'dp-tls': 2,
  'ds-auth': 2,
  'ds-tls': 2,
  eim: 2,
};

const TLS_USES: ReadonlySet<CertificateUse> = new Set(['dp-tls', 'ds-tls']);

export interface ChainValidationOptions {
  /** The use the leaf certificate is validated for. */
  readonly role: CertificateUse;
  /** The CI certificates the verifier knows (trust anchors). */
  readonly trustedCis: readonly (GsmaCertificate | Uint8Array)[];
  /**
   * Subject key identifiers of the CIs the verifier accepts (an eUICC's euiccCiPKIdListForVerification, an
   * SM-DP+'s configured CIs). Defaults to those of `trustedCis`.
   */
  readonly trustedCiKeyIds?: readonly Uint8Array[];
  /** The validation time. */
  readonly at: Date;
  /** Maximal number of certificates in the path, leaf and CI included (default 3 for an eUICC, 2 otherwise). */
  readonly maxChainLength?: number;
  /**
   * Policy OIDs an eIM certificate must carry one of. SGP.32 v1.2 assigns the eIM no id-rspRole OID, so by
   * default an eIM certificate is recognised by carrying no GSMA role at all.
   */
  readonly eimPolicyOids?: readonly string[];
  /**
   * Revocation check (RFC 5280 6.1.3 (a)(3)), called for each certificate of the path below the CI with its issuer, after
   * the signatures, validity and roles have been checked; throws PkiError REVOKED or REVOCATION_UNKNOWN.
   */
  readonly revocation?: (certificate: GsmaCertificate, issuer: GsmaCertificate) => void;
}

export interface ChainValidationResult {
  readonly role: CertificateUse;
  readonly leaf: GsmaCertificate;
  /** The validated path: the leaf first, the CI last. */
  readonly path: readonly GsmaCertificate[];
  readonly ci: GsmaCertificate;
  /** The CI's subject key identifier: its CI public key identifier (SGP.22 euiccCiPKId). */
  readonly ciKeyId: Buffer;
  /** The EID, for an eUICC certificate. */
  readonly eid: string | undefined;
  readonly at: Date;
}

function toCertificate(c: GsmaCertificate | Uint8Array): GsmaCertificate {
  return c instanceof Uint8Array ? parseCertificate(c) : c;
}

function hex(b: Buffer | undefined): string {
  return b === undefined ? '(none)' : b.toString('hex');
}

/**
 * The certificate among `candidates` that issued `cert`: its subject key identifier equals `cert`'s authority
 * key identifier and its subject equals `cert`'s issuer. A key identifier match under another name is an
 * ISSUER_MISMATCH.
 */
function findIssuer(cert: GsmaCertificate, candidates: readonly GsmaCertificate[]): GsmaCertificate | undefined {
  const aki = cert.authorityKeyIdentifier;
  if (aki === undefined) {
    throw new PkiError('MALFORMED', `'${cert.subject.text}' has no authority key identifier (SGP.22 4.5.2.1 requires it)`, { certificate: cert });
  }
  const byKey = candidates.filter((c) => c.subjectKeyIdentifier?.equals(aki) === true);
  const issuer = byKey.find((c) => c.subject.der.equals(cert.issuer.der));
  if (issuer === undefined && byKey[0] !== undefined) {
    throw new PkiError(
      'ISSUER_MISMATCH',
      `'${cert.subject.text}' names issuer '${cert.issuer.text}' but its authority key identifier ${aki.toString('hex')} ` +
        `designates '${byKey[0].subject.text}'`,
      { certificate: cert },
    );
  }
  return issuer;
}

/** Builds the path leaf -> ... -> trusted CI from the given intermediates. */
function buildPath(
  leaf: GsmaCertificate,
  intermediates: readonly GsmaCertificate[],
  anchors: readonly GsmaCertificate[],
  maxLength: number,
): GsmaCertificate[] {
  const tooLong = (): PkiError =>
    new PkiError('CHAIN_TOO_LONG', `the chain of '${leaf.subject.text}' is longer than ${maxLength} certificates`, { certificate: leaf });
  const path = [leaf];
  const unused = new Set(intermediates);
  for (let cert = leaf; ; ) {
    const ci = findIssuer(cert, anchors);
    if (ci !== undefined) {
      path.push(ci);
      break;
    }
    const next = findIssuer(cert, [...unused]);
    if (next === undefined) {
      throw new PkiError(
        'UNKNOWN_CI',
        `no trusted CI or chain certificate issued '${cert.subject.text}' (issuer '${cert.issuer.text}', ` +
          `authority key identifier ${hex(cert.authorityKeyIdentifier)})`,
      );
    }
    if (next.selfIssued) {
      throw new PkiError('UNKNOWN_CI', `the chain ends at the self-issued '${next.subject.text}', which is not a trusted CI`);
    }
    unused.delete(next);
    path.push(next);
    cert = next;
    // The CI still has to follow.
    if (path.length >= maxLength) throw tooLong();
  }
  if (path.length > maxLength) throw tooLong();
  return path;
}

/**
 * Issuers whose key verified a certificate's signature, by certificate object: whether a signature verifies is a pure
 * function of the two parsed certificates, so a verifier that keeps parsed certificates (the SM-DP+'s cache, where an
 * EUM certificate recurs for every eUICC it issued) checks each pair once. Only successes are kept; everything else
 * about a chain is checked on every validation.
 */
const verifiedSignatures = new WeakMap<GsmaCertificate, WeakSet<GsmaCertificate>>();

function checkSignatures(path: readonly GsmaCertificate[]): void {
  for (let i = 0; i < path.length; i++) {
    const cert = path[i]!;
    const issuer = path[i + 1] ?? cert;
    if (verifiedSignatures.get(cert)?.has(issuer) === true) continue;
    if (!verifyDer(issuer.publicKey.key, cert.tbsDer, cert.signature)) {
      throw new PkiError('BAD_SIGNATURE', `the signature of '${cert.subject.text}' does not verify with the key of '${issuer.subject.text}'`, {
        certificate: cert,
      });
    }
    let issuers = verifiedSignatures.get(cert);
    if (issuers === undefined) {
      issuers = new WeakSet();
      verifiedSignatures.set(cert, issuers);
    }
    issuers.add(issuer);
  }
}

function checkValidity(path: readonly GsmaCertificate[], at: Date): void {
  for (const cert of path) {
    if (at.getTime() < cert.notBefore.getTime()) {
      throw new PkiError('NOT_YET_VALID', `'${cert.subject.text}' is not valid before ${cert.notBefore.toISOString()} (validation time ${at.toISOString()})`, {
        certificate: cert,
      });
    }
    if (at.getTime() > cert.notAfter.getTime()) {
      throw new PkiError('EXPIRED', `'${cert.subject.text}' expired at ${cert.notAfter.toISOString()} (validation time ${at.toISOString()})`, {
        certificate: cert,
      });
    }
  }
}

/** Every issuing certificate must be a CA allowed to sign certificates, within its path length constraint. */
function checkIssuers(path: readonly GsmaCertificate[]): void {
  for (let k = 1; k < path.length; k++) {
    const ca = path[k]!;
    if (ca.basicConstraints?.ca !== true) {
      throw new PkiError('NOT_A_CA', `'${ca.subject.text}' signs certificates but is not a CA (basicConstraints cA)`, { certificate: ca });
    }
    if (ca.keyUsage?.includes('keyCertSign') !== true) {
      throw new PkiError('WRONG_KEY_USAGE', `'${ca.subject.text}' signs certificates but its key usage lacks keyCertSign`, { certificate: ca });
    }
    const intermediatesBelow = path.slice(1, k).filter((c) => !c.selfIssued).length;
    const limit = ca.basicConstraints.pathLength;
    if (limit !== undefined && intermediatesBelow > limit) {
      throw new PkiError('CHAIN_TOO_LONG', `'${ca.subject.text}' allows ${limit} intermediate CAs below it, the chain has ${intermediatesBelow}`, {
        certificate: ca,
      });
    }
  }
}

function requireRole(cert: GsmaCertificate, role: RspRole, place: string): void {
  if (!cert.roles.includes(role)) {
    const has = cert.roles.length > 0 ? cert.roles.join(', ') : 'no GSMA role';
    throw new PkiError('WRONG_ROLE', `${place} '${cert.subject.text}' must carry policy id-rspRole-${role} (${RSP_ROLE_OIDS[role]}), it has ${has}`, {
      certificate: cert,
    });
  }
}

function checkRoles(path: readonly GsmaCertificate[], options: ChainValidationOptions): void {
  const leaf = path[0]!;
  requireRole(path[path.length - 1]!, 'ci', 'the trust anchor');
  for (const intermediate of path.slice(1, -1)) {
    if (options.role !== 'euicc') {
      throw new PkiError('WRONG_ROLE', `a ${options.role} certificate is issued by the CI directly, not by '${intermediate.subject.text}'`, {
        certificate: leaf,
      });
    }
    requireRole(intermediate, 'eum', 'the issuer of an eUICC certificate');
  }
  if (options.role === 'euicc' && path.length < 3) {
    throw new PkiError('WRONG_ROLE', `the eUICC certificate '${leaf.subject.text}' must be issued by an EUM, not by the CI`, { certificate: leaf });
  }
  if (leaf.basicConstraints?.ca === true) {
    throw new PkiError('WRONG_ROLE', `'${leaf.subject.text}' is a CA certificate, not a ${options.role} certificate`, { certificate: leaf });
  }
  if (options.role !== 'eim') {
    requireRole(leaf, options.role, `the ${options.role} certificate`);
    return;
  }
  if (leaf.roles.length > 0) {
    throw new PkiError('WRONG_ROLE', `'${leaf.subject.text}' carries GSMA role ${leaf.roles.join(', ')}: it is not an eIM certificate`, { certificate: leaf });
  }
  const wanted = options.eimPolicyOids;
  if (wanted !== undefined && !leaf.policies.some((p) => wanted.includes(p))) {
    throw new PkiError('WRONG_ROLE', `the eIM certificate '${leaf.subject.text}' carries none of the policies ${wanted.join(', ')}`, { certificate: leaf });
  }
}

function checkLeafUsage(leaf: GsmaCertificate, role: CertificateUse): void {
  const usage = leaf.keyUsage;
  if (usage?.includes('digitalSignature') !== true) {
    throw new PkiError('WRONG_KEY_USAGE', `the ${role} certificate '${leaf.subject.text}' lacks key usage digitalSignature`, { certificate: leaf });
  }
  if (usage.includes('keyCertSign') || usage.includes('cRLSign')) {
    throw new PkiError('WRONG_KEY_USAGE', `the ${role} certificate '${leaf.subject.text}' has a CA key usage (${usage.join(', ')})`, { certificate: leaf });
  }
  if (TLS_USES.has(role) && leaf.extendedKeyUsage?.includes(X509_OID.kpServerAuth) !== true) {
    throw new PkiError('WRONG_KEY_USAGE', `the TLS certificate '${leaf.subject.text}' lacks extended key usage serverAuth`, { certificate: leaf });
  }
}

/**
 * GSMA reading of a directoryName subtree (SGP.22 4.5.2.1.0.2): each of its attributes must appear in the
 * subject with the same value, except serialNumber, which must be a prefix of the subject's (the EID range).
 */
function subtreeContains(base: DistinguishedName, subject: DistinguishedName): boolean {
  return base.rdns.flat().every((a) => {
    if (a.type === X509_OID.serialNumber) return nameAttribute(subject, a.type)?.startsWith(a.value) === true;
    return subject.rdns.some((rdn) => rdn.some((s) => s.type === a.type && s.value === a.value));
  });
}

function checkNameConstraints(path: readonly GsmaCertificate[]): void {
  for (let k = 1; k < path.length; k++) {
    const ca = path[k]!;
    const nc = ca.nameConstraints;
    if (nc === undefined) continue;
    const bases = [...nc.permitted, ...nc.excluded];
    const unsupported = bases.find((b) => b.type !== 'directoryName');
    if (unsupported !== undefined) {
      throw new PkiError('UNKNOWN_CRITICAL_EXTENSION', `'${ca.subject.text}' constrains ${unsupported.type} names, which are not supported`, { certificate: ca });
    }
    const dn = (names: readonly GeneralName[]): DistinguishedName[] =>
      names.flatMap((n) => (n.type === 'directoryName' ? [distinguishedName(n.value)] : []));
    const permitted = dn(nc.permitted);
    const excluded = dn(nc.excluded);
    for (const cert of path.slice(0, k)) {
      const inside = permitted.length === 0 || permitted.some((p) => subtreeContains(p, cert.subject));
      if (!inside || excluded.some((e) => subtreeContains(e, cert.subject))) {
        const allowed = permitted.map((p) => `'${p.text}'`).join(' or ') || '(any)';
        throw new PkiError(
          'EID_OUT_OF_RANGE',
          `'${cert.subject.text}' is outside the names '${ca.subject.text}' may certify: permitted ${allowed}` +
            (excluded.length > 0 ? `, excluded ${excluded.map((e) => `'${e.text}'`).join(', ')}` : ''),
          { certificate: cert },
        );
      }
    }
  }
}

/**
 * Validates `leaf` for `options.role`: builds the path through `chain` (any order) to a trusted CI, then checks
 * signatures over the received tbsCertificate bytes, validity at `options.at`, CA flags, key usages and path
 * lengths, GSMA roles, and for an eUICC its EID against the EUM's name constraints. Throws a PkiError whose code
 * names the first failure.
 */
export function validateChain(
  leaf: GsmaCertificate | Uint8Array,
  chain: readonly (GsmaCertificate | Uint8Array)[],
  options: ChainValidationOptions,
): ChainValidationResult {
  const leafCert = toCertificate(leaf);
  const intermediates = chain.map(toCertificate);
  const anchors = options.trustedCis.map(toCertificate);
  const maxLength = options.maxChainLength ?? DEFAULT_MAX_CHAIN_LENGTH[options.role];

  const path = buildPath(leafCert, intermediates, anchors, maxLength);
  const ci = path[path.length - 1]!;
  const ciKeyId = ci.subjectKeyIdentifier!;
  const trustedIds = options.trustedCiKeyIds ?? anchors.flatMap((a) => (a.subjectKeyIdentifier ? [a.subjectKeyIdentifier] : []));
  if (!trustedIds.some((id) => ciKeyId.equals(id))) {
    throw new PkiError('UNKNOWN_CI', `the CI '${ci.subject.text}' (key identifier ${ciKeyId.toString('hex')}) is not trusted`);
  }

  checkSignatures(path);
  checkValidity(path, options.at);
  checkIssuers(path);
  checkRoles(path, options);
  checkLeafUsage(leafCert, options.role);

  let eid: string | undefined;
  if (options.role === 'euicc') {
    eid = leafCert.eid;
    if (eid === undefined || !isValidEid(eid)) {
      throw new PkiError('INVALID_EID', `the eUICC certificate '${leafCert.subject.text}' carries ${eid === undefined ? 'no EID' : `the invalid EID '${eid}'`}`, {
        certificate: leafCert,
      });
    }
  }
  checkNameConstraints(path);
  if (options.revocation !== undefined) {
    // From the CI down: a revoked EUM is reported before the eUICCs it issued.
    for (let i = path.length - 2; i >= 0; i--) options.revocation(path[i]!, path[i + 1]!);
  }

  return { role: options.role, leaf: leafCert, path, ci, ciKeyId, eid, at: options.at };
}
