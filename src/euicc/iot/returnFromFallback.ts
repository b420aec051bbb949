// SGP.32 v1.2 5.9 ES10b.ReturnFromFallback (tag BF5E; Fallback Mechanism, 3.4.6): back from the Fallback Profile to the profile the fallback disabled.
import { NotificationEvent } from '../../asn1/definitions/rsp.js';
import { ReturnFromFallbackRequest, ReturnFromFallbackResponse, ReturnFromFallbackResult } from '../../asn1/definitions/sgp32.js';
import { decode, encode } from '../../asn1/schema.js';
import type { EuiccCore } from '../core.js';
import { findByIccid, newDraft, notify, replaceProfile, withFallbackReturn } from './packageDraft.js';

/**
 * fallbackNotAvailable (6) when no profile has the Fallback Attribute. commandError (7) when the Fallback Mechanism is
 * not in effect: it was not executed, it found no enabled profile to return to, or the profiles changed since (the
 * Fallback Profile is no longer the enabled one, or the profile to return to is gone or enabled); the remembered
 * profile is then forgotten. Otherwise the Fallback Profile is disabled and the remembered profile enabled, with their
 * notifications, in one commit; the Fallback Profile keeps its attribute. refreshFlag is accepted.
 */
export function returnFromFallback(core: EuiccCore, command: Buffer): Buffer {
  decode(ReturnFromFallbackRequest, command);
  const answer = (returnFromFallbackResult: number): Buffer => encode(ReturnFromFallbackResponse, { returnFromFallbackResult });
  const d = newDraft(core, core.iot);
  const fallbackIccid = d.iot.fallbackIccid;
  if (fallbackIccid === undefined) return answer(ReturnFromFallbackResult.fallbackNotAvailable);
  const returnIccid = d.iot.fallbackReturnIccid;
  if (returnIccid === undefined) return answer(ReturnFromFallbackResult.commandError);
  const fallback = findByIccid(d, fallbackIccid);
  const previous = findByIccid(d, returnIccid);
  if (fallback?.state !== 'enabled' || previous?.state !== 'disabled') {
    core.commit({ ...core.state, iot: withFallbackReturn(d.iot, undefined) });
    return answer(ReturnFromFallbackResult.commandError);
  }
  notify(d, fallback, NotificationEvent.notificationDisable);
  replaceProfile(d, fallback, { ...fallback, state: 'disabled' });
  notify(d, previous, NotificationEvent.notificationEnable);
  replaceProfile(d, previous, { ...previous, state: 'enabled' });
  core.commit({
    ...core.state,
    profiles: d.profiles,
    notifications: d.notifications,
    nextSeqNumber: d.nextSeqNumber,
    iot: withFallbackReturn(d.iot, undefined),
  });
  return answer(ReturnFromFallbackResult.ok);
}
