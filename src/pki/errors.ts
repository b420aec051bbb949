// Typed reasons a GSMA RSP certificate or chain is rejected (SGP.22 4.5.2.2 certificate verification).
import { McimError } from '../errors.js';
import type { GsmaCertificate } from './certificate.js';

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
  | 'INVALID_EID'
  | 'REVOKED'
  | 'REVOCATION_UNKNOWN'
  | 'CRL_MALFORMED'
  | 'CRL_UNSUPPORTED'
  | 'CRL_TOO_LARGE'
  | 'CRL_ISSUER_MISMATCH'
  | 'CRL_BAD_SIGNATURE'
  | 'CRL_NOT_YET_VALID'
  | 'CRL_FETCH_FAILED';

export class PkiError extends McimError {
  declare readonly code: PkiErrorCode;
  /**
   * The certificate at fault, where one is (chain validation): the one whose signature, validity, role, key usage,
   * CA flag, issuer or name fails the check. Undefined when no certificate of the chain is (e.g. no trusted CI).
   */
  readonly certificate: GsmaCertificate | undefined;
  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown; certificate?: GsmaCertificate }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.certificate = options?.certificate;
  }
}
