// SGP.22 5.7.11 ES10b.RemoveNotificationFromList: the eUICC drops a notification once delivered.
import { NotificationSentRequest, NotificationSentResponse } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

const ERRORS: Readonly<Record<number, string>> = { 1: 'nothingToDelete', 127: 'undefinedError' };

export async function removeNotificationFromList(client: Es10Client, seqNumber: number): Promise<void> {
  const fn = 'RemoveNotificationFromList';
  const der = await client.command(NotificationSentRequest.encode({ seqNumber }), fn);
  const status = decodeEs10Response(NotificationSentResponse, der, fn).deleteNotificationStatus;
  if (status !== 0) throw new Es10ResultError(fn, status, ERRORS[status], { detail: `seqNumber ${seqNumber}` });
}
