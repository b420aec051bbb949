// Typed errors of src/crypto: 3GPP authentication (TS 33.102 6.3, TS 33.501 6.1.3 and Annex C) and GSMA ECDSA/ECKA (BSI TR-03111), BSP (SGP.22 2.6.4).
import { McimError } from '../errors.js';

/** The codes a CryptoError carries (meanings: ERROR_CODES in src/errors.ts). */
export type CryptoErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_POINT'
  | 'INVALID_KEY'
  | 'INVALID_SIGNATURE_ENCODING'
  | 'MAC_FAILURE'
  | 'INVALID_SUCI'
  | 'UNSUPPORTED_SCHEME'
  | 'BSP_UNSUPPORTED_CRT'
  | 'BSP_SEGMENT'
  | 'BSP_MAC_FAILURE'
  | 'BSP_PADDING'
  | 'BSP_SESSION_ABORTED';

export class CryptoError extends McimError {
  declare readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Throws INVALID_ARGUMENT unless `value` is a byte string of one of the `allowed` lengths. */
export function requireLength(field: string, value: Uint8Array, ...allowed: number[]): void {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoError('INVALID_ARGUMENT', `${field} must be a byte string`);
  }
  if (!allowed.includes(value.length)) {
    const want = allowed.map((n) => `${n}`).join(' or ');
    throw new CryptoError('INVALID_ARGUMENT', `${field} must be ${want} bytes, got ${value.length}`);
  }
}
