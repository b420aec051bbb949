// SGP.32 v1.2 5.9 ES10b.eUICCMemoryReset (tag BF64, SGP.22 5.7.19's BF34 moved): deletes profiles by class, resets the default SM-DP+ address, the eIM configuration and the Immediate Enable configuration.
import { ProfileClass, hasNamedBit } from '../../asn1/definitions/rsp.js';
import {
  EuiccMemoryResetRequest,
  EuiccMemoryResetResponse,
  ResetEimResult,
  ResetImmediateEnableConfigResult,
  ResetOption,
  ResetResult,
  type EuiccMemoryResetResponse as Response,
} from '../../asn1/definitions/sgp32.js';
import { decode, encode } from '../../asn1/schema.js';
import { withoutDefaultDpAddress, type EuiccCore, type IotState } from '../core.js';
import { withFallback, withFallbackReturn, withRollback } from './packageDraft.js';

/**
 * resetResult covers the profile and address options: ok when something was deleted or reset, nothingToDelete (1)
 * otherwise. A software eUICC loads every profile in the field: deletePreLoadedTestProfiles (3) finds none, test
 * profiles go with deleteFieldLoadedTestProfiles (1), provisioning profiles with deleteProvisioningProfiles (4).
 * resetEimResult is present when resetEimConfigData (5) is asked: ok when eIMs were removed (the eUICC then accepts
 * AddInitialEim again), nothingToDelete (1) when there were none. resetImmediateEnableConfigResult is present when
 * resetImmediateEnableConfig (6) is asked: ok. A rollback grant or Fallback Attribute that refers to a deleted profile
 * ends with it, and so does the profile a fallback would return to; the eIMs' association tokens are never reused. Kept package results stay until removed.
 */
export function euiccMemoryReset(core: EuiccCore, command: Buffer): Buffer {
  const { resetOptions } = decode(EuiccMemoryResetRequest, command);
  const asked = (bit: number): boolean => hasNamedBit(resetOptions, bit);
  const state = core.state;
  const deletedClasses = new Set<number>();
  if (asked(ResetOption.deleteOperationalProfiles)) deletedClasses.add(ProfileClass.operational);
  if (asked(ResetOption.deleteFieldLoadedTestProfiles)) deletedClasses.add(ProfileClass.test);
  if (asked(ResetOption.deleteProvisioningProfiles)) deletedClasses.add(ProfileClass.provisioning);
  const profiles = state.profiles.filter((p) => !deletedClasses.has(core.metadataOf(p).profileClass ?? ProfileClass.operational));
  const resetAddress = asked(ResetOption.resetDefaultSmdpAddress) && state.settings.defaultDpAddress !== undefined;

  let iot: IotState = core.iot;
  const kept = (iccid: Buffer | undefined): boolean => iccid !== undefined && profiles.some((p) => p.iccid.equals(iccid));
  if (iot.rollback !== undefined && !(kept(iot.rollback.previousIccid) && kept(iot.rollback.enabledIccid))) iot = withRollback(iot, undefined);
  if (iot.fallbackIccid !== undefined && !kept(iot.fallbackIccid)) iot = withFallback(iot, undefined);
  if (iot.fallbackReturnIccid !== undefined && !(kept(iot.fallbackReturnIccid) && iot.fallbackIccid !== undefined)) iot = withFallbackReturn(iot, undefined);
  const response: Response = {
    resetResult: profiles.length < state.profiles.length || resetAddress ? ResetResult.ok : ResetResult.nothingToDelete,
  };
  if (asked(ResetOption.resetEimConfigData)) {
    response.resetEimResult = iot.eims.length > 0 ? ResetEimResult.ok : ResetEimResult.nothingToDelete;
    iot = withRollback({ ...iot, eims: [] }, undefined);
  }
  if (asked(ResetOption.resetImmediateEnableConfig)) {
    response.resetImmediateEnableConfigResult = ResetImmediateEnableConfigResult.ok;
    const next: { -readonly [K in keyof IotState]: IotState[K] } = { ...iot };
    delete next.immediateEnable;
    iot = next;
  }
  core.commit({
    ...state,
    profiles,
    settings: resetAddress ? withoutDefaultDpAddress(state.settings) : state.settings,
    ...(state.iot !== undefined ? { iot } : {}),
  });
  return encode(EuiccMemoryResetResponse, response);
}
