// SGP.32 v1.2 5.9.4 ES10b.AddInitialEim: associates the first eIM(s), unsigned, only while no eIM is associated.
import { AddInitialEimError, AddInitialEimRequest, AddInitialEimResponse, MAX_EIMS, type AddInitialEimOk } from '../../asn1/definitions/sgp32.js';
import { decode, encode } from '../../asn1/schema.js';
import type { EuiccCore } from '../core.js';
import { associateEim } from './eimConfiguration.js';

/**
 * Whoever runs AddInitialEim first owns the eUICC, so it is refused with associatedEimAlreadyExists (2) as soon as one
 * eIM is associated, whatever the request holds. The request is taken whole or not at all: the first entry that
 * cannot be associated gives its code (the same numbers as AddEimResult) and nothing is stored; an empty list, or an
 * eimId twice, is commandError (7). Each eIM gets an association token.
 */
export function addInitialEim(core: EuiccCore, command: Buffer): Buffer {
  const { eimConfigurationDataList } = decode(AddInitialEimRequest, command);
  const error = (code: number): Buffer => encode(AddInitialEimResponse, { type: 'addInitialEimError', value: code });
  let iot = core.iot;
  if (iot.eims.length > 0) return error(AddInitialEimError.associatedEimAlreadyExists);
  const ids = new Set(eimConfigurationDataList.map((c) => c.eimId));
  if (eimConfigurationDataList.length === 0 || ids.size !== eimConfigurationDataList.length) return error(AddInitialEimError.commandError);
  const results: AddInitialEimOk[] = [];
  for (const input of eimConfigurationDataList) {
    const check = associateEim(core, iot, input, MAX_EIMS);
    if (!check.ok) return error(check.code);
    iot = check.iot;
    results.push({ type: 'associationToken', value: check.config.associationToken! });
  }
  core.commit({ ...core.state, iot });
  return encode(AddInitialEimResponse, { type: 'addInitialEimOk', value: results });
}
