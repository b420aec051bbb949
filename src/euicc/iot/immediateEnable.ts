// SGP.32 v1.2 5.9 ES10b.ImmediateEnable (tag BF5A): enables the profile just downloaded, as the Immediate Enable configuration allows.
import { NotificationEvent, PprId } from '../../asn1/definitions/rsp.js';
import { ImmediateEnableRequest, ImmediateEnableResponse, ImmediateEnableResult } from '../../asn1/definitions/sgp32.js';
import { decode, encode } from '../../asn1/schema.js';
import type { EuiccCore } from '../core.js';
import { hasPpr } from '../profilePolicy.js';
import { newDraft, notify, replaceProfile } from './packageDraft.js';

/**
 * noSessionContext (4) unless the latest download session installed a profile since the eUICC started (kept in memory,
 * used once). immediateEnableNotAvailable (1) when the Immediate Enable configuration lacks immediateEnableFlag; when it
 * names a defaultSmdpOid and the profile was bound by another SM-DP+ (the OID of CERT.DPpb); when the profile is no
 * longer disabled; or when the enabled profile has PPR1 (SGP.32 gives ImmediateEnable no disallowedByPolicy code: mcim
 * refuses with this one rather than override the Profile Owner's rule). Otherwise the enabled profile is disabled and
 * the new one enabled, with their notifications, in one commit. refreshFlag is accepted: a software eUICC has no REFRESH
 * to send.
 */
export function immediateEnable(core: EuiccCore, command: Buffer): Buffer {
  decode(ImmediateEnableRequest, command);
  const answer = (immediateEnableResult: number): Buffer => encode(ImmediateEnableResponse, { immediateEnableResult });
  const installed = core.lastInstalled;
  if (installed === undefined) return answer(ImmediateEnableResult.noSessionContext);
  core.lastInstalled = undefined;
  const config = core.iot.immediateEnable;
  if (config?.immediateEnableFlag !== null) return answer(ImmediateEnableResult.immediateEnableNotAvailable);
  if (config.defaultSmdpOid !== undefined && config.defaultSmdpOid !== installed.smdpOid) return answer(ImmediateEnableResult.immediateEnableNotAvailable);
  const d = newDraft(core, core.iot);
  const target = d.profiles.find((p) => p.iccid.equals(installed.iccid));
  if (target?.state !== 'disabled') return answer(ImmediateEnableResult.immediateEnableNotAvailable);
  const current = d.profiles.find((p) => p.state === 'enabled');
  if (current !== undefined && hasPpr(core.metadataOf(current).profilePolicyRules, PprId.ppr1)) return answer(ImmediateEnableResult.immediateEnableNotAvailable);
  if (current !== undefined) {
    notify(d, current, NotificationEvent.notificationDisable);
    replaceProfile(d, current, { ...current, state: 'disabled' });
  }
  notify(d, target, NotificationEvent.notificationEnable);
  replaceProfile(d, target, { ...target, state: 'enabled' });
  core.commit({ ...core.state, profiles: d.profiles, notifications: d.notifications, nextSeqNumber: d.nextSeqNumber });
  return answer(ImmediateEnableResult.ok);
}
