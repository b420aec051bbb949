// SGP.22 5.7.3 ES10a.GetEuiccConfiguredAddresses: the default SM-DP+ and root SM-DS addresses (a download trigger with contactDefaultSmdp).
import { EuiccConfiguredAddressesRequest, EuiccConfiguredAddressesResponse } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';

export async function getEuiccConfiguredAddresses(client: Es10Client): Promise<EuiccConfiguredAddressesResponse> {
  const fn = 'GetEuiccConfiguredAddresses';
  return decodeEs10Response(EuiccConfiguredAddressesResponse, await client.command(EuiccConfiguredAddressesRequest.encode({}), fn), fn);
}
