// SGP.22 4.1 Activation Code: '1' $ SM-DP+ Address $ AC_Token [$ SM-DP+ OID [$ Confirmation Code Required Flag]], prefixed 'LPA:' as a QR code carries it.
import { OperatorError } from './errors.js';
import { MATCHING_ID, isSmdpAddress } from './identifiers.js';

/** The longest activation code (SGP.22 4.1). */
const MAX_ACTIVATION_CODE = 255;

/** The activation code an operator hands to the end user after ConfirmOrder; the OID field stays empty when only the flag follows. */
export function activationCode(smdpAddress: string, matchingId: string, confirmationCodeRequired: boolean): string {
  if (!isSmdpAddress(smdpAddress)) throw new OperatorError('INVALID_ARGUMENT', `'${smdpAddress}' is not an SM-DP+ address (host[:port])`);
  if (!MATCHING_ID.test(matchingId)) throw new OperatorError('INVALID_ARGUMENT', `'${matchingId}' is not a matching ID (A-Z, 0-9, '-')`);
  const code = `LPA:1$${smdpAddress}$${matchingId}${confirmationCodeRequired ? '$$1' : ''}`;
  if (code.length - 'LPA:'.length > MAX_ACTIVATION_CODE) throw new OperatorError('INVALID_ARGUMENT', `the activation code exceeds ${MAX_ACTIVATION_CODE} characters`);
  return code;
}
