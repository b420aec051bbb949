// SGP.32 v1.2 5.9 ES10b.ConfigureImmediateProfileEnabling (tag BF59): the IPA's Immediate Enable configuration, before any eIM is associated.
import {
  ConfigImmediateEnableResult,
  ConfigureImmediateProfileEnablingRequest,
  ConfigureImmediateProfileEnablingResponse,
} from '../../asn1/definitions/sgp32.js';
import { decode, encode } from '../../asn1/schema.js';
import { EMPTY_IOT_STATE, type EuiccCore } from '../core.js';

/**
 * associatedEimAlreadyExists (2) once an eIM is associated: from then on only that eIM configures Immediate Enable (PSMO
 * configureImmediateEnable). Otherwise the request replaces the whole configuration (a field left out is cleared, as
 * with the PSMO) and the answer is ok. The request's size is bounded by the card's STORE DATA buffer.
 */
export function configureImmediateProfileEnabling(core: EuiccCore, command: Buffer): Buffer {
  const request = decode(ConfigureImmediateProfileEnablingRequest, command);
  const answer = (configImmediateEnableResult: number): Buffer => encode(ConfigureImmediateProfileEnablingResponse, { configImmediateEnableResult });
  const iot = core.state.iot ?? EMPTY_IOT_STATE;
  if (iot.eims.length > 0) return answer(ConfigImmediateEnableResult.associatedEimAlreadyExists);
  core.commit({ ...core.state, iot: { ...iot, immediateEnable: { ...request } } });
  return answer(ConfigImmediateEnableResult.ok);
}
