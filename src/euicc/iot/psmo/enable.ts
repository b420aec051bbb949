// SGP.32 v1.2 3.4.1 Enable Profile (PSMO enable, with rollbackFlag): enables a disabled profile and disables the enabled one.
import { NotificationEvent, PprId } from '../../../asn1/definitions/rsp.js';
import { EnableProfileResult, type EnablePsmo, type EuiccResultData } from '../../../asn1/definitions/sgp32.js';
import { hasPpr } from '../../profilePolicy.js';
import { findByIccid, notify, replaceProfile, type PackageDraft } from '../packageDraft.js';

/**
 * 3.4.1's checks in order: a second enable in one package fails (SGP.32 names no code for it: mcim answers
 * undefinedError, 127); iccidOrAidNotFound (1); profileNotInDisabledState (2); rollbackNotAvailable (20) when the
 * rollback is asked for and no profile is enabled to return to; disallowedByPolicy (3) when the enabled profile has
 * PPR1. The rollbackFlag's grant is recorded with the profile to return to.
 */
export function enable(d: PackageDraft, psmo: EnablePsmo): EuiccResultData {
  const result = (value: number): EuiccResultData => ({ type: 'enableResult', value });
  if (d.enableDone) return result(EnableProfileResult.undefinedError);
  const target = findByIccid(d, psmo.iccid);
  if (target === undefined) return result(EnableProfileResult.iccidOrAidNotFound);
  if (target.state !== 'disabled') return result(EnableProfileResult.profileNotInDisabledState);
  const current = d.profiles.find((p) => p.state === 'enabled');
  if (psmo.rollbackFlag !== undefined && current === undefined) return result(EnableProfileResult.rollbackNotAvailable);
  if (current !== undefined && hasPpr(d.core.metadataOf(current).profilePolicyRules, PprId.ppr1)) return result(EnableProfileResult.disallowedByPolicy);
  if (current !== undefined) {
    notify(d, current, NotificationEvent.notificationDisable);
    replaceProfile(d, current, { ...current, state: 'disabled' });
  }
  notify(d, target, NotificationEvent.notificationEnable);
  replaceProfile(d, target, { ...target, state: 'enabled' });
  d.enableDone = true;
  d.profileChanged = true;
  if (psmo.rollbackFlag !== undefined && current !== undefined) d.rollback = { previousIccid: current.iccid, enabledIccid: target.iccid };
  return result(EnableProfileResult.ok);
}
