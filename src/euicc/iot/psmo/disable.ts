// SGP.32 v1.2 3.4.2 Disable Profile (PSMO disable): disables the enabled profile.
import { NotificationEvent, PprId } from '../../../asn1/definitions/rsp.js';
import { DisableProfileResult, type EuiccResultData, type IccidOnly } from '../../../asn1/definitions/sgp32.js';
import { hasPpr } from '../../profilePolicy.js';
import { findByIccid, notify, replaceProfile, type PackageDraft } from '../packageDraft.js';

/**
 * 3.4.2's checks in order: a disable after an enable or another disable in the same package fails (no code named:
 * undefinedError, 127); iccidOrAidNotFound (1); profileNotInEnabledState (2); disallowedByPolicy (3) for PPR1.
 */
export function disable(d: PackageDraft, psmo: IccidOnly): EuiccResultData {
  const result = (value: number): EuiccResultData => ({ type: 'disableResult', value });
  if (d.enableDone || d.disableDone) return result(DisableProfileResult.undefinedError);
  const target = findByIccid(d, psmo.iccid);
  if (target === undefined) return result(DisableProfileResult.iccidOrAidNotFound);
  if (target.state !== 'enabled') return result(DisableProfileResult.profileNotInEnabledState);
  if (hasPpr(d.core.metadataOf(target).profilePolicyRules, PprId.ppr1)) return result(DisableProfileResult.disallowedByPolicy);
  notify(d, target, NotificationEvent.notificationDisable);
  replaceProfile(d, target, { ...target, state: 'disabled' });
  d.disableDone = true;
  d.profileChanged = true;
  return result(DisableProfileResult.ok);
}
