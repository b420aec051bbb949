// SGP.32 v1.2 3.4.3 Delete Profile (PSMO delete): deletes a disabled profile and its credentials.
import { NotificationEvent, PprId } from '../../../asn1/definitions/rsp.js';
import { DeleteProfileResult, type EuiccResultData, type IccidOnly } from '../../../asn1/definitions/sgp32.js';
import { hasPpr } from '../../profilePolicy.js';
import { findByIccid, notify, withFallback, type PackageDraft } from '../packageDraft.js';

/**
 * iccidOrAidNotFound (1); profileNotInDisabledState (2) for the enabled profile, including one this package enabled;
 * rollbackNotAvailable (20) for the profile an earlier enable with rollbackFlag in this package would return to;
 * returnFallbackProfile (21) for the profile ExecuteFallbackMechanism disabled and ReturnFromFallback would enable again;
 * disallowedByPolicy (3) for PPR2. Deleting the Fallback Profile also removes the Fallback Attribute.
 */
export function deleteProfile(d: PackageDraft, psmo: IccidOnly): EuiccResultData {
  const result = (value: number): EuiccResultData => ({ type: 'deleteResult', value });
  const target = findByIccid(d, psmo.iccid);
  if (target === undefined) return result(DeleteProfileResult.iccidOrAidNotFound);
  if (target.state !== 'disabled') return result(DeleteProfileResult.profileNotInDisabledState);
  if (d.rollback?.previousIccid.equals(target.iccid) === true) return result(DeleteProfileResult.rollbackNotAvailable);
  if (d.iot.fallbackReturnIccid?.equals(target.iccid) === true) return result(DeleteProfileResult.returnFallbackProfile);
  if (hasPpr(d.core.metadataOf(target).profilePolicyRules, PprId.ppr2)) return result(DeleteProfileResult.disallowedByPolicy);
  notify(d, target, NotificationEvent.notificationDelete);
  d.profiles = d.profiles.filter((p) => p !== target);
  if (d.iot.fallbackIccid?.equals(target.iccid) === true) d.iot = withFallback(d.iot, undefined);
  d.profileChanged = true;
  return result(DeleteProfileResult.ok);
}
