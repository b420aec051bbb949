// SGP.22 v2.5 5.7.9 ES10b.ListNotification: the metadata of pending notifications, optionally filtered by event.
import { decode, encode } from '../../asn1/schema.js';
import { ListNotificationRequest, ListNotificationResponse, NotificationMetadata, hasNamedBit } from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';

export function listNotification(core: EuiccCore, command: Buffer): Buffer {
  const { profileManagementOperation: filter } = decode(ListNotificationRequest, command);
  const selected = core.state.notifications.filter((n) => filter === undefined || hasNamedBit(filter, n.event));
  return encode(ListNotificationResponse, {
    type: 'notificationMetadataList',
    value: selected.map((n) => decode(NotificationMetadata, n.metadata)),
  });
}
