// SGP.22 5.3.3 ES2+.CancelOrder: ends a pending order; the profile goes back to stock (Available) or is never used again (Unavailable).
import type { Es2PlusClient } from './es2plusClient.js';
import { OperatorError } from './errors.js';
import { EID, ICCID, MATCHING_ID, checkArgument } from './identifiers.js';

export type FinalProfileStatus = 'Available' | 'Unavailable';

export interface CancelOrderRequest {
  readonly iccid: string;
  /** Required when an EID is associated with the order. */
  readonly eid?: string;
  /** Required when a MatchingID was allocated. */
  readonly matchingId?: string;
  readonly finalProfileStatusIndicator: FinalProfileStatus;
}

export async function cancelOrder(client: Es2PlusClient, request: CancelOrderRequest): Promise<{ readonly functionCallIdentifier: string }> {
  checkArgument(request.iccid, ICCID, 'an ICCID (19 digits, or 20 with the last a digit or F)');
  if (request.eid !== undefined) checkArgument(request.eid, EID, 'an EID (32 digits)');
  if (request.matchingId !== undefined) checkArgument(request.matchingId, MATCHING_ID, "a matching ID (A-Z, 0-9 and '-', at most 255)");
  if (request.finalProfileStatusIndicator !== 'Available' && request.finalProfileStatusIndicator !== 'Unavailable') {
    throw new OperatorError('INVALID_ARGUMENT', `the final profile status is Available or Unavailable, not '${String(request.finalProfileStatusIndicator)}'`);
  }
  const result = await client.call('cancelOrder', request);
  return { functionCallIdentifier: result.functionCallIdentifier };
}
