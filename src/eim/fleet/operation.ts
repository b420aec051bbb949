// Fleet operations (issue 10, over SGP.32 v1.2 2.11 eIM packages): what an operation is (named steps, each issuing one eIM package to a device and judging its result) and the reasons a result gives, shared by every operation.
import {
  DeleteProfileResult,
  DisableProfileResult,
  EnableProfileResult,
  EuiccPackageErrorCode,
  ProfileDownloadErrorReason,
  UpdateEimResult,
  type Eco,
  type Psmo,
} from '../../asn1/definitions/sgp32.js';
import type { Device, StoredPackage, StoredProfile } from '../../store/eimStore.js';
import type { EimContext } from '../context.js';
import { EimError } from '../errors.js';
import type { DownloadTrigger } from '../profileDownloadTriggerRequest.js';

/** What a step knows when it plans or judges: the eIM, the device as registered now, the operation's parameters, and what earlier steps learned. */
export interface StepState<P> {
  readonly ctx: EimContext;
  readonly device: Device;
  readonly params: P;
  readonly data: Readonly<Record<string, unknown>>;
}

/** The package a step issues. */
export type StepPackage =
  | { readonly type: 'psmos'; readonly psmos: Psmo[] }
  | { readonly type: 'ecos'; readonly ecos: Eco[] }
  | { readonly type: 'trigger'; readonly trigger: DownloadTrigger };

/**
 * A step's judgement of its package's result: go on (with what it learned), try the step again later (a transient
 * failure: backoff, at most the engine's attempts), or fail the device's target with a reason.
 */
export type Verdict = { readonly next: Record<string, unknown> } | { readonly retry: string } | { readonly fail: string };

export type StepPlan = StepPackage | 'skip' | { readonly fail: string };

export interface Step<P> {
  readonly name: string;
  /** The package to issue; `skip` when the step has nothing to do for this device; `fail` when it cannot be done. */
  plan(s: StepState<P>): StepPlan | Promise<StepPlan>;
  /** Judges the completed package (state done or failed); may record what the result changes (a key generation). */
  check(s: StepState<P>, pkg: StoredPackage): Verdict | Promise<Verdict>;
}

export interface FleetOperationKind<P> {
  readonly kind: string;
  readonly summary: string;
  /** Checks the operation's parameters as the API and the CLI give them (INVALID_ARGUMENT), before any target is created. */
  parse(params: unknown): P;
  readonly steps: readonly Step<P>[];
}

// ---- parameters ----

export function paramsObject(params: unknown, kind: string): Record<string, unknown> {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) throw new EimError('INVALID_ARGUMENT', `the parameters of ${kind} are a JSON object`);
  return params as Record<string, unknown>;
}

/** Refuses parameters the operation does not know (a typo would otherwise run with a default). */
export function onlyKeys(p: Record<string, unknown>, kind: string, keys: readonly string[]): void {
  for (const k of Object.keys(p)) if (!keys.includes(k)) throw new EimError('INVALID_ARGUMENT', `${kind} has no parameter '${k}' (known: ${keys.join(', ') || 'none'})`);
}

const ICCID = /^[0-9]{18,20}$/;

export function iccidParam(p: Record<string, unknown>, kind: string): string {
  const v = p['iccid'];
  if (typeof v !== 'string' || !ICCID.test(v)) throw new EimError('INVALID_ARGUMENT', `${kind} needs 'iccid': 18 to 20 digits`);
  return v;
}

export function booleanParam(p: Record<string, unknown>, name: string, kind: string, fallback: boolean): boolean {
  const v = p[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new EimError('INVALID_ARGUMENT', `${kind}: '${name}' is true or false`);
  return v;
}

export function labelParam(p: Record<string, unknown>, name: string, kind: string): string | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(v)) throw new EimError('INVALID_ARGUMENT', `${kind}: '${name}' is 1 to 64 letters, digits, '.', '_', ':', '-'`);
  return v;
}

// ---- the registry's view ----

export function enabledProfile(device: Device): StoredProfile | undefined {
  return device.profiles?.find((p) => p.state === 'enabled');
}

// ---- results ----

interface EuiccOutcome {
  readonly results?: readonly { readonly operation: string; readonly result?: number }[];
  readonly euiccPackageErrorCode?: number;
  readonly unsignedError?: boolean;
  readonly eimPackageResultErrorCode?: number;
}

const CODE_NAMES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  enableResult: EnableProfileResult,
  disableResult: DisableProfileResult,
  deleteResult: DeleteProfileResult,
  updateEimResult: UpdateEimResult,
};

function codeName(table: Readonly<Record<string, number>> | undefined, code: number): string {
  const name = table === undefined ? undefined : Object.entries(table).find(([, v]) => v === code)?.[0];
  return name === undefined ? String(code) : `${name} (${code})`;
}

/**
 * Why an eUICC Package failed, from the outcome the eIM stored with its result: the operation's result code by name,
 * the eUICC's package error, an unsigned error (the eUICC did not accept the eIM's signature), or the IPA's error.
 */
export function packageFailure(pkg: StoredPackage): string {
  const o = (pkg.outcome ?? {}) as EuiccOutcome;
  if (o.unsignedError === true) return 'the eUICC refused the package unsigned (eimSignature or eimId not accepted)';
  if (o.euiccPackageErrorCode !== undefined) return `the eUICC refused the package: ${codeName(EuiccPackageErrorCode, o.euiccPackageErrorCode)}`;
  if (o.eimPackageResultErrorCode !== undefined) return `the IPA could not run the package: error ${o.eimPackageResultErrorCode}`;
  const failed = o.results?.find((r) => r.result !== undefined && r.result !== 0);
  if (failed !== undefined) return `${failed.operation}: ${codeName(CODE_NAMES[failed.operation], failed.result!)}`;
  return 'the eUICC did not execute every operation of the package';
}

/** A PSMO/eCO package judged: done goes on, anything else fails the target with its reason. */
export function packageVerdict(pkg: StoredPackage, learned: Record<string, unknown> = {}): Verdict {
  return pkg.state === 'done' ? { next: learned } : { fail: packageFailure(pkg) };
}

interface TriggerOutcome {
  readonly installed?: boolean;
  readonly iccid?: string;
  readonly errorReason?: number;
  readonly profileDownloadErrorReason?: number;
  readonly eimPackageResultErrorCode?: number;
}

/**
 * A download trigger judged: installed goes on with the ICCID; a download that failed before installation (the SM-DP+
 * unreachable, a refused order) is retried; an installation the eUICC refused fails the target.
 */
export function triggerVerdict(pkg: StoredPackage): Verdict {
  const o = (pkg.outcome ?? {}) as TriggerOutcome;
  if (pkg.state === 'done' && o.installed === true && o.iccid !== undefined) return { next: { iccid: o.iccid } };
  if (o.installed === false) return { fail: `the eUICC did not install the profile: errorReason ${String(o.errorReason)}` };
  if (o.profileDownloadErrorReason !== undefined) return { retry: `the download failed: ${codeName(ProfileDownloadErrorReason, o.profileDownloadErrorReason)}` };
  return { retry: `the download failed${o.eimPackageResultErrorCode === undefined ? '' : `: error ${o.eimPackageResultErrorCode}`}` };
}

/** listProfileInfo: the step that refreshes the registry's profiles (the registry is updated with the result). */
export function listProfilesStep<P>(name: string, learn: (s: StepState<P>) => Record<string, unknown> = () => ({})): Step<P> {
  return {
    name,
    plan: () => ({ type: 'psmos', psmos: [{ type: 'listProfileInfo', value: {} }] }),
    check: (s, pkg) => packageVerdict(pkg, pkg.state === 'done' ? learn(s) : {}),
  };
}
