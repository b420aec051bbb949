// Typed errors of the eIM (SGP.32 v1.2): the registry's, the packages' it refuses to issue, the results' it refuses to store; the ESipa code the IPA is answered with travels in `esipaCode`.
import { McimError } from '../errors.js';

/** The codes EimError carries (meanings: ERROR_CODES in src/errors.ts). */
export type EimErrorCode =
  | 'INVALID_ARGUMENT'
  | 'DEVICE_NOT_FOUND'
  | 'INVALID_PACKAGE'
  | 'RESULT_SIGNATURE_INVALID'
  | 'UNKNOWN_TRANSACTION'
  | 'RESULT_MISMATCH'
  | 'RESULT_REPLAYED'
  | 'NOTIFICATION_UNATTRIBUTABLE'
  | 'RELAY_REFUSED'
  | 'RELAY_FAILED'
  | 'UNAUTHORIZED';

export class EimError extends McimError {
  declare readonly code: EimErrorCode;
  /**
   * The SGP.32 code the IPA gets for a refused request (eimPackageError, ProvideEimPackageResultError), when it gets one;
   * undefined for errors raised to the eIM's own operator (package issuing).
   */
  readonly esipaCode: number | undefined;
  constructor(code: EimErrorCode, message: string, options: { esipaCode?: number; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.esipaCode = options.esipaCode;
  }
}
