// SGP.22 5.3.1 ES2+.DownloadOrder: reserves a profile, by ICCID or by profile type, optionally linked to an EID.
import type { Es2PlusClient } from './es2plusClient.js';
import { OperatorError } from './errors.js';
import { EID, ICCID, checkArgument, unpaddedIccid } from './identifiers.js';

export interface DownloadOrderRequest {
  readonly eid?: string;
  readonly iccid?: string;
  /** The operator's profile type name (content free, at most 64 characters in mcim). */
  readonly profileType?: string;
}

export interface DownloadOrderResult {
  /** The ICCID the SM-DP+ reserved: the one asked for, or one of the profile type. */
  readonly iccid: string;
  readonly functionCallIdentifier: string;
}

/** At least an ICCID or a profile type (SGP.22 3.1.1.2); the answered ICCID is checked against the one asked for. */
export async function downloadOrder(client: Es2PlusClient, request: DownloadOrderRequest): Promise<DownloadOrderResult> {
  if (request.iccid === undefined && request.profileType === undefined) {
    throw new OperatorError('INVALID_ARGUMENT', 'DownloadOrder needs an ICCID or a profile type');
  }
  if (request.eid !== undefined) checkArgument(request.eid, EID, 'an EID (32 digits)');
  if (request.iccid !== undefined) checkArgument(request.iccid, ICCID, 'an ICCID (19 digits, or 20 with the last a digit or F)');
  if (request.profileType !== undefined && (request.profileType.length === 0 || request.profileType.length > 64)) {
    throw new OperatorError('INVALID_ARGUMENT', 'a profile type is 1 to 64 characters');
  }
  const result = await client.call('downloadOrder', request);
  const iccid = result.response.iccid;
  if (!ICCID.test(iccid)) throw new OperatorError('INVALID_SERVER_RESPONSE', `ES2+ downloadOrder: the SM-DP+ answered '${iccid}', not an ICCID`);
  if (request.iccid !== undefined && unpaddedIccid(iccid) !== unpaddedIccid(request.iccid)) {
    throw new OperatorError('INVALID_SERVER_RESPONSE', `ES2+ downloadOrder: the SM-DP+ reserved ${iccid}, not the ICCID ${request.iccid} asked for`);
  }
  return { iccid, functionCallIdentifier: result.functionCallIdentifier };
}
