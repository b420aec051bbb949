// SGP.22 v2.5 5.7.4 ES10a.SetDefaultDpAddress: sets (or, with an empty address, clears) the default SM-DP+ address.
import { decode, encode } from '../../asn1/schema.js';
import { SetDefaultDpAddressRequest, SetDefaultDpAddressResponse } from '../../asn1/definitions/rsp.js';
import { withoutDefaultDpAddress, type EuiccCore } from '../core.js';

const OK = 0;

export function setDefaultDpAddress(core: EuiccCore, command: Buffer): Buffer {
  const { defaultDpAddress } = decode(SetDefaultDpAddressRequest, command);
  const state = core.state;
  const settings = withoutDefaultDpAddress(state.settings);
  core.commit({ ...state, settings: defaultDpAddress === '' ? settings : { ...settings, defaultDpAddress } });
  return encode(SetDefaultDpAddressResponse, { setDefaultDpAddressResult: OK });
}
