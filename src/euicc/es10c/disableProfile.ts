// SGP.22 v2.5 5.7.17 ES10c.DisableProfile: disables the enabled profile unless its PPR1 forbids it.
import { decode, encode } from '../../asn1/schema.js';
import { DisableProfileRequest, DisableProfileResponse, NotificationEvent, PprId } from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';
import { hasPpr } from '../profilePolicy.js';

const OK = 0;
const ICCID_OR_AID_NOT_FOUND = 1;
const PROFILE_NOT_IN_ENABLED_STATE = 2;
const DISALLOWED_BY_POLICY = 3;

export function disableProfile(core: EuiccCore, command: Buffer): Buffer {
  const { profileIdentifier } = decode(DisableProfileRequest, command);
  const result = (disableResult: number): Buffer => encode(DisableProfileResponse, { disableResult });
  const target = core.findProfile(profileIdentifier);
  if (target === undefined) return result(ICCID_OR_AID_NOT_FOUND);
  if (target.state !== 'enabled') return result(PROFILE_NOT_IN_ENABLED_STATE);
  if (hasPpr(core.metadataOf(target).profilePolicyRules, PprId.ppr1)) return result(DISALLOWED_BY_POLICY);
  const state = core.state;
  const notifications = core.otherNotifications(target, NotificationEvent.notificationDisable, state.nextSeqNumber);
  core.commit({
    ...state,
    profiles: state.profiles.map((p) => (p === target ? { ...p, state: 'disabled' } : p)),
    notifications: [...state.notifications, ...notifications],
    nextSeqNumber: state.nextSeqNumber + notifications.length,
  });
  return result(OK);
}
