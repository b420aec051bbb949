// Profile metadata (StoreMetadataRequest, SGP.22 4.4 / 5.5.3): what the eUICC shows and where it sends notifications.
import { NotificationEvent, ProfileClass, namedBitString, type StoreMetadataRequest } from '../asn1/definitions/rsp.js';
import { encodeIccid } from '../asn1/definitions/saip.js';
import type { Order } from '../store/smdpStore.js';

/** Install, enable, disable and delete notifications all go to this SM-DP+. */
const ALL_EVENTS = [
  NotificationEvent.notificationInstall,
  NotificationEvent.notificationEnable,
  NotificationEvent.notificationDisable,
  NotificationEvent.notificationDelete,
];

export function profileMetadata(order: Order, notificationAddress: string): StoreMetadataRequest {
  const metadata: StoreMetadataRequest = {
    iccid: encodeIccid(order.iccid),
    serviceProviderName: order.serviceProviderName,
    profileName: order.profileName,
    notificationConfigurationInfo: [{ profileManagementOperation: namedBitString(ALL_EVENTS), notificationAddress }],
  };
  // profileClass is DEFAULT operational: DER leaves the default out.
  if (order.profileClass !== ProfileClass.operational) metadata.profileClass = order.profileClass;
  return metadata;
}
