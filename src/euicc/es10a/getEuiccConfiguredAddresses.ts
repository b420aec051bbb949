// SGP.22 v2.5 5.7.3 ES10a.GetEuiccConfiguredAddresses: the default SM-DP+ and root SM-DS addresses.
import { decode, encode } from '../../asn1/schema.js';
import { EuiccConfiguredAddressesRequest, EuiccConfiguredAddressesResponse } from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';

export function getEuiccConfiguredAddresses(core: EuiccCore, command: Buffer): Buffer {
  decode(EuiccConfiguredAddressesRequest, command);
  const { defaultDpAddress, rootDsAddress } = core.state.settings;
  return encode(EuiccConfiguredAddressesResponse, { ...(defaultDpAddress !== undefined ? { defaultDpAddress } : {}), rootDsAddress });
}
