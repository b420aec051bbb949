// SGP.22 v2.5 5.7.10 ES10b.RetrieveNotificationsList: the signed pending notifications, by sequence number or event.
import { decode, encode } from '../../asn1/schema.js';
import {
  PendingNotification,
  RetrieveNotificationsListRequest,
  RetrieveNotificationsListResponse,
  hasNamedBit,
} from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';

export function retrieveNotificationsList(core: EuiccCore, command: Buffer): Buffer {
  const { searchCriteria } = decode(RetrieveNotificationsListRequest, command);
  const selected = core.state.notifications.filter((n) => {
    if (searchCriteria === undefined) return true;
    return searchCriteria.type === 'seqNumber' ? n.seqNumber === searchCriteria.value : hasNamedBit(searchCriteria.value, n.event);
  });
  return encode(RetrieveNotificationsListResponse, {
    type: 'notificationList',
    value: selected.map((n) => decode(PendingNotification, n.pending)),
  });
}
