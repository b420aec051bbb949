// Typed errors of the 3GPP authentication functions (TS 33.102 6.3, TS 33.501 6.1.3 and Annex C).
import { McimError } from '../errors.js';

export type AkaErrorCode =
  /** A key, RAND, SQN, AMF, AUTN, AUTS or other byte string has the wrong length. */
  | 'INVALID_LENGTH'
  /** A parameter is outside its defined range (Tuak lengths, IND length, MCC/MNC/MSIN digits ...). */
  | 'INVALID_PARAMETER'
  /** A MAC does not verify: MAC-S in AUTS (network side) or the ECIES tag of a SUCI. */
  | 'MAC_FAILURE'
  /** A public key is not a point on its curve, or X25519 yields the all-zero shared secret. */
  | 'INVALID_POINT'
  /** A private key is not valid for its curve. */
  | 'INVALID_KEY'
  /** A SUCI string or its decrypted MSIN is malformed. */
  | 'INVALID_SUCI'
  /** A SUCI protection scheme other than null, profile A or profile B. */
  | 'UNSUPPORTED_SCHEME';

export class AkaError extends McimError {
  declare readonly code: AkaErrorCode;
  constructor(code: AkaErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Throws INVALID_LENGTH unless `value` is one of the `allowed` byte lengths. */
export function requireLength(field: string, value: Uint8Array, ...allowed: number[]): void {
  if (!(value instanceof Uint8Array)) {
    throw new AkaError('INVALID_LENGTH', `${field} must be a byte string`);
  }
  if (!allowed.includes(value.length)) {
    const want = allowed.map((n) => `${n}`).join(' or ');
    throw new AkaError('INVALID_LENGTH', `${field} must be ${want} bytes, got ${value.length}`);
  }
}
