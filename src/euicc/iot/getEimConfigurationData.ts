// SGP.32 v1.2 5.9 ES10b.GetEimConfigurationData: the associated eIMs' configuration data, all or one by eimId.
import { GetEimConfigurationDataRequest, GetEimConfigurationDataResponse } from '../../asn1/definitions/sgp32.js';
import { decode, encode } from '../../asn1/schema.js';
import type { EuiccCore } from '../core.js';

/** Every eIM's data as stored, with its current counterValue and associationToken; an unknown eimId gives an empty list. */
export function getEimConfigurationData(core: EuiccCore, command: Buffer): Buffer {
  const { searchCriteria } = decode(GetEimConfigurationDataRequest, command);
  const eims = core.iot.eims.filter((e) => searchCriteria === undefined || e.eimId === searchCriteria.value);
  return encode(GetEimConfigurationDataResponse, { eimConfigurationDataList: [...eims] });
}
