// SGP.22 v2.5 5.7.16 ES10c.EnableProfile: enables a disabled profile, disabling the enabled one unless its PPR1 forbids it.
import { decode, encode } from '../../asn1/schema.js';
import { EnableProfileRequest, EnableProfileResponse, NotificationEvent, PprId } from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';
import { hasPpr } from '../profilePolicy.js';

const OK = 0;
const ICCID_OR_AID_NOT_FOUND = 1;
const PROFILE_NOT_IN_DISABLED_STATE = 2;
const DISALLOWED_BY_POLICY = 3;

export function enableProfile(core: EuiccCore, command: Buffer): Buffer {
  const { profileIdentifier } = decode(EnableProfileRequest, command);
  const result = (enableResult: number): Buffer => encode(EnableProfileResponse, { enableResult });
  const target = core.findProfile(profileIdentifier);
  if (target === undefined) return result(ICCID_OR_AID_NOT_FOUND);
  if (target.state === 'enabled') return result(PROFILE_NOT_IN_DISABLED_STATE);
  const state = core.state;
  const current = state.profiles.find((p) => p.state === 'enabled');
  if (current !== undefined && hasPpr(core.metadataOf(current).profilePolicyRules, PprId.ppr1)) return result(DISALLOWED_BY_POLICY);

  const notifications = current === undefined ? [] : core.otherNotifications(current, NotificationEvent.notificationDisable, state.nextSeqNumber);
  notifications.push(...core.otherNotifications(target, NotificationEvent.notificationEnable, state.nextSeqNumber + notifications.length));
  core.commit({
    ...state,
    profiles: state.profiles.map((p) => (p === target ? { ...p, state: 'enabled' } : p === current ? { ...p, state: 'disabled' } : p)),
    notifications: [...state.notifications, ...notifications],
    nextSeqNumber: state.nextSeqNumber + notifications.length,
  });
  return result(OK);
}
