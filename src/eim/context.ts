// The eIM's configuration and state for every SGP.32 v1.2 function it serves (2.11 eIM packages, 5.14 ESipa): its identity and signing key, the CIs it trusts, its store.
import { randomBytes, type KeyObject } from 'node:crypto';
import { curveOfKey, type EcCurve } from '../crypto/ecdsa.js';
import type { SignerPool } from '../crypto/signerPool.js';
import { parseCertificate, type GsmaCertificate } from '../pki/certificate.js';
import type { EimStore } from '../store/eimStore.js';
import { EimKeyring } from './eimKeys.js';
import { EimError } from './errors.js';
import { NotificationForwarder, type ForwarderOptions } from './forwardNotifications.js';
import { relayContext, type RelayContext, type RelayOptions } from './relayContext.js';

export interface EimOptions {
  /** The eimId the eUICCs know this eIM by (EimConfigurationData.eimId, 1 to 128 characters). */
  readonly eimId: string;
  /** The eIM's package-signing private key (P-256 or brainpoolP256r1): its public key is in the eUICCs' configuration data. Generation 1 of a keyring of one key. */
  readonly signingKey?: KeyObject;
  /** The eIM's keys by generation (instead of `signingKey`): each device's packages are signed with the generation it holds. */
  readonly keyring?: EimKeyring;
  /** The CI certificates (DER) device certificate chains must end at. */
  readonly trustedCis: readonly Uint8Array[];
  readonly store: EimStore;
  /** The clock (ms since the epoch); default Date.now. */
  readonly now?: () => number;
  /** Random bytes (eimTransactionIds); default crypto.randomBytes. */
  readonly random?: (n: number) => Buffer;
  /** A device's last contact is written at most once per this many ms (polls in between write nothing); default 60 s. */
  readonly contactIntervalMs?: number;
  /** GetEimPackage answers an unknown EID noEimPackageAvailable (1) instead of eidNotFound (2): the answer no longer tells registered EIDs apart; default false. */
  readonly hideUnknownEids?: boolean;
  /**
   * The indirect profile download (SGP.32 3.2.2): the eIM relays ES9+ for its IPAs to the SM-DP+ they name, and forwards
   * the notifications it receives to their SM-DP+. Absent: the relay functions are answered with undefinedError and
   * notifications are only recorded.
   */
  readonly relay?: RelayOptions & { readonly forwarding?: ForwarderOptions };
  /** Threads that sign the packages of a batch (issueEuiccPackages) while this one queues them; default: signed here. */
  readonly signer?: SignerPool;
}

export const DEFAULT_CONTACT_INTERVAL_MS = 60_000;
const MAX_CONTACT_INTERVAL_MS = 86_400_000;

export interface EimContext {
  readonly eimId: string;
  readonly keys: EimKeyring;
  /** The curve of the active key. */
  readonly curve: EcCurve;
  readonly trustedCis: readonly GsmaCertificate[];
  readonly store: EimStore;
  readonly now: () => number;
  readonly random: (n: number) => Buffer;
  readonly contactIntervalMs: number;
  readonly hideUnknownEids: boolean;
  readonly relay?: RelayContext;
  /** Delivers the notifications the eIM takes over (with `relay`). */
  readonly forwarder?: NotificationForwarder;
  readonly signer: SignerPool | undefined;
}

export function eimContext(o: EimOptions): EimContext {
  if (o.eimId.length === 0 || o.eimId.length > 128) throw new EimError('INVALID_ARGUMENT', 'an eimId is 1 to 128 characters (SGP.32 EimConfigurationData)');
  if ((o.signingKey === undefined) === (o.keyring === undefined)) throw new EimError('INVALID_ARGUMENT', 'give the eIM a signing key or a keyring, not both');
  const keys = o.keyring ?? EimKeyring.single(o.signingKey!);
  const curve: EcCurve = curveOfKey(keys.get(keys.active)!);
  const contactIntervalMs = o.contactIntervalMs ?? DEFAULT_CONTACT_INTERVAL_MS;
  if (!Number.isInteger(contactIntervalMs) || contactIntervalMs < 0 || contactIntervalMs > MAX_CONTACT_INTERVAL_MS) {
    throw new EimError('INVALID_ARGUMENT', `the contact interval is 0 to ${MAX_CONTACT_INTERVAL_MS} ms, got ${contactIntervalMs}`);
  }
  if (o.trustedCis.length === 0) throw new EimError('INVALID_ARGUMENT', 'the eIM needs at least one trusted CI certificate');
  return {
    eimId: o.eimId,
    keys,
    curve,
    trustedCis: o.trustedCis.map((der) => parseCertificate(der)),
    store: o.store,
    now: o.now ?? Date.now,
    random: o.random ?? randomBytes,
    contactIntervalMs,
    hideUnknownEids: o.hideUnknownEids ?? false,
    ...relayParts(o),
    signer: o.signer,
  };
}

/** A new eimTransactionId (TransactionId, SIZE(1..16)): 16 random bytes. */
export function newTransactionId(ctx: EimContext): Buffer {
  return ctx.random(16);
}

function relayParts(o: EimOptions): { relay?: RelayContext; forwarder?: NotificationForwarder } {
  if (o.relay === undefined) return {};
  const relay = relayContext(o.relay);
  return { relay, forwarder: new NotificationForwarder(relay, o.now ?? Date.now, o.relay.forwarding) };
}
