// The eIM's configuration and state for every SGP.32 v1.2 function it serves (2.11 eIM packages, 5.14 ESipa): its identity and signing key, the CIs it trusts, its store.
import { randomBytes, type KeyObject } from 'node:crypto';
import { curveOfKey, type EcCurve } from '../crypto/ecdsa.js';
import type { SignerPool } from '../crypto/signerPool.js';
import { parseCertificate, type GsmaCertificate } from '../pki/certificate.js';
import type { EimStore } from '../store/eimStore.js';
import { EimKeyring } from './eimKeys.js';
import { EimError } from './errors.js';

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
  /** Threads that sign the packages of a batch (issueEuiccPackages) while this one queues them; default: signed here. */
  readonly signer?: SignerPool;
}

export interface EimContext {
  readonly eimId: string;
  readonly keys: EimKeyring;
  /** The curve of the active key. */
  readonly curve: EcCurve;
  readonly trustedCis: readonly GsmaCertificate[];
  readonly store: EimStore;
  readonly now: () => number;
  readonly random: (n: number) => Buffer;
  readonly signer: SignerPool | undefined;
}

export function eimContext(o: EimOptions): EimContext {
  if (o.eimId.length === 0 || o.eimId.length > 128) throw new EimError('INVALID_ARGUMENT', 'an eimId is 1 to 128 characters (SGP.32 EimConfigurationData)');
  if ((o.signingKey === undefined) === (o.keyring === undefined)) throw new EimError('INVALID_ARGUMENT', 'give the eIM a signing key or a keyring, not both');
  const keys = o.keyring ?? EimKeyring.single(o.signingKey!);
  const curve: EcCurve = curveOfKey(keys.get(keys.active)!);
  if (o.trustedCis.length === 0) throw new EimError('INVALID_ARGUMENT', 'the eIM needs at least one trusted CI certificate');
  return {
    eimId: o.eimId,
    keys,
    curve,
    trustedCis: o.trustedCis.map((der) => parseCertificate(der)),
    store: o.store,
    now: o.now ?? Date.now,
    random: o.random ?? randomBytes,
    signer: o.signer,
  };
}

/** A new eimTransactionId (TransactionId, SIZE(1..16)): 16 random bytes. */
export function newTransactionId(ctx: EimContext): Buffer {
  return ctx.random(16);
}
