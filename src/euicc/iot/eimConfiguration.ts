// SGP.32 v1.2 2.11.1.2 (eIM Configuration Data) and 2.11.1.1/2.11.2.1 (eimSignature and the eUICC's signatures over the data and the association token): the checks AddInitialEim, addEim and updateEim share.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { AddEimResultCode, type EimConfigurationData } from '../../asn1/definitions/sgp32.js';
import { encode, implicit, integer } from '../../asn1/schema.js';
import { curveOfKey, verifyPlain } from '../../crypto/ecdsa.js';
import { parseCertificate } from '../../pki/certificate.js';
import type { EuiccCore, IotState } from '../core.js';

/**
 * The highest counterValue the eUICC accepts (SGP.32 2.11.1.1: an eUICC handles counter values up to at least
 * 8 388 607, 0x7FFFFF). mcim's limit is exactly that value: a package or configuration beyond it is
 * counterValueOutOfRange, so an eIM never spends a counter that another conforming eUICC would refuse.
 */
export const MAX_COUNTER_VALUE = 0x7fffff;

const AssociationToken = implicit(4, integer);

/** `84 len associationToken`, appended to signed data (SGP.32 2.11.1.1; an eIM without a token signs with '84 01 00'). */
export function associationTokenTlv(token: number): Buffer {
  return encode(AssociationToken, token);
}

/** The eIM's package-signing key (eimPublicKeyData: a SubjectPublicKeyInfo or the key of a certificate); undefined if unusable. */
export function eimSigningKey(config: EimConfigurationData): KeyObject | undefined {
  const data = config.eimPublicKeyData;
  if (data === undefined) return undefined;
  try {
    const key = data.type === 'eimPublicKey' ? createPublicKey({ key: data.value, format: 'der', type: 'spki' }) : parseCertificate(data.value).publicKey.key;
    curveOfKey(key);
    return key;
  } catch {
    return undefined;
  }
}

/** eimSignature check: over the EuiccPackageSigned bytes as received, then the eIM's association token TLV. */
export function verifyEimSignature(config: EimConfigurationData, signedDer: Buffer, signature: Buffer): boolean {
  const key = eimSigningKey(config);
  return key !== undefined && verifyPlain(key, Buffer.concat([signedDer, associationTokenTlv(config.associationToken ?? 0)]), signature);
}

/** The eUICC's signature over `der` and the association token of the eIM the result goes to (euiccSignEPR, euiccSignEPE). */
export function signForEim(core: EuiccCore, der: Buffer, associationToken: number): Buffer {
  return core.sign(Buffer.concat([der, associationTokenTlv(associationToken)]));
}

export type EimConfigurationCheck =
  | { readonly ok: true; readonly config: EimConfigurationData; readonly iot: IotState }
  | { readonly ok: false; readonly code: number };

/**
 * Checks one eIM's configuration data for association (AddInitialEim, addEim) against `iot` and, when it is
 * acceptable, returns the eIM as stored (counterValue defaulting to 0, the next association token assigned) and the
 * state with it added. The codes are AddEimResultCode's (AddInitialEim's error codes are the same numbers):
 * - associatedEimAlreadyExists (2): the eimId is already associated;
 * - insufficientMemory (1): MAX_EIMS eIMs are associated;
 * - invalidAssociationToken (5): the data carries an associationToken, which only the eUICC assigns;
 * - counterValueOutOfRange (6): a counterValue below 0 or above MAX_COUNTER_VALUE;
 * - ciPKUnknown (3): euiccCiPKId is not the CI of the eUICC's own certificate chain (euiccCiPKIdListForSigning);
 * - commandError (7): no eimPublicKeyData, or a key that is not ECDSA on P-256 or brainpoolP256r1.
 */
export function associateEim(core: EuiccCore, iot: IotState, input: EimConfigurationData, maxEims: number): EimConfigurationCheck {
  const refuse = (code: number): EimConfigurationCheck => ({ ok: false, code });
  if (iot.eims.some((e) => e.eimId === input.eimId)) return refuse(AddEimResultCode.associatedEimAlreadyExists);
  if (iot.eims.length >= maxEims) return refuse(AddEimResultCode.insufficientMemory);
  if (input.associationToken !== undefined) return refuse(AddEimResultCode.invalidAssociationToken);
  const counterValue = input.counterValue ?? 0;
  if (counterValue < 0 || counterValue > MAX_COUNTER_VALUE) return refuse(AddEimResultCode.counterValueOutOfRange);
  if (input.euiccCiPKId !== undefined && !core.ciKeyIdsForSigning.some((id) => id.equals(input.euiccCiPKId!))) {
    return refuse(AddEimResultCode.ciPKUnknown);
  }
  if (eimSigningKey(input) === undefined) return refuse(AddEimResultCode.commandError);
  const config: EimConfigurationData = { ...input, counterValue, associationToken: iot.nextAssociationToken };
  return { ok: true, config, iot: { ...iot, eims: [...iot.eims, config], nextAssociationToken: iot.nextAssociationToken + 1 } };
}
