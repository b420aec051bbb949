// SGP.32 v1.2 5.9.3 ES10b.GetEimConfigurationData: the eIMs associated with the eUICC (eimId, FQDN, counter, association token, key).
import { GetEimConfigurationDataRequest, GetEimConfigurationDataResponse, type EimConfigurationData } from '../../asn1/definitions/sgp32.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';

export async function getEimConfigurationData(client: Es10Client): Promise<EimConfigurationData[]> {
  const fn = 'GetEimConfigurationData';
  return decodeEs10Response(GetEimConfigurationDataResponse, await client.command(GetEimConfigurationDataRequest.encode({}), fn), fn).eimConfigurationDataList;
}
