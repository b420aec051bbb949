// SGP.32 v1.2 2.11.1.1 and 2.11.2.1: the eIM's signature over an eUICC Package, and the eUICC's over its result, both over the received bytes then `84 len associationToken`.
import type { KeyObject } from 'node:crypto';
import { encode, implicit, integer } from '../asn1/schema.js';
import { signPlain, verifyPlain } from '../crypto/ecdsa.js';

const AssociationToken = implicit(4, integer);

/** `84 len associationToken`, appended to the signed data (an eIM without a token: '84 01 00'). */
export function associationTokenTlv(token: number): Buffer {
  return encode(AssociationToken, token);
}

/** eimSignature: over the EuiccPackageSigned DER as sent, then the device's association token. */
export function signPackage(key: KeyObject, signedDer: Buffer, associationToken: number): Buffer {
  return signPlain(key, Buffer.concat([signedDer, associationTokenTlv(associationToken)]));
}

/** euiccSignEPR / euiccSignEPE: over the result data DER as received, then the association token. */
export function verifyEuiccSignature(euiccKey: KeyObject, signedDer: Buffer, associationToken: number, signature: Buffer): boolean {
  return verifyPlain(euiccKey, Buffer.concat([signedDer, associationTokenTlv(associationToken)]), signature);
}
