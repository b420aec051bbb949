// Typed reasons a GSMA RSP certificate or chain is rejected (SGP.22 4.5.2.2 certificate verification).
import { McimError } from '../errors.js';
import type { GsmaCertificate } from './certificate.js';

export type PkiErrorCode =
  /** The certificate is not a well-formed DER X.509 v3 certificate, or lacks a component SGP.22 requires. */
  | 'MALFORMED'
  /** Signature or key algorithm other than ECDSA-with-SHA256 over P-256 or brainpoolP256r1. */
  | 'UNSUPPORTED_ALGORITHM'
  /** A critical extension the validator does not process (RFC 5280 4.2). */
  | 'UNKNOWN_CRITICAL_EXTENSION'
  /** A signature in the chain does not verify. */
  | 'BAD_SIGNATURE'
  /** The validation time is after a certificate's notAfter. */
  | 'EXPIRED'
  /** The validation time is before a certificate's notBefore. */
  | 'NOT_YET_VALID'
  /** The chain ends at a CI whose key identifier is not trusted by the verifier, or at no known CI. */
  | 'UNKNOWN_CI'
  /** A certificate's policy (GSMA role) does not match its place in the chain or the expected use. */
  | 'WRONG_ROLE'
  /** Key usage or extended key usage does not allow the certificate's use. */
  | 'WRONG_KEY_USAGE'
  /** A certificate that signs another certificate is not a CA (basicConstraints). */
  | 'NOT_A_CA'
  /** More certificates than the use allows, or a path length constraint is exceeded. */
  | 'CHAIN_TOO_LONG'
  /** Issuer name and authority key identifier do not designate the same issuing certificate. */
  | 'ISSUER_MISMATCH'
  /** The eUICC's EID is not inside its EUM's permitted name constraints. */
  | 'EID_OUT_OF_RANGE'
  /** The eUICC subject carries no EID, or one that is not 32 digits with valid check digits. */
  | 'INVALID_EID';

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
