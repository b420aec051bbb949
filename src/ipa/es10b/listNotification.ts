// SGP.22 5.7.9 ES10b.ListNotification: the metadata of the notifications pending on the eUICC.
import { ListNotificationRequest, ListNotificationResponse, type NotificationMetadata } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

export async function listNotification(client: Es10Client): Promise<NotificationMetadata[]> {
  const fn = 'ListNotification';
  const response = decodeEs10Response(ListNotificationResponse, await client.command(ListNotificationRequest.encode({}), fn), fn);
  if (response.type === 'listNotificationsResultError') throw new Es10ResultError(fn, response.value, response.value === 127 ? 'undefinedError' : undefined);
  return response.value;
}
