// SGP.32 v1.2 5.9 ES10b.ExecuteFallbackMechanism (tag BF5D; Fallback Mechanism, 3.4.6): the IPA, having lost connectivity, enables the Fallback Profile.
import { NotificationEvent } from '../../asn1/definitions/rsp.js';
import { ExecuteFallbackMechanismRequest, ExecuteFallbackMechanismResponse, ExecuteFallbackMechanismResult } from '../../asn1/definitions/sgp32.js';
import { decode, encode } from '../../asn1/schema.js';
import type { EuiccCore } from '../core.js';
import { findByIccid, newDraft, notify, replaceProfile, withFallbackReturn } from './packageDraft.js';

/**
 * fallbackNotAvailable (6) when no profile has the Fallback Attribute; profileNotInDisabledState (2) when the Fallback
 * Profile is already enabled. Otherwise the enabled profile (if any) is disabled and the Fallback Profile enabled, with
 * their notifications, and the disabled profile is remembered for ReturnFromFallback, all in one commit. The enabled
 * profile's PPR1 does not stop it: the Fallback Mechanism restores connectivity, the Fallback Profile's owner allowed it
 * (fallbackAllowed), and SGP.32 gives the function no disallowedByPolicy code. ecallActive (104) cannot occur: mcim
 * has no Emergency Profile. refreshFlag is accepted: a software eUICC has no REFRESH to send.
 */
export function executeFallbackMechanism(core: EuiccCore, command: Buffer): Buffer {
  decode(ExecuteFallbackMechanismRequest, command);
  const answer = (executeFallbackMechanismResult: number): Buffer => encode(ExecuteFallbackMechanismResponse, { executeFallbackMechanismResult });
  const d = newDraft(core, core.iot);
  const fallbackIccid = d.iot.fallbackIccid;
  const fallback = fallbackIccid === undefined ? undefined : findByIccid(d, fallbackIccid);
  if (fallback === undefined) return answer(ExecuteFallbackMechanismResult.fallbackNotAvailable);
  if (fallback.state !== 'disabled') return answer(ExecuteFallbackMechanismResult.profileNotInDisabledState);
  const current = d.profiles.find((p) => p.state === 'enabled');
  if (current !== undefined) {
    notify(d, current, NotificationEvent.notificationDisable);
    replaceProfile(d, current, { ...current, state: 'disabled' });
  }
  notify(d, fallback, NotificationEvent.notificationEnable);
  replaceProfile(d, fallback, { ...fallback, state: 'enabled' });
  core.commit({
    ...core.state,
    profiles: d.profiles,
    notifications: d.notifications,
    nextSeqNumber: d.nextSeqNumber,
    iot: withFallbackReturn(d.iot, current?.iccid),
  });
  return answer(ExecuteFallbackMechanismResult.ok);
}
