// Fleet operation "enable" (SGP.32 v1.2 3.4.1 PSMO enable, with rollbackFlag): each device enables the profile with this ICCID; with rollback, the eUICC may return to the profile it disables when the eIM cannot be reached over the new one, so the operation ends with a listProfileInfo over the new profile that confirms it.
import { encodeIccid } from '../../asn1/definitions/saip.js';
import { booleanParam, enabledProfile, iccidParam, listProfilesStep, onlyKeys, packageVerdict, paramsObject, type FleetOperationKind, type Step } from './operation.js';

export interface EnableParams {
  readonly iccid: string;
  readonly rollback: boolean;
}

/**
 * Enables data[`key`] (or params.iccid). With rollback the PSMO carries rollbackFlag when another profile is enabled
 * (with none, SGP.32 has nothing to return to: rollbackNotAvailable, so the flag is left out).
 */
export function enableStep<P>(name: string, iccidOf: (p: P, data: Readonly<Record<string, unknown>>) => string | undefined, rollback: (p: P) => boolean): Step<P> {
  return {
    name,
    plan(s) {
      const iccid = iccidOf(s.params, s.data);
      if (iccid === undefined) return { fail: 'no profile to enable' };
      const current = enabledProfile(s.device);
      if (current?.iccid === iccid) return 'skip';
      const flag = rollback(s.params) && current !== undefined;
      return { type: 'psmos', psmos: [{ type: 'enable', value: { iccid: encodeIccid(iccid), ...(flag ? { rollbackFlag: null } : {}) } }] };
    },
    check: (s, pkg) => packageVerdict(pkg, { enabled: iccidOf(s.params, s.data) }),
  };
}

/**
 * The confirmation after an enable: a listProfileInfo the device fetched from the eIM over the new profile (a package
 * the eUICC loads ends any rollback grant). The new profile must be the enabled one; the previous one enabled again
 * means the device rolled back.
 */
export function confirmStep<P>(name: string, iccidOf: (p: P, data: Readonly<Record<string, unknown>>) => string | undefined): Step<P> {
  const list = listProfilesStep<P>(name);
  return {
    ...list,
    async check(s, pkg) {
      const v = await list.check(s, pkg);
      if (!('next' in v)) return v;
      const wanted = iccidOf(s.params, s.data);
      const enabled = enabledProfile(s.device);
      if (enabled?.iccid !== wanted) return { fail: `the device reports ${enabled === undefined ? 'no enabled profile' : `${enabled.iccid} enabled`}, not ${String(wanted)} (rolled back?)` };
      return { next: { confirmed: wanted } };
    },
  };
}

export const enableProfile: FleetOperationKind<EnableParams> = {
  kind: 'enable',
  summary: 'enable the profile with this ICCID on each device (rollbackFlag when another one is enabled), then confirm it over the new profile',
  parse(params) {
    const p = paramsObject(params, 'enable');
    onlyKeys(p, 'enable', ['iccid', 'rollback']);
    return { iccid: iccidParam(p, 'enable'), rollback: booleanParam(p, 'rollback', 'enable', true) };
  },
  steps: [
    listProfilesStep('listProfileInfo'),
    enableStep<EnableParams>('enable', (p) => p.iccid, (p) => p.rollback),
    confirmStep<EnableParams>('confirm', (p) => p.iccid),
  ],
};
