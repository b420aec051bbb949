// SGP.22 5.3.2 ES2+.ConfirmOrder: confirms a reserved profile with its MatchingID, EID, confirmation code and SM-DS address, and releases it at once or later.
import type { Es2PlusClient } from './es2plusClient.js';
import { OperatorError } from './errors.js';
import { EID, FQDN, ICCID, MATCHING_ID, checkArgument, isSmdpAddress } from './identifiers.js';

export interface ConfirmOrderRequest {
  readonly iccid: string;
  /** Required when an EID was given to DownloadOrder (the same one), or for the SM-DS and Default SM-DP+ use cases. */
  readonly eid?: string;
  /** Absent: the SM-DP+ generates one; empty: the Default SM-DP+ use case (the order is found by EID). */
  readonly matchingId?: string;
  /** The plain confirmation code; the SM-DP+ keeps only its hash (SGP.22 3.1.3). */
  readonly confirmationCode?: string;
  /** The SM-DS to register the event at (SGP.22 3.6.1): needs a non-empty MatchingID. */
  readonly smdsAddress?: string;
  /** true: released at once; false: a later ReleaseProfile releases it. */
  readonly releaseFlag: boolean;
}

export interface ConfirmOrderResult {
  readonly eid: string | undefined;
  readonly matchingId: string;
  /** The address the SM-DP+ asks to be put into the activation code instead of its default one. */
  readonly smdpAddress: string | undefined;
  readonly functionCallIdentifier: string;
}

/** Checks the arguments against the use cases of SGP.22 Table 6a, calls, and checks the answer can go into an activation code. */
export async function confirmOrder(client: Es2PlusClient, request: ConfirmOrderRequest): Promise<ConfirmOrderResult> {
  checkArgument(request.iccid, ICCID, 'an ICCID (19 digits, or 20 with the last a digit or F)');
  if (request.eid !== undefined) checkArgument(request.eid, EID, 'an EID (32 digits)');
  if (request.matchingId !== undefined) checkArgument(request.matchingId, MATCHING_ID, "a matching ID (A-Z, 0-9 and '-', at most 255)");
  if (request.confirmationCode !== undefined && (request.confirmationCode.length === 0 || request.confirmationCode.length > 128)) {
    throw new OperatorError('INVALID_ARGUMENT', 'a confirmation code is 1 to 128 characters');
  }
  if (request.smdsAddress !== undefined) {
    checkArgument(request.smdsAddress, FQDN, 'an SM-DS address (FQDN)');
    if (request.matchingId === '') throw new OperatorError('INVALID_ARGUMENT', 'an SM-DS event needs a non-empty matching ID (SGP.22 5.3.2)');
  }
  if (request.matchingId === '' && request.eid === undefined) {
    throw new OperatorError('INVALID_ARGUMENT', 'an empty matching ID (Default SM-DP+) needs the EID');
  }
  const result = await client.call('confirmOrder', request);
  const { eid, matchingId, smdpAddress } = result.response;
  const bad = (why: string): OperatorError => new OperatorError('INVALID_SERVER_RESPONSE', `ES2+ confirmOrder: ${why}`);
  if (!MATCHING_ID.test(matchingId)) throw bad(`the matching ID '${matchingId.slice(0, 64)}' has characters other than A-Z, 0-9 and '-'`);
  if (request.matchingId !== undefined && matchingId !== request.matchingId) throw bad(`the SM-DP+ answered the matching ID '${matchingId}', not '${request.matchingId}'`);
  if (eid !== undefined && !EID.test(eid)) throw bad(`'${eid.slice(0, 64)}' is not an EID`);
  if (eid !== undefined && request.eid !== undefined && eid !== request.eid) throw bad(`the order is bound to EID ${eid}, not ${request.eid}`);
  if (smdpAddress !== undefined && !isSmdpAddress(smdpAddress)) throw bad(`'${smdpAddress.slice(0, 64)}' is not an SM-DP+ address`);
  return { eid, matchingId, smdpAddress, functionCallIdentifier: result.functionCallIdentifier };
}
