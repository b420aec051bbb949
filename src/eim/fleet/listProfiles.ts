// Fleet operation "list profiles" (SGP.32 v1.2 3.4.4 listProfileInfo): each device reports its profiles; the registry keeps them and the report shows them.
import { listProfilesStep, onlyKeys, paramsObject, type FleetOperationKind } from './operation.js';

export const listProfiles: FleetOperationKind<Record<string, never>> = {
  kind: 'listProfiles',
  summary: 'each device lists its profiles (listProfileInfo); the registry and the report show them',
  parse(params) {
    onlyKeys(paramsObject(params, 'listProfiles'), 'listProfiles', []);
    return {};
  },
  steps: [listProfilesStep('listProfileInfo', (s) => ({ profiles: s.device.profiles ?? [] }))],
};
