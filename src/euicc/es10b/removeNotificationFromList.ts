// SGP.22 v2.5 5.7.11 ES10b.RemoveNotificationFromList (and SGP.32 v1.2 5.9: for eUICC Package results too): deletes a pending notification or kept package result the IPA has delivered.
import { decode, encode } from '../../asn1/schema.js';
import { NotificationSentRequest, NotificationSentResponse } from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';

const OK = 0;
const NOTHING_TO_DELETE = 1;

export function removeNotificationFromList(core: EuiccCore, command: Buffer): Buffer {
  const { seqNumber } = decode(NotificationSentRequest, command);
  const state = core.state;
  const remaining = state.notifications.filter((n) => n.seqNumber !== seqNumber);
  const iot = core.iot;
  const results = iot.packageResults.filter((r) => r.seqNumber !== seqNumber);
  if (remaining.length === state.notifications.length && results.length === iot.packageResults.length) {
    return encode(NotificationSentResponse, { deleteNotificationStatus: NOTHING_TO_DELETE });
  }
  core.commit({ ...state, notifications: remaining, ...(results.length !== iot.packageResults.length ? { iot: { ...iot, packageResults: results } } : {}) });
  return encode(NotificationSentResponse, { deleteNotificationStatus: OK });
}
