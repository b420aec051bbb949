// Profile metadata (StoreMetadataRequest, SGP.22 4.4 / 5.5.3): what the eUICC shows, where it sends notifications, the owner and policy rules; one StoreMetadata split over '88' segments as needed (bindProfilePackage).
import { decode } from '../asn1/schema.js';
import { NotificationEvent, OperatorId, PprId, ProfileClass, namedBitString, type StoreMetadataRequest } from '../asn1/definitions/rsp.js';
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
  if (order.icon !== undefined && order.iconType !== undefined) {
    metadata.iconType = order.iconType;
    metadata.icon = order.icon;
  }
  if (order.profileOwner !== undefined) metadata.profileOwner = decode(OperatorId, order.profileOwner);
  if (order.profilePolicyRules !== undefined && order.profilePolicyRules !== 0) {
    metadata.profilePolicyRules = namedBitString(Object.values(PprId).filter((id) => (order.profilePolicyRules! & (1 << id)) !== 0));
  }
  return metadata;
}
