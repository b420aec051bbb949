// Fleet operation "disable" (SGP.32 v1.2 3.4.2 PSMO disable): each device disables the profile with this ICCID.
import { encodeIccid } from '../../asn1/definitions/saip.js';
import { iccidParam, onlyKeys, packageVerdict, paramsObject, type FleetOperationKind } from './operation.js';

export const disableProfile: FleetOperationKind<{ readonly iccid: string }> = {
  kind: 'disable',
  summary: 'disable the profile with this ICCID on each device',
  parse(params) {
    const p = paramsObject(params, 'disable');
    onlyKeys(p, 'disable', ['iccid']);
    return { iccid: iccidParam(p, 'disable') };
  },
  steps: [
    {
      name: 'disable',
      plan: (s) => ({ type: 'psmos', psmos: [{ type: 'disable', value: { iccid: encodeIccid(s.params.iccid) } }] }),
      check: (s, pkg) => packageVerdict(pkg, { disabled: s.params.iccid }),
    },
  ],
};
