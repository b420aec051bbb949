// SGP.32 v1.2 5.14.5 ESipa.HandleNotification (3.6): a pending notification of the eUICC (its signature verified against the device's registered eUICC certificate, recorded once, the registry's profiles updated), or a ProvideEimPackageResult delivered as a notification.
import { PendingNotification } from '../asn1/definitions/sgp32.js';
import { Asn1Error } from '../asn1/errors.js';
import { decode } from '../asn1/schema.js';
import type { NotificationMetadata } from '../asn1/definitions/rsp.js';
import { verifyPlain } from '../crypto/ecdsa.js';
import { parseCertificate } from '../pki/certificate.js';
import { isValidEid } from '../pki/eid.js';
import type { Device, StoredProfile } from '../store/eimStore.js';
import type { EimContext } from './context.js';
import { euiccKey, profilesAfterNotification, verifyPir } from './deviceRecords.js';
import { EimError } from './errors.js';

export interface CheckedNotification {
  readonly seqNumber: number;
  readonly profiles: ((current: readonly StoredProfile[] | undefined) => readonly StoredProfile[] | undefined) | undefined;
}

/** ESipa answers a refused notification with no code of its own: the undefined error of the bindings. */
const UNDEFINED = 127;

/**
 * A notification of `device`'s eUICC, its signature checked (euiccNotificationSignature over tbsOtherNotification as
 * received; euiccSignPIR over ProfileInstallationResultData), else RESULT_SIGNATURE_INVALID; an other-signed
 * notification must carry the device's registered eUICC certificate, if it carries one.
 */
export function checkNotification(device: Device, n: PendingNotification): CheckedNotification {
  const bad = (): never => {
    throw new EimError('RESULT_SIGNATURE_INVALID', `a notification of ${device.eid} is not signed by its registered eUICC`, { esipaCode: UNDEFINED });
  };
  let metadata: NotificationMetadata;
  switch (n.type) {
    case 'profileInstallationResult':
      verifyPir(device, n.value, UNDEFINED);
      metadata = n.value.profileInstallationResultData.value.notificationMetadata;
      break;
    case 'otherSignedNotification':
      if (!n.value.euiccCertificate.equals(device.euiccCertificate)) bad();
      if (!verifyPlain(euiccKey(device), n.value.tbsOtherNotification.der, n.value.euiccNotificationSignature)) bad();
      metadata = n.value.tbsOtherNotification.value;
      break;
    case 'compactOtherSignedNotification':
      if (!verifyPlain(euiccKey(device), n.value.tbsOtherNotification.der, n.value.euiccNotificationSignature)) bad();
      metadata = n.value.tbsOtherNotification.value;
      break;
    case 'compactProfileInstallationResult':
      if (!verifyPlain(euiccKey(device), n.value.compactProfileInstallationResultData.der, n.value.euiccSignPIR)) bad();
      return { seqNumber: n.value.compactProfileInstallationResultData.value.seqNumber, profiles: undefined };
  }
  return { seqNumber: metadata.seqNumber, profiles: profilesAfterNotification(metadata) };
}

/** The registered device a notification names: by the EID of its eUICC certificate, or its eidValue (compact form). */
async function deviceOfNotification(ctx: EimContext, n: PendingNotification): Promise<Device> {
  let eid: string | undefined;
  if (n.type === 'otherSignedNotification') {
    eid = parseCertificate(n.value.euiccCertificate).eid;
  } else if (n.type === 'compactOtherSignedNotification') {
    eid = n.value.eidValue?.toString('hex');
  }
  if (eid === undefined || !/^[0-9]{32}$/.test(eid) || !isValidEid(eid)) {
    throw new EimError('NOTIFICATION_UNATTRIBUTABLE', `a ${n.type} names no EID: the eIM takes installation results with their download trigger's result`, { esipaCode: UNDEFINED });
  }
  const device = await ctx.store.getDevice(eid);
  if (device === undefined) throw new EimError('DEVICE_NOT_FOUND', `no device ${eid} in the registry`, { esipaCode: 2 });
  return device;
}

/** What the eIM did with a notification: recorded (first time) or already known (a resend). */
export interface NotificationAnswer {
  readonly seqNumber?: number;
  readonly recorded: boolean;
}

/**
 * HandleNotification with a pendingNotification (SGP32-PendingNotification as received): attributed (its eUICC
 * certificate's EID, or the compact form's eidValue; NOTIFICATION_UNATTRIBUTABLE otherwise), checked, and recorded once
 * with its change to the registry's profiles (a second delivery changes nothing). A ProvideEimPackageResult delivered
 * as a notification is ProvideEimPackageResult's (provideEimPackageResultMessage).
 */
export async function handleNotification(ctx: EimContext, pendingNotificationDer: Buffer): Promise<NotificationAnswer> {
  let n: PendingNotification;
  try {
    n = decode(PendingNotification, pendingNotificationDer);
  } catch (cause) {
    if (cause instanceof Asn1Error) throw new EimError('INVALID_ARGUMENT', `the notification is malformed: ${cause.message}`, { esipaCode: UNDEFINED, cause });
    throw cause;
  }
  const device = await deviceOfNotification(ctx, n);
  const checked = checkNotification(device, n);
  // Taken over for its SM-DP+ before the IPA hears back (HTTP 204), so that it may delete it (SGP.32 3.6).
  const address = notificationAddress(n);
  if (address !== undefined) await ctx.forwarder?.take(device.eid, checked.seqNumber, address, pendingNotificationDer);
  const { fresh } = await ctx.store.recordNotifications(device.eid, [checked.seqNumber], checked.profiles, ctx.now());
  return { seqNumber: checked.seqNumber, recorded: fresh.length === 1 };
}

/** Where a notification goes (its metadata's notificationAddress); the compact forms carry none. */
export function notificationAddress(n: PendingNotification): string | undefined {
  switch (n.type) {
    case 'profileInstallationResult':
      return n.value.profileInstallationResultData.value.notificationMetadata.notificationAddress;
    case 'otherSignedNotification':
      return n.value.tbsOtherNotification.value.notificationAddress;
    default:
      return undefined;
  }
}
