// SGP.22 5.7.14 ES10b.CancelSession: the eUICC ends the download session and signs the reason for the SM-DP+.
import { CancelSessionRequest, CancelSessionResponse } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

const ERRORS: Readonly<Record<number, string>> = { 5: 'invalidTransactionId', 127: 'undefinedError' };

/** Returns the whole BF41 response (cancelSessionResponseOk) for ES9+ cancelSession. */
export async function cancelSession(client: Es10Client, transactionId: Buffer, reason: number): Promise<Buffer> {
  const fn = 'CancelSession';
  const der = await client.command(CancelSessionRequest.encode({ transactionId, reason }), fn);
  const response = decodeEs10Response(CancelSessionResponse, der, fn);
  if (response.type === 'cancelSessionResponseError') throw new Es10ResultError(fn, response.value, ERRORS[response.value]);
  return der;
}
