// Typed errors of the GSMA-side crypto (ECDSA/ECKA per BSI TR-03111, BSP per SGP.22 2.6.4).
import { McimError } from '../errors.js';

export type CryptoErrorCode =
  /** A public key point is malformed, not uncompressed where required, or not on the curve. */
  | 'INVALID_POINT'
  /** A key is not an EC key on a supported curve, or of the wrong type (public/private) or curve. */
  | 'INVALID_KEY'
  /** A signature is not a valid plain (r || s) or DER ECDSA-Sig-Value encoding. */
  | 'INVALID_SIGNATURE_ENCODING'
  /** A key or argument has the wrong length or value. */
  | 'INVALID_ARGUMENT'
  /** The control reference template asks for something SGP.22 does not define (key type or length). */
  | 'BSP_UNSUPPORTED_CRT'
  /** A BSP segment is malformed: wrong tag, bad or non-minimal length, truncated, too long. */
  | 'BSP_SEGMENT'
  /** A BSP segment's C-MAC does not verify (tampering, reordering, replay or wrong keys). */
  | 'BSP_MAC_FAILURE'
  /** A BSP segment decrypted under a valid MAC but its 80 00.. padding is wrong. */
  | 'BSP_PADDING'
  /** The BSP session has failed earlier and refuses further segments. */
  | 'BSP_SESSION_ABORTED';

export class CryptoError extends McimError {
  declare readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
