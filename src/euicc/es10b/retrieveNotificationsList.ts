// SGP.22 v2.5 5.7.10 ES10b.RetrieveNotificationsList, with SGP.32 v1.2 5.9's additions: the signed pending notifications by sequence number or event, or the kept eUICC Package results.
import { PendingNotification as Sgp22PendingNotification, hasNamedBit } from '../../asn1/definitions/rsp.js';
import { EuiccPackageResult, RetrieveNotificationsListRequest, RetrieveNotificationsListResponse } from '../../asn1/definitions/sgp32.js';
import { decode, encode } from '../../asn1/schema.js';
import type { EuiccCore } from '../core.js';

/**
 * Without searchCriteria or by event: the notifications (A0). euiccPackageResults (SGP.32): every kept
 * EuiccPackageResult (A2). By seqNumber: the notification with that number (A0), else the package result with it
 * (A2), else an empty notification list. Notifications and package results share one sequence of numbers.
 */
export function retrieveNotificationsList(core: EuiccCore, command: Buffer): Buffer {
  const { searchCriteria } = decode(RetrieveNotificationsListRequest, command);
  const results = core.iot.packageResults;
  const packageResults = (selected: typeof results): Buffer =>
    encode(RetrieveNotificationsListResponse, { type: 'euiccPackageResultList', value: selected.map((r) => decode(EuiccPackageResult, r.result)) });
  if (searchCriteria?.type === 'euiccPackageResults') return packageResults(results);
  const selected = core.state.notifications.filter((n) => {
    if (searchCriteria === undefined) return true;
    return searchCriteria.type === 'seqNumber' ? n.seqNumber === searchCriteria.value : hasNamedBit(searchCriteria.value, n.event);
  });
  if (searchCriteria?.type === 'seqNumber' && selected.length === 0) {
    const result = results.filter((r) => r.seqNumber === searchCriteria.value);
    if (result.length > 0) return packageResults(result);
  }
  return encode(RetrieveNotificationsListResponse, {
    type: 'notificationList',
    value: selected.map((n) => decode(Sgp22PendingNotification, n.pending)),
  });
}
