// Typed reasons a GSMA RSP certificate or chain is rejected (SGP.22 4.5.2.2 certificate verification).
import { McimError } from '../errors.js';

/** The codes PkiError carries (meanings: ERROR_CODES in src/errors.ts). */
export type PkiErrorCode =
  | 'MALFORMED'
  | 'UNSUPPORTED_ALGORITHM'
  | 'UNKNOWN_CRITICAL_EXTENSION'
  | 'BAD_SIGNATURE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'UNKNOWN_CI'
  | 'WRONG_ROLE'
  | 'WRONG_KEY_USAGE'
  | 'NOT_A_CA'
  | 'CHAIN_TOO_LONG'
  | 'ISSUER_MISMATCH'
  | 'EID_OUT_OF_RANGE'
  | 'INVALID_EID';

export class PkiError extends McimError {
  declare readonly code: PkiErrorCode;
  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
