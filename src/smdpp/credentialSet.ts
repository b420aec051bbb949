// The operator's own SM-DP+ credentials (SGP.22 4.5.2.1): CIs, CERT.DPauth/CERT.DPpb per CI, CERT.DP.TLS, checked before use.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { curveOfKey, verifyDer, type EcCurve } from '../crypto/ecdsa.js';
import { McimError } from '../errors.js';
import { certificateToPem, certificatesFromFile, parseCertificate, type GsmaCertificate } from '../pki/certificate.js';
import { PkiError } from '../pki/errors.js';
import { validateChain, type CertificateUse } from '../pki/validateChain.js';
import { parseAddress, type KeyedCertificate, type SmdpCredential } from './context.js';

export type CredentialErrorCode =
  /** A file is missing, unreadable, or not a certificate / EC private key (or its passphrase is wrong or missing). */
  | 'UNREADABLE'
  /** The private key is not the key of the certificate it comes with. */
  | 'KEY_MISMATCH'
  /** A certificate's key is on another curve than its CI's. */
  | 'CURVE_MISMATCH'
  /** No DPauth/DPpb pair, a DPauth without its DPpb under the same CI (or the reverse), or two of them. */
  | 'INCOMPLETE'
  /** The TLS certificate's subjectAltName does not carry the SM-DP+ address. */
  | 'ADDRESS_NOT_IN_TLS_CERTIFICATE'
  /** The certificates name different SM-DP+ OIDs, or none and no OID was given. */
  | 'OID_MISMATCH'
  /** This runtime cannot serve TLS with a certificate on this curve. */
  | 'TLS_CURVE_UNSUPPORTED';

export class CredentialError extends McimError {
  declare readonly code: CredentialErrorCode;
  constructor(code: CredentialErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A certificate file (DER or PEM) and its private key file (PEM or DER; PKCS#8, encrypted PKCS#8 or SEC1). */
export interface KeyedFiles {
  readonly certificate: string;
  readonly key: string;
}

/** Where a supplied credential set comes from. */
export interface CredentialSources {
  /** CI certificate files (DER, or PEM with one or more certificates): every CI the SM-DP+ trusts. */
  readonly cis: readonly string[];
  readonly dpAuth: readonly KeyedFiles[];
  readonly dpPb: readonly KeyedFiles[];
  /** CERT.DP.TLS first, then any intermediate certificates (one PEM file, or DER of the leaf alone). */
  readonly tls: KeyedFiles;
  /** Passphrase of encrypted private keys. */
  readonly passphrase?: string;
}

/** A certificate (and key) with the file it came from, for messages. */
interface Loaded {
  readonly file: string;
  readonly certificate: GsmaCertificate;
}
interface LoadedKeyed extends Loaded {
  readonly privateKey: KeyObject;
}

/** The parsed material of a credential set, before validation. */
export interface CredentialMaterial {
  readonly cis: readonly Loaded[];
  readonly dpAuth: readonly LoadedKeyed[];
  readonly dpPb: readonly LoadedKeyed[];
  /** The TLS certificate, its key, and the rest of its chain. */
  readonly tls: LoadedKeyed & { readonly chain: readonly GsmaCertificate[] };
}

/** A validated credential set: what the SM-DP+ serves with. */
export interface CredentialSet {
  /** host[:port]: the SM-DP+ address activation codes carry. */
  readonly address: string;
  readonly oid: string;
  /** Every supplied CI, each once. */
  readonly cis: readonly GsmaCertificate[];
  /** One per CI under which DPauth and DPpb were supplied. */
  readonly credentials: readonly SmdpCredential[];
  /** The served chain (leaf first, no CI), its key, its curve and the CI it verifies to. */
  readonly tls: { readonly chain: readonly GsmaCertificate[]; readonly privateKey: KeyObject; readonly curve: EcCurve; readonly ci: GsmaCertificate };
}

export interface ValidationOptions {
  /** host[:port]; default: the single dNSName of the TLS certificate. */
  readonly address?: string;
  /** Default: the registeredID the DPauth, DPpb and TLS certificates carry. */
  readonly oid?: string;
  readonly at: Date;
}

function readInput(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CredentialError('UNREADABLE', `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function certificatesOf(file: string): GsmaCertificate[] {
  try {
    return certificatesFromFile(readInput(file)).map((der) => parseCertificate(der));
  } catch (e) {
    if (e instanceof PkiError) throw new PkiError(e.code, `${file}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** An EC private key from PEM or DER: PKCS#8 (encrypted or not) or SEC1 ("EC PRIVATE KEY"). */
export function readPrivateKey(file: string, passphrase: string | undefined): KeyObject {
  const data = readInput(file);
  const isPem = data.toString('latin1').includes('-----BEGIN');
  const attempts: Parameters<typeof createPrivateKey>[0][] = isPem
    ? [{ key: data, format: 'pem', passphrase }]
    : [
        { key: data, format: 'der', type: 'pkcs8', passphrase },
        { key: data, format: 'der', type: 'sec1' },
      ];
  let last: unknown;
  for (const attempt of attempts) {
    try {
      const key = createPrivateKey(attempt);
      curveOfKey(key);
      return key;
    } catch (e) {
      last = e;
    }
  }
  const encrypted = isPem ? data.toString('latin1').includes('ENCRYPTED') : false;
  const why = encrypted && passphrase === undefined ? 'it is encrypted: give its passphrase' : last instanceof Error ? last.message : String(last);
  throw new CredentialError('UNREADABLE', `${file} is not a usable P-256 or brainpoolP256r1 private key (${why})`, { cause: last });
}

function loadKeyed(files: KeyedFiles, passphrase: string | undefined): LoadedKeyed & { rest: GsmaCertificate[] } {
  const [certificate, ...rest] = certificatesOf(files.certificate);
  return { file: files.certificate, certificate: certificate!, rest, privateKey: readPrivateKey(files.key, passphrase) };
}

/** Reads and parses every file of `sources`; throws on the first unreadable one. */
export function loadCredentialSources(sources: CredentialSources): CredentialMaterial {
  const keyed = (f: KeyedFiles): LoadedKeyed => {
    const { file, certificate, privateKey } = loadKeyed(f, sources.passphrase);
    return { file, certificate, privateKey };
  };
  const tls = loadKeyed(sources.tls, sources.passphrase);
  return {
    cis: sources.cis.flatMap((file) => certificatesOf(file).map((certificate) => ({ file, certificate }))),
    dpAuth: sources.dpAuth.map(keyed),
    dpPb: sources.dpPb.map(keyed),
    tls: { file: tls.file, certificate: tls.certificate, privateKey: tls.privateKey, chain: tls.rest },
  };
}

/** The GSMA SGP.26 test set as its distribution names the files: both CIs, DPauth and DPpb on both curves, the VARO TLS certificate. */
export function sgp26Sources(dir: string, tlsCurve: EcCurve = 'P-256'): CredentialSources {
  const suffixes = ['NIST', 'BRP'] as const;
  const tls = tlsCurve === 'P-256' ? 'NIST' : 'BRP';
  const sources: CredentialSources = {
    cis: suffixes.map((s) => join(dir, 'CertificateIssuer', `CERT_CI_ECDSA_${s}.der`)),
    dpAuth: suffixes.map((s) => ({ certificate: join(dir, 'DPauth', `CERT_S_SM_DPauth_ECDSA_${s}.der`), key: join(dir, 'DPauth', `SK_S_SM_DPauth_ECDSA_${s}.pem`) })),
    dpPb: suffixes.map((s) => ({ certificate: join(dir, 'DPpb', `CERT_S_SM_DPpb_ECDSA_${s}.der`), key: join(dir, 'DPpb', `SK_S_SM_DPpb_ECDSA_${s}.pem`) })),
    tls: { certificate: join(dir, 'DPtls', `CERT_S_SM_DP_VARO_TLS_${tls}.der`), key: join(dir, 'DPtls', `SK_S_SM_DP_TLS_${tls}.pem`) },
  };
  const missing = [...sources.cis, ...[...sources.dpAuth, ...sources.dpPb, sources.tls].flatMap((k) => [k.certificate, k.key])].filter((f) => !existsSync(f));
  if (missing.length > 0) throw new CredentialError('UNREADABLE', `${dir} is not the SGP.26 test set: missing ${missing.join(', ')}`);
  return sources;
}

function keyMatches(k: LoadedKeyed, what: string): void {
  const fromKey = createPublicKey(k.privateKey).export({ type: 'spki', format: 'der' });
  const fromCertificate = k.certificate.publicKey.key.export({ type: 'spki', format: 'der' });
  if (!fromKey.equals(fromCertificate)) {
    throw new CredentialError('KEY_MISMATCH', `${what} ${k.file}: the private key given with it is not the key of '${k.certificate.subject.text}'`);
  }
}

/** A CI certificate: self-signed, CA, GSMA CI role, valid now. */
function checkCi(ci: Loaded, at: Date): void {
  const c = ci.certificate;
  const where = `CI ${ci.file} '${c.subject.text}'`;
  if (!c.roles.includes('ci') || c.basicConstraints?.ca !== true) throw new PkiError('WRONG_ROLE', `${where} is not a CI certificate (policy id-rspRole-ci and cA)`);
  if (c.subjectKeyIdentifier === undefined) throw new PkiError('MALFORMED', `${where} has no subject key identifier`);
  if (!c.selfIssued || !verifyDer(c.publicKey.key, c.tbsDer, c.signature)) throw new PkiError('BAD_SIGNATURE', `${where} is not self-signed`);
  if (at < c.notBefore) throw new PkiError('NOT_YET_VALID', `${where} is valid from ${c.notBefore.toISOString()}`);
  if (at > c.notAfter) throw new PkiError('EXPIRED', `${where} expired ${c.notAfter.toISOString()}`);
}

function validateLeaf(k: Loaded, chain: readonly GsmaCertificate[], role: CertificateUse, cis: readonly GsmaCertificate[], at: Date): GsmaCertificate {
  try {
    return validateChain(k.certificate, chain, { role, trustedCis: cis, at }).ci;
  } catch (e) {
    if (e instanceof PkiError) throw new PkiError(e.code, `${role} certificate ${k.file}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Whether this runtime's TLS can serve a certificate on `curve` (ECDHE on it; TLS 1.2 for brainpool, see docs/brainpool-tls.md). */
export function tlsCurveSupported(curve: EcCurve): boolean {
  if (curve === 'P-256') return true;
  try {
    createSecureContext(tlsServerSettings(curve));
    return true;
  } catch {
    return false;
  }
}

/**
 * The TLS settings a CERT.DP.TLS on `curve` needs. Brainpool: OpenSSL 3.0 has no TLS 1.3 brainpool signature schemes
 * (RFC 8734; OpenSSL 3.2 added them), so TLS 1.2 only, and brainpoolP256r1 among the ECDHE groups (a TLS 1.2 server
 * uses an EC certificate only with a client that lists its curve in supported_groups, RFC 8422 5.1).
 */
export function tlsServerSettings(curve: EcCurve): { maxVersion?: 'TLSv1.2'; ecdhCurve?: string } {
  return curve === 'P-256' ? {} : { maxVersion: 'TLSv1.2', ecdhCurve: 'brainpoolP256r1:prime256v1:X25519' };
}

/** A dNSName names the host: equal, or a wildcard `*.rest` for exactly one more label (RFC 6125 6.4.3). */
function namesHost(dnsName: string, host: string): boolean {
  const name = dnsName.toLowerCase();
  if (!name.startsWith('*.')) return name === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === name.slice(2);
}

/** The SM-DP+ OID the certificates carry (subjectAltName registeredID), checked against `wanted`. */
function smdpOid(certificates: readonly Loaded[], wanted: string | undefined): string {
  const carried = new Map<string, string>();
  for (const c of certificates) for (const id of c.certificate.subjectAltName?.registeredIds ?? []) if (!carried.has(id)) carried.set(id, c.file);
  if (carried.size > 1) {
    throw new CredentialError('OID_MISMATCH', `the certificates name different SM-DP+ OIDs: ${[...carried].map(([id, file]) => `${id} (${file})`).join(', ')}`);
  }
  const [only] = carried.keys();
  if (wanted !== undefined && only !== undefined && only !== wanted) {
    throw new CredentialError('OID_MISMATCH', `the certificates carry the SM-DP+ OID ${only}, not ${wanted}`);
  }
  const oid = wanted ?? only;
  if (oid === undefined) throw new CredentialError('OID_MISMATCH', 'no certificate carries the SM-DP+ OID (subjectAltName registeredID): give it with --oid');
  return oid;
}

/**
 * Checks a credential set at `options.at`, all before anything is used or written: every CI; every DPauth and DPpb
 * (key matches, GSMA role and key usage, chain to one of the CIs, validity, same curve as its CI) paired per CI; the
 * TLS certificate (the same, plus the SM-DP+ address in its subjectAltName dNSName and a curve this runtime serves);
 * one SM-DP+ OID. Throws PkiError (chain, role, usage, validity) or CredentialError.
 */
export function validateCredentialMaterial(m: CredentialMaterial, options: ValidationOptions): CredentialSet {
  const cis = new Map<string, GsmaCertificate>();
  for (const ci of m.cis) {
    checkCi(ci, options.at);
    cis.set(ci.certificate.subjectKeyIdentifier!.toString('hex'), ci.certificate);
  }
  if (cis.size === 0) throw new CredentialError('INCOMPLETE', 'no CI certificate given');
  const anchors = [...cis.values()];
  const byCi = new Map<string, { dpAuth?: LoadedKeyed; dpPb?: LoadedKeyed }>();
  for (const [role, list] of [['dp-auth', m.dpAuth], ['dp-pb', m.dpPb]] as const) {
    for (const k of list) {
      keyMatches(k, role);
      const ci = validateLeaf(k, [], role, anchors, options.at);
      if (k.certificate.publicKey.curve !== ci.publicKey.curve) {
        throw new CredentialError('CURVE_MISMATCH', `${role} certificate ${k.file} is on ${k.certificate.publicKey.curve}, its CI '${ci.subject.text}' on ${ci.publicKey.curve}`);
      }
      const id = ci.subjectKeyIdentifier!.toString('hex');
      const pair = byCi.get(id) ?? {};
      const field = role === 'dp-auth' ? 'dpAuth' : 'dpPb';
      if (pair[field] !== undefined) throw new CredentialError('INCOMPLETE', `two ${role} certificates under the CI '${ci.subject.text}': ${pair[field].file} and ${k.file}`);
      pair[field] = k;
      byCi.set(id, pair);
    }
  }
  const credentials: SmdpCredential[] = [];
  for (const [id, pair] of byCi) {
    const ci = cis.get(id)!;
    if (pair.dpAuth === undefined || pair.dpPb === undefined) {
      throw new CredentialError('INCOMPLETE', `the CI '${ci.subject.text}' has a ${pair.dpAuth === undefined ? 'DPpb' : 'DPauth'} certificate but no ${pair.dpAuth === undefined ? 'DPauth' : 'DPpb'} certificate`);
    }
    const keyed = (k: LoadedKeyed): KeyedCertificate => ({ certificate: k.certificate, privateKey: k.privateKey });
    credentials.push({ curve: ci.publicKey.curve, ci, dpAuth: keyed(pair.dpAuth), dpPb: keyed(pair.dpPb) });
  }
  if (credentials.length === 0) throw new CredentialError('INCOMPLETE', 'no DPauth and DPpb certificates given: the SM-DP+ needs them under at least one CI');

  const tls = m.tls;
  keyMatches(tls, 'dp-tls');
  const tlsCi = validateLeaf(tls, tls.chain, 'dp-tls', anchors, options.at);
  const dnsNames = tls.certificate.subjectAltName?.dnsNames ?? [];
  let address = options.address;
  if (address === undefined) {
    if (dnsNames.length !== 1 || dnsNames[0]!.startsWith('*')) {
      throw new CredentialError(
        'ADDRESS_NOT_IN_TLS_CERTIFICATE',
        dnsNames.length === 0 ? `the TLS certificate ${tls.file} carries no SM-DP+ address (subjectAltName dNSName)` : `the TLS certificate ${tls.file} names ${dnsNames.join(', ')}: give the SM-DP+ address with --address`,
      );
    }
    address = dnsNames[0]!;
  } else if (!dnsNames.some((n) => namesHost(n, parseAddress(address!).host.toLowerCase()))) {
    throw new CredentialError('ADDRESS_NOT_IN_TLS_CERTIFICATE', `the TLS certificate ${tls.file} does not name the SM-DP+ address ${parseAddress(address).host.toLowerCase()} in its subjectAltName (it names ${dnsNames.join(', ') || 'no host'})`);
  }
  const tlsCurve = tls.certificate.publicKey.curve;
  if (!tlsCurveSupported(tlsCurve)) {
    throw new CredentialError('TLS_CURVE_UNSUPPORTED', `this runtime (OpenSSL ${process.versions.openssl}) cannot serve TLS with a ${tlsCurve} certificate: use a P-256 CERT.DP.TLS`);
  }
  const oid = smdpOid([...m.dpAuth, ...m.dpPb, tls], options.oid);
  // The chain served: the leaf and its intermediates, never the CI (clients hold it).
  const chain = [tls.certificate, ...tls.chain.filter((c) => !c.selfIssued)];
  return { address, oid, cis: anchors, credentials, tls: { chain, privateKey: tls.privateKey, curve: tlsCurve, ci: tlsCi } };
}

/** The PEM the TLS server presents: the leaf, then its intermediates. */
export function tlsChainPem(set: CredentialSet): string {
  return set.tls.chain.map((c) => certificateToPem(c.der)).join('');
}
