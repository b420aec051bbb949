// SGP.22 3.2 Local Profile Management (3.2.1 enable, 3.2.2 disable, 3.2.3 delete, 3.2.4 list) with the notifications of 3.5 delivered after each change.
import { ProfileClass, ProfileState, type ProfileInfo } from '../asn1/definitions/rsp.js';
import { encodeIccid, iccidDigitsFromEf } from '../asn1/definitions/saip.js';
import { Asn1Error } from '../asn1/errors.js';
import { deleteProfile } from './es10c/deleteProfile.js';
import { disableProfile } from './es10c/disableProfile.js';
import { enableProfile } from './es10c/enableProfile.js';
import type { Es10Client } from './es10Client.js';
import { IpaError } from './errors.js';
import { getProfilesInfo } from './es10c/getProfilesInfo.js';
import type { HttpsClientOptions } from './httpsClient.js';
import { sendPendingNotifications, type DeliveryReport } from './notifications.js';

export interface ProfileSummary {
  readonly iccid?: string;
  readonly isdpAid?: string;
  readonly state?: 'enabled' | 'disabled';
  readonly nickname?: string;
  readonly serviceProviderName?: string;
  readonly profileName?: string;
  readonly profileClass?: 'test' | 'provisioning' | 'operational';
}

export function summarizeProfile(p: ProfileInfo): ProfileSummary {
  const className = (Object.keys(ProfileClass) as (keyof typeof ProfileClass)[]).find((k) => ProfileClass[k] === p.profileClass);
  return {
    ...(p.iccid ? { iccid: iccidDigitsFromEf(p.iccid) } : {}),
    ...(p.isdpAid ? { isdpAid: p.isdpAid.toString('hex').toUpperCase() } : {}),
    ...(p.profileState !== undefined ? { state: p.profileState === ProfileState.enabled ? 'enabled' : 'disabled' } : {}),
    ...(p.profileNickname !== undefined ? { nickname: p.profileNickname } : {}),
    ...(p.serviceProviderName !== undefined ? { serviceProviderName: p.serviceProviderName } : {}),
    ...(p.profileName !== undefined ? { profileName: p.profileName } : {}),
    ...(className ? { profileClass: className } : {}),
  };
}

/** The ICCID's EF_ICCID coding, from 18 to 20 digits. */
export function iccidBytes(iccid: string): Buffer {
  try {
    return encodeIccid(iccid);
  } catch (e) {
    if (e instanceof Asn1Error) throw new IpaError('INVALID_ARGUMENT', `'${iccid}' is not an ICCID (18 to 20 digits)`, { cause: e });
    throw e;
  }
}

export async function listProfiles(es10: Es10Client): Promise<ProfileSummary[]> {
  return (await getProfilesInfo(es10)).map(summarizeProfile);
}

export type ProfileOperation = 'enable' | 'disable' | 'delete';

export interface ProfileOperationResult {
  readonly operation: ProfileOperation;
  readonly iccid: string;
  /** The notifications delivered afterwards (empty when delivery was not asked for). */
  readonly notifications: DeliveryReport[];
}

/** Runs the operation, then (unless `notify` is false) delivers the pending notifications. */
export async function manageProfile(
  es10: Es10Client,
  operation: ProfileOperation,
  iccid: string,
  options: { readonly notify?: boolean; readonly http?: HttpsClientOptions } = {},
): Promise<ProfileOperationResult> {
  const coded = iccidBytes(iccid);
  if (operation === 'enable') await enableProfile(es10, coded);
  else if (operation === 'disable') await disableProfile(es10, coded);
  else await deleteProfile(es10, coded);
  const notifications = options.notify === false ? [] : await sendPendingNotifications(es10, options.http);
  return { operation, iccid, notifications };
}
