// Fleet operation "download profile type X of operator Y and enable it with rollback" (SGP.32 v1.2 3.2.1 ProfileDownloadTriggerRequest, 3.4.1 enable with rollbackFlag): each device downloads the profile its operator ordered over ES2+ (an activation code per EID, or an EID-bound order at the eUICC's default SM-DP+), then enables it and confirms it over the new profile.
import { EimError } from '../errors.js';
import { confirmStep, enableStep } from './enableProfile.js';
import {
  booleanParam,
  enabledProfile,
  labelParam,
  listProfilesStep,
  onlyKeys,
  paramsObject,
  triggerVerdict,
  type FleetOperationKind,
  type Step,
} from './operation.js';

export interface DownloadParams {
  /** The operator and its profile type, for the report (the order behind each code is the operator's, over ES2+). */
  readonly operator?: string;
  readonly profileType?: string;
  /** The activation code of each device's order, by EID (SGP.22 4.1: 1$SM-DP+ address$matching ID). */
  readonly activationCodes?: Readonly<Record<string, string>>;
  /** Instead of codes: each device asks its default SM-DP+, where an order bound to its EID waits. */
  readonly defaultSmdp: boolean;
  /** Enable the downloaded profile (default true), with rollbackFlag (default true). */
  readonly enable: boolean;
  readonly rollback: boolean;
}

const AC = /^(LPA:)?1\$[^$]+\$[^$]*(\$[^$]*(\$1?)?)?$/;

export function parseDownloadParams(params: unknown, kind: string, extra: readonly string[] = []): DownloadParams {
  const p = paramsObject(params, kind);
  onlyKeys(p, kind, ['operator', 'profileType', 'activationCodes', 'defaultSmdp', 'enable', 'rollback', ...extra]);
  const defaultSmdp = booleanParam(p, 'defaultSmdp', kind, false);
  const codes = p['activationCodes'];
  if (defaultSmdp === (codes !== undefined)) throw new EimError('INVALID_ARGUMENT', `${kind} needs 'activationCodes' (an activation code by EID) or 'defaultSmdp': true, one of them`);
  let activationCodes: Record<string, string> | undefined;
  if (codes !== undefined) {
    if (typeof codes !== 'object' || codes === null || Array.isArray(codes)) throw new EimError('INVALID_ARGUMENT', `${kind}: 'activationCodes' maps EIDs to activation codes`);
    activationCodes = {};
    for (const [eid, ac] of Object.entries(codes)) {
      if (!/^[0-9]{32}$/.test(eid)) throw new EimError('INVALID_ARGUMENT', `${kind}: '${eid.slice(0, 40)}' is not an EID`);
      if (typeof ac !== 'string' || ac.length > 255 || !AC.test(ac)) throw new EimError('INVALID_ARGUMENT', `${kind}: the activation code for ${eid} is not one (1$address$matchingId)`);
      activationCodes[eid] = ac;
    }
  }
  const operator = labelParam(p, 'operator', kind);
  const profileType = labelParam(p, 'profileType', kind);
  return {
    ...(operator === undefined ? {} : { operator }),
    ...(profileType === undefined ? {} : { profileType }),
    ...(activationCodes === undefined ? {} : { activationCodes }),
    defaultSmdp,
    enable: booleanParam(p, 'enable', kind, true),
    rollback: booleanParam(p, 'rollback', kind, true),
  };
}

/** A step that runs only when `active` says so (skipped otherwise). */
function when<P>(active: (p: P) => boolean, step: Step<P>): Step<P> {
  return { ...step, plan: (s) => (active(s.params) ? step.plan(s) : 'skip') };
}

const downloaded = (_p: unknown, data: Readonly<Record<string, unknown>>): string | undefined => (typeof data['iccid'] === 'string' ? data['iccid'] : undefined);

/** The steps of a download: refresh the profiles (the one enabled now is `previous`), trigger, enable, confirm. */
export function downloadSteps<P extends DownloadParams>(): Step<P>[] {
  return [
    listProfilesStep<P>('listProfileInfo', (s) => {
      const previous = enabledProfile(s.device)?.iccid;
      return previous === undefined ? {} : { previous };
    }),
    {
      name: 'download',
      plan(s) {
        if (s.params.defaultSmdp) return { type: 'trigger', trigger: { defaultSmdp: true } };
        const ac = s.params.activationCodes?.[s.device.eid];
        if (ac === undefined) return { fail: 'no activation code for this EID' };
        return { type: 'trigger', trigger: { activationCode: ac } };
      },
      check: (_s, pkg) => triggerVerdict(pkg),
    },
    when((p) => p.enable, enableStep<P>('enable', downloaded, (p) => p.rollback)),
    when((p) => p.enable, confirmStep<P>('confirm', downloaded)),
  ];
}

export const downloadProfile: FleetOperationKind<DownloadParams> = {
  kind: 'download',
  summary: "download the operator's profile on each device (activation code by EID, or the default SM-DP+), enable it with rollback and confirm it",
  parse: (params) => parseDownloadParams(params, 'download'),
  steps: downloadSteps<DownloadParams>(),
};
