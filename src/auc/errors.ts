// Typed errors of src/auc, the operator's AuC (TS 33.102 6.3, TS 33.401 6.1, TS 33.501 6.1.3 and 6.12).
import { McimError } from '../errors.js';

/** The codes an AucError carries (meanings: ERROR_CODES in src/errors.ts). */
export type AucErrorCode = 'INVALID_ARGUMENT' | 'INPUT_TOO_LARGE' | 'AUTHENTICATION_NOT_FOUND' | 'RES_STAR_MISMATCH' | 'UNAUTHORIZED';

export class AucError extends McimError {
  declare readonly code: AucErrorCode;
  constructor(code: AucErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
