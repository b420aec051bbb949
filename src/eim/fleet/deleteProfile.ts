// Fleet operation "delete" (SGP.32 v1.2 3.4.3 PSMO delete): each device deletes the profile with this ICCID (a disabled one: SGP.32 refuses to delete the enabled profile).
import { encodeIccid } from '../../asn1/definitions/saip.js';
import { iccidParam, onlyKeys, packageVerdict, paramsObject, type FleetOperationKind, type Step } from './operation.js';

/** Deletes data[`key`] (or params.iccid); nothing to delete: skipped. */
export function deleteStep<P>(name: string, iccidOf: (p: P, data: Readonly<Record<string, unknown>>) => string | undefined): Step<P> {
  return {
    name,
    plan(s) {
      const iccid = iccidOf(s.params, s.data);
      if (iccid === undefined) return 'skip';
      return { type: 'psmos', psmos: [{ type: 'delete', value: { iccid: encodeIccid(iccid) } }] };
    },
    check: (s, pkg) => packageVerdict(pkg, { deleted: iccidOf(s.params, s.data) }),
  };
}

export const deleteProfile: FleetOperationKind<{ readonly iccid: string }> = {
  kind: 'delete',
  summary: 'delete the profile with this ICCID on each device',
  parse(params) {
    const p = paramsObject(params, 'delete');
    onlyKeys(p, 'delete', ['iccid']);
    return { iccid: iccidParam(p, 'delete') };
  },
  steps: [deleteStep<{ readonly iccid: string }>('delete', (p) => p.iccid)],
};
