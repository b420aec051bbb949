// SGP.22 v2.5 5.7.18 ES10c.DeleteProfile: deletes a disabled profile and its credentials unless its PPR2 forbids it.
import { decode, encode } from '../../asn1/schema.js';
import { DeleteProfileRequest, DeleteProfileResponse, NotificationEvent, PprId } from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';
import { hasPpr } from '../profilePolicy.js';

const OK = 0;
const ICCID_OR_AID_NOT_FOUND = 1;
const PROFILE_NOT_IN_DISABLED_STATE = 2;
const DISALLOWED_BY_POLICY = 3;

export function deleteProfile(core: EuiccCore, command: Buffer): Buffer {
  const identifier = decode(DeleteProfileRequest, command);
  const result = (deleteResult: number): Buffer => encode(DeleteProfileResponse, { deleteResult });
  const target = core.findProfile(identifier);
  if (target === undefined) return result(ICCID_OR_AID_NOT_FOUND);
  if (target.state === 'enabled') return result(PROFILE_NOT_IN_DISABLED_STATE);
  if (hasPpr(core.metadataOf(target).profilePolicyRules, PprId.ppr2)) return result(DISALLOWED_BY_POLICY);
  const state = core.state;
  const notifications = core.otherNotifications(target, NotificationEvent.notificationDelete, state.nextSeqNumber);
  core.commit({
    ...state,
    profiles: state.profiles.filter((p) => p !== target),
    notifications: [...state.notifications, ...notifications],
    nextSeqNumber: state.nextSeqNumber + notifications.length,
  });
  return result(OK);
}
