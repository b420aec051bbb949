// SGP.22 v2.5 5.7.19 ES10c.eUICCMemoryReset: deletes operational and/or field-loaded test profiles, resets the default SM-DP+ address.
import { decode, encode } from '../../asn1/schema.js';
import { EuiccMemoryResetRequest, EuiccMemoryResetResponse, ProfileClass, ResetOption, hasNamedBit } from '../../asn1/definitions/rsp.js';
import { withoutDefaultDpAddress, type EuiccCore } from '../core.js';

const OK = 0;
const NOTHING_TO_DELETE = 1;

export function euiccMemoryReset(core: EuiccCore, command: Buffer): Buffer {
  const { resetOptions } = decode(EuiccMemoryResetRequest, command);
  const state = core.state;
  const deleted = new Set<number>();
  if (hasNamedBit(resetOptions, ResetOption.deleteOperationalProfiles)) deleted.add(ProfileClass.operational);
  if (hasNamedBit(resetOptions, ResetOption.deleteFieldLoadedTestProfiles)) deleted.add(ProfileClass.test);
  const profiles = state.profiles.filter((p) => !deleted.has(core.metadataOf(p).profileClass ?? ProfileClass.operational));
  const resetAddress = hasNamedBit(resetOptions, ResetOption.resetDefaultSmdpAddress) && state.settings.defaultDpAddress !== undefined;
  if (profiles.length === state.profiles.length && !resetAddress) {
    return encode(EuiccMemoryResetResponse, { resetResult: NOTHING_TO_DELETE });
  }
  core.commit({ ...state, profiles, settings: resetAddress ? withoutDefaultDpAddress(state.settings) : state.settings });
  return encode(EuiccMemoryResetResponse, { resetResult: OK });
}
