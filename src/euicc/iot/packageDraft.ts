// SGP.32 v1.2 3.3.1 (eUICC Package download and execution): the state a package's PSMOs and eCOs change, applied in one commit.
import type { EuiccResultData } from '../../asn1/definitions/sgp32.js';
import type { EuiccCore, IotState, PersistedState, RollbackGrant, StoredNotification, StoredProfile } from '../core.js';

/**
 * The eUICC's state while one eUICC Package executes. Each operation reads and replaces fields of the draft, never
 * the eUICC's state: LoadEuiccPackage commits the draft once, with the eIM's counter and the signed result, so a
 * crash at any instant leaves the package applied whole or not at all.
 */
export interface PackageDraft {
  readonly core: EuiccCore;
  profiles: readonly StoredProfile[];
  notifications: readonly StoredNotification[];
  nextSeqNumber: number;
  settings: PersistedState['settings'];
  iot: IotState;
  /** The package rules' memory (3.4.1-3.4.3): an enable or a disable has been processed, a profile changed state or was deleted. */
  enableDone: boolean;
  disableDone: boolean;
  profileChanged: boolean;
  /** Set by an enable with rollbackFlag: the profile it disabled and the one it enabled. */
  rollback?: { readonly previousIccid: Buffer; readonly enabledIccid: Buffer };
}

export function newDraft(core: EuiccCore, iot: IotState): PackageDraft {
  const s = core.state;
  return {
    core,
    profiles: s.profiles,
    notifications: s.notifications,
    nextSeqNumber: s.nextSeqNumber,
    settings: s.settings,
    iot,
    enableDone: false,
    disableDone: false,
    profileChanged: false,
  };
}

/** Appends signed notifications for `event` on `profile` (SGP.22 3.5, as for the ES10c functions). */
export function notify(d: PackageDraft, profile: StoredProfile, event: number): void {
  const added = d.core.otherNotifications(profile, event, d.nextSeqNumber);
  d.notifications = [...d.notifications, ...added];
  d.nextSeqNumber += added.length;
}

export function findByIccid(d: PackageDraft, iccid: Buffer): StoredProfile | undefined {
  return d.profiles.find((p) => p.iccid.equals(iccid));
}

/** Replaces `from` by `to` in the draft's profiles. */
export function replaceProfile(d: PackageDraft, from: StoredProfile, to: StoredProfile): void {
  d.profiles = d.profiles.map((p) => (p === from ? to : p));
}

/** `iot` with the Fallback Profile set to `iccid`, or with no Fallback Profile. */
export function withFallback(iot: IotState, iccid: Buffer | undefined): IotState {
  const next: { -readonly [K in keyof IotState]: IotState[K] } = { ...iot };
  if (iccid === undefined) delete next.fallbackIccid;
  else next.fallbackIccid = iccid;
  return next;
}

/** `iot` with the profile ReturnFromFallback returns to set to `iccid`, or with none. */
export function withFallbackReturn(iot: IotState, iccid: Buffer | undefined): IotState {
  const next: { -readonly [K in keyof IotState]: IotState[K] } = { ...iot };
  if (iccid === undefined) delete next.fallbackReturnIccid;
  else next.fallbackReturnIccid = iccid;
  return next;
}

/** `iot` with the rollback grant replaced (undefined: none). */
export function withRollback(iot: IotState, rollback: RollbackGrant | undefined): IotState {
  const next: { -readonly [K in keyof IotState]: IotState[K] } = { ...iot };
  if (rollback === undefined) delete next.rollback;
  else next.rollback = rollback;
  return next;
}

const OK = 0;
const LAST_EIM_DELETED = 2;

/** Whether an operation's result ends the package (SGP.32 3.3.1: the operations after a failed one are not executed). */
export function isFailure(result: EuiccResultData): boolean {
  switch (result.type) {
    case 'getRATResult':
      return false;
    case 'listEimResult':
      return result.value.type === 'listEimError';
    case 'listProfileInfoResult':
      return result.value.type === 'profileInfoListError';
    case 'addEimResult':
      return result.value.type === 'addEimResultCode' && result.value.value !== OK;
    case 'deleteEimResult':
      return result.value !== OK && result.value !== LAST_EIM_DELETED;
    case 'setDefaultDpAddressResult':
      return result.value.setDefaultDpAddressResult !== OK;
    default:
      return result.value !== OK;
  }
}
