// SGP.22 3.5 Notifications: the LPA lists the pending notifications, delivers each to its address (ES9+ handleNotification) and removes it (ES10b).
import { NotificationEvent, namedBitList, type NotificationMetadata } from '../asn1/definitions/rsp.js';
import { iccidDigitsFromEf } from '../asn1/definitions/saip.js';
import type { Es10Client } from './es10Client.js';
import { Es9PlusClient } from './es9plus/es9plusClient.js';
import { handleNotification } from './es9plus/handleNotification.js';
import type { HttpsClientOptions } from './httpsClient.js';
import { listNotification } from './es10b/listNotification.js';
import { removeNotificationFromList } from './es10b/removeNotificationFromList.js';
import { retrieveNotificationsList } from './es10b/retrieveNotificationsList.js';

export type NotificationEventName = keyof typeof NotificationEvent;

export interface NotificationSummary {
  readonly seqNumber: number;
  readonly events: NotificationEventName[];
  readonly notificationAddress: string;
  readonly iccid?: string;
}

export interface DeliveryReport extends NotificationSummary {
  readonly delivered: boolean;
  readonly error?: string;
}

export function summarizeNotification(m: NotificationMetadata): NotificationSummary {
  const names = Object.keys(NotificationEvent) as NotificationEventName[];
  const events = namedBitList(m.profileManagementOperation)
    .map((bit) => names.find((n) => NotificationEvent[n] === bit))
    .filter((n): n is NotificationEventName => n !== undefined);
  return {
    seqNumber: m.seqNumber,
    events,
    notificationAddress: m.notificationAddress,
    ...(m.iccid ? { iccid: iccidDigitsFromEf(m.iccid) } : {}),
  };
}

/** The pending notifications' metadata (ES10b.ListNotification). */
export async function listPendingNotifications(es10: Es10Client): Promise<NotificationSummary[]> {
  return (await listNotification(es10)).map(summarizeNotification);
}

/**
 * Delivers every pending notification (or only `seqNumbers`) to its notification address and
 * removes the delivered ones from the eUICC. One TLS connection per address. A notification whose
 * delivery fails stays pending and is reported with its error; the others go on.
 */
export async function sendPendingNotifications(
  es10: Es10Client,
  http: HttpsClientOptions = {},
  seqNumbers?: readonly number[],
): Promise<DeliveryReport[]> {
  const pending = (await retrieveNotificationsList(es10)).filter((n) => !seqNumbers || seqNumbers.includes(n.metadata.seqNumber));
  const clients = new Map<string, Es9PlusClient>();
  const reports: DeliveryReport[] = [];
  try {
    for (const n of pending) {
      const summary = summarizeNotification(n.metadata);
      const key = summary.notificationAddress.toLowerCase();
      try {
        let client = clients.get(key);
        if (!client) {
          client = new Es9PlusClient(summary.notificationAddress, http);
          clients.set(key, client);
        }
        await handleNotification(client, n.der);
        await removeNotificationFromList(es10, summary.seqNumber);
        reports.push({ ...summary, delivered: true });
      } catch (e) {
        reports.push({ ...summary, delivered: false, error: e instanceof Error ? e.message : String(e) });
      }
    }
  } finally {
    for (const c of clients.values()) c.close();
  }
  return reports;
}
