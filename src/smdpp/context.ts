// What every ES9+ function of the SM-DP+ works with: its identity, its per-curve credentials, the store and the clock.
import type { KeyObject } from 'node:crypto';
import { encodeTlv } from '../asn1/tlv.js';
import { McimError } from '../errors.js';
import type { EcCurve } from '../crypto/ecdsa.js';
import type { GsmaCertificate } from '../pki/certificate.js';
import type { SmdpStore } from '../store/smdpStore.js';
import { CertificateCache, DEFAULT_CERTIFICATE_CACHE_BYTES } from './certificateCache.js';
import { DeliveredSessions } from './deliveredSessions.js';
import { abuseLimits, type AbuseLimits } from './rateLimit.js';
import { NO_SECURITY_EVENTS, type SecurityEvents } from './securityEvents.js';
import type { RevocationStore } from './revocation.js';

/** A certificate with its private key. */
export interface KeyedCertificate {
  readonly certificate: GsmaCertificate;
  readonly privateKey: KeyObject;
}

/** The SM-DP+'s keys under one CI (SGP.22 4.5.2.1): CERT.DPauth.ECDSA and CERT.DPpb.ECDSA on the CI's curve. */
export interface SmdpCredential {
  readonly curve: EcCurve;
  readonly ci: GsmaCertificate;
  readonly dpAuth: KeyedCertificate;
  readonly dpPb: KeyedCertificate;
}

export interface SmdpOptions {
  /** The SM-DP+ address (FQDN, optionally :port) that activation codes and serverSigned1 carry. */
  readonly address: string;
  /** The SM-DP+ OID (registeredID of its certificates): CancelSession and PIRs name it. */
  readonly oid: string;
  readonly credentials: readonly SmdpCredential[];
  /**
   * Every CI this SM-DP+ knows (SGP.22 4.5.2.2: anchors of eUICC chains), including CIs it holds no credential under;
   * defaults to the CIs of `credentials`.
   */
  readonly trustedCis?: readonly GsmaCertificate[];
  readonly store: SmdpStore;
  /** Lifetime of an RSP session from initiateAuthentication (default 5 minutes). */
  readonly sessionTtlMs?: number;
  /** Wrong confirmation codes accepted before the order goes to error (default 3). */
  readonly maxConfirmationCodeAttempts?: number;
  /** Protect the profile with profile protection keys (ReplaceSessionKeys) instead of the session keys (default true). */
  readonly useProfileProtectionKeys?: boolean;
  /** Milliseconds since the epoch (injectable for tests). */
  readonly clock?: () => number;
  /** Per-source and per-EID limits (src/smdpp/rateLimit.ts); each given one replaces its default. */
  readonly limits?: Partial<AbuseLimits>;
  /** Bound of the verified-certificate cache in accounted bytes (default DEFAULT_CERTIFICATE_CACHE_BYTES, 4 MiB). */
  readonly certificateCacheBytes?: number;
  /** Where security events go (src/smdpp/securityEvents.ts); default nowhere. */
  readonly events?: SecurityEvents;
  /** CRLs consulted for EUM and eUICC certificates (SGP.22 4.6); none: no revocation check. */
  readonly revocation?: RevocationStore;
}

/** The resolved configuration the functions share. */
export interface SmdpContext {
  readonly address: string;
  readonly oid: string;
  readonly credentials: readonly SmdpCredential[];
  /** Every CI this SM-DP+ knows: the credentials' CIs and any further ones configured. */
  readonly trustedCis: readonly GsmaCertificate[];
  /** The same CIs by subject key identifier (hex): the lookups of each session, built once. */
  readonly trustedCisByKeyId: ReadonlyMap<string, GsmaCertificate>;
  /** The credentials by their CI's subject key identifier (hex). */
  readonly credentialsByCiKeyId: ReadonlyMap<string, SmdpCredential>;
  readonly store: SmdpStore;
  readonly sessionTtlMs: number;
  readonly maxConfirmationCodeAttempts: number;
  readonly useProfileProtectionKeys: boolean;
  readonly now: () => number;
  /** eUICC and EUM certificates whose chain verified recently (derived data, per process, bounded in bytes). */
  readonly certificates: CertificateCache;
  /** The eUICC of each session this process delivered, until its PIR (derived data, per process, bounded). */
  readonly deliveredSessions: DeliveredSessions;
  readonly limits: AbuseLimits;
  /** Security events: `ctx.events.securityEvent(name, fields)` logs and counts one (docs/operations.md). */
  readonly events: SecurityEvents;
  /** CRLs consulted for EUM and eUICC certificates (SGP.22 4.6). */
  readonly revocation: RevocationStore | undefined;
}

export const DEFAULT_SESSION_TTL_MS = 5 * 60 * 1000;
export const DEFAULT_MAX_CC_ATTEMPTS = 3;

export function smdpContext(o: SmdpOptions): SmdpContext {
  const trustedCisByKeyId = knownCis(o);
  return {
    address: o.address,
    oid: o.oid,
    credentials: o.credentials,
    trustedCis: [...trustedCisByKeyId.values()],
    trustedCisByKeyId,
    credentialsByCiKeyId: new Map(o.credentials.flatMap((c) => (c.ci.subjectKeyIdentifier === undefined ? [] : [[c.ci.subjectKeyIdentifier.toString('hex'), c] as const]))),
    store: o.store,
    sessionTtlMs: o.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
    maxConfirmationCodeAttempts: o.maxConfirmationCodeAttempts ?? DEFAULT_MAX_CC_ATTEMPTS,
    useProfileProtectionKeys: o.useProfileProtectionKeys ?? true,
    now: o.clock ?? Date.now,
    certificates: new CertificateCache(o.certificateCacheBytes ?? DEFAULT_CERTIFICATE_CACHE_BYTES),
    deliveredSessions: new DeliveredSessions(),
    limits: abuseLimits(o.limits),
    events: o.events ?? NO_SECURITY_EVENTS,
    revocation: o.revocation,
  };
}

/** The configured CIs plus the credentials' own, each once, by subject key identifier (a CI needs one: SGP.22 4.5.2.1). */
function knownCis(o: SmdpOptions): ReadonlyMap<string, GsmaCertificate> {
  const byKeyId = new Map<string, GsmaCertificate>();
  for (const ci of [...(o.trustedCis ?? []), ...o.credentials.map((c) => c.ci)]) {
    const id = ci.subjectKeyIdentifier?.toString('hex');
    if (id !== undefined && !byKeyId.has(id)) byKeyId.set(id, ci);
  }
  return byKeyId;
}

/** The credential issued under the CI with this subject key identifier. */
export function credentialForCi(ctx: SmdpContext, ciKeyIdHex: string): SmdpCredential | undefined {
  return ctx.credentialsByCiKeyId.get(ciKeyIdHex);
}

/** A plain r || s signature as its TLV, tag 5F37. */
export function signatureTlv(signature: Uint8Array): Buffer {
  return encodeTlv(0x5f37, signature);
}

/** Host names compare case-insensitively (SGP.22 5.6.1: the SM-DP+ address). */
export function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** A DNS host name (RFC 1123 labels, 253 characters at most). */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Splits host[:port] and checks the host is a DNS name (the TLS certificate names it). */
export function parseAddress(address: string): { host: string; port: number | undefined } {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(address);
  const port = m?.[2] === undefined ? undefined : Number(m[2]);
  if (m === null || !HOST_NAME.test(m[1]!) || (port !== undefined && (port < 1 || port > 65535))) {
    throw new McimError('INVALID_ARGUMENT', `'${address}' is not an SM-DP+ address (host name[:port])`);
  }
  return { host: m[1]!, port };
}
