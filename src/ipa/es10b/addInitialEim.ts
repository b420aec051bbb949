// SGP.32 v1.2 5.9.4 ES10b.AddInitialEim: associates the first eIM(s) with the eUICC (a factory step); answers each eIM's association token.
import { AddInitialEimError, AddInitialEimRequest, AddInitialEimResponse, type EimConfigurationData } from '../../asn1/definitions/sgp32.js';
import { decodeEs10Response, resultName, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

/** The association token of each eIM, in order (undefined for an eIM the eUICC answered addOk without a token). */
export async function addInitialEim(client: Es10Client, eims: EimConfigurationData[]): Promise<(number | undefined)[]> {
  const fn = 'AddInitialEim';
  const response = decodeEs10Response(AddInitialEimResponse, await client.command(AddInitialEimRequest.encode({ eimConfigurationDataList: eims }), fn), fn);
  if (response.type === 'addInitialEimError') throw new Es10ResultError(fn, response.value, resultName(AddInitialEimError, response.value));
  return response.value.map((r) => (r.type === 'associationToken' ? r.value : undefined));
}
