// SGP.22 v2.5 5.7.11 ES10b.RemoveNotificationFromList: deletes a pending notification the LPA has delivered.
import { decode, encode } from '../../asn1/schema.js';
import { NotificationSentRequest, NotificationSentResponse } from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';

const OK = 0;
const NOTHING_TO_DELETE = 1;

export function removeNotificationFromList(core: EuiccCore, command: Buffer): Buffer {
  const { seqNumber } = decode(NotificationSentRequest, command);
  const state = core.state;
  const remaining = state.notifications.filter((n) => n.seqNumber !== seqNumber);
  if (remaining.length === state.notifications.length) {
    return encode(NotificationSentResponse, { deleteNotificationStatus: NOTHING_TO_DELETE });
  }
  core.commit({ ...state, notifications: remaining });
  return encode(NotificationSentResponse, { deleteNotificationStatus: OK });
}
