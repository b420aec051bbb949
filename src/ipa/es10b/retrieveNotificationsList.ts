// SGP.22 5.7.10 ES10b.RetrieveNotificationsList: the signed pending notifications (PIRs and other signed notifications).
import { PendingNotification, RetrieveNotificationsListRequest, RetrieveNotificationsListResponse, type NotificationMetadata } from '../../asn1/definitions/rsp.js';
import { decodeTlv } from '../../asn1/tlv.js';
import { decode } from '../../asn1/schema.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

export interface RetrievedNotification {
  /** The PendingNotification exactly as the eUICC returned it: relayed to handleNotification. */
  readonly der: Buffer;
  readonly metadata: NotificationMetadata;
}

/** Every pending notification, or the one with `seqNumber`. noResult (1) is an empty list. */
export async function retrieveNotificationsList(client: Es10Client, seqNumber?: number): Promise<RetrievedNotification[]> {
  const fn = 'RetrieveNotificationsList';
  const request = RetrieveNotificationsListRequest.encode(
    seqNumber === undefined ? {} : { searchCriteria: { type: 'seqNumber', value: seqNumber } },
  );
  const der = await client.command(request, fn);
  const response = decodeEs10Response(RetrieveNotificationsListResponse, der, fn);
  if (response.type === 'notificationsListResultError') {
    if (response.value === 1) return [];
    throw new Es10ResultError(fn, response.value, response.value === 127 ? 'undefinedError' : undefined);
  }
  // BF2B { A0 { PendingNotification... } }: the raw elements, each decoded again for its metadata.
  const list = decodeTlv(der).children?.[0]?.children ?? [];
  return list.map((tlv) => {
    const pending = decode(PendingNotification, tlv.raw);
    const metadata =
      pending.type === 'profileInstallationResult'
        ? pending.value.profileInstallationResultData.value.notificationMetadata
        : pending.value.tbsOtherNotification.value;
    return { der: tlv.raw, metadata };
  });
}
