// SGP.32 v1.2 3.3-3.5 (PSMO results), 3.6 (notifications), SGP.22 4.4 (ProfileInfo): what the eIM learns about a device's profiles from its results and notifications, and the eUICC signatures it checks first.
import type { KeyObject } from 'node:crypto';
import { NotificationEvent, hasNamedBit, type NotificationMetadata, type ProfileInstallationResult } from '../asn1/definitions/rsp.js';
import { iccidDigitsFromEf } from '../asn1/definitions/saip.js';
import type { EuiccResultData, Psmo, Sgp32ProfileInfo } from '../asn1/definitions/sgp32.js';
import { verifyPlain } from '../crypto/ecdsa.js';
import { parseCertificate } from '../pki/certificate.js';
import type { Device, StoredProfile } from '../store/eimStore.js';
import { EimError } from './errors.js';

/** The key of the device's registered eUICC certificate. */
export function euiccKey(device: Device): KeyObject {
  return parseCertificate(device.euiccCertificate).publicKey.key;
}

/** ICCID digits of an EF_ICCID-coded value, or undefined if it is not one. */
export function iccidOf(ef: Buffer | undefined): string | undefined {
  if (ef === undefined) return undefined;
  try {
    return iccidDigitsFromEf(ef);
  } catch {
    return undefined;
  }
}

/** SGP.22 ProfileState: 0 disabled, 1 enabled. */
function storedProfile(p: Sgp32ProfileInfo): StoredProfile | undefined {
  const iccid = iccidOf(p.iccid);
  if (iccid === undefined) return undefined;
  return {
    iccid,
    state: p.profileState === 1 ? 'enabled' : 'disabled',
    ...(p.profileName === undefined ? {} : { profileName: p.profileName }),
    ...(p.serviceProviderName === undefined ? {} : { serviceProviderName: p.serviceProviderName }),
    ...(p.profileClass === undefined ? {} : { profileClass: p.profileClass }),
    ...(p.fallbackAttribute === undefined ? {} : { fallbackAttribute: p.fallbackAttribute }),
  };
}

type Change = (current: readonly StoredProfile[] | undefined) => readonly StoredProfile[] | undefined;

function enable(list: readonly StoredProfile[], iccid: string): StoredProfile[] {
  const known = list.some((p) => p.iccid === iccid);
  const rest = list.map((p): StoredProfile => ({ ...p, state: p.iccid === iccid ? 'enabled' : 'disabled' }));
  return known ? rest : [...rest, { iccid, state: 'enabled' }];
}

function setState(list: readonly StoredProfile[], iccid: string, state: StoredProfile['state']): StoredProfile[] {
  return list.some((p) => p.iccid === iccid) ? list.map((p) => (p.iccid === iccid ? { ...p, state } : p)) : [...list, { iccid, state }];
}

/**
 * The profiles after a package's PSMOs and their results, in order: a listProfileInfo result replaces the list; an
 * enable, disable or delete with result ok (0) changes its profile. Results stop at the first failure (SGP.32 3.3), so
 * operations without a result change nothing.
 */
export function profilesAfterPsmos(psmos: readonly Psmo[], results: readonly EuiccResultData[]): Change | undefined {
  const steps: ((list: readonly StoredProfile[]) => readonly StoredProfile[])[] = [];
  let replaces = false;
  results.forEach((result, i) => {
    const psmo = psmos[i];
    if (psmo === undefined) return;
    if (result.type === 'listProfileInfoResult' && result.value.type === 'profileInfoListOk') {
      const listed = result.value.value.map(storedProfile).filter((p): p is StoredProfile => p !== undefined);
      steps.push(() => listed);
      replaces = true;
      return;
    }
    if (result.value !== 0) return;
    const iccid = 'iccid' in psmo.value ? iccidOf((psmo.value as { iccid: Buffer }).iccid) : undefined;
    if (iccid === undefined) return;
    if (psmo.type === 'enable' && result.type === 'enableResult') steps.push((l) => enable(l, iccid));
    if (psmo.type === 'disable' && result.type === 'disableResult') steps.push((l) => setState(l, iccid, 'disabled'));
    if (psmo.type === 'delete' && result.type === 'deleteResult') steps.push((l) => l.filter((p) => p.iccid !== iccid));
  });
  if (steps.length === 0) return undefined;
  return (current) => {
    if (current === undefined && !replaces) return undefined;
    return steps.reduce<readonly StoredProfile[]>((l, step) => step(l), current ?? []);
  };
}

/** The profiles after a notification (install, enable, disable, delete of its ICCID). */
export function profilesAfterNotification(m: NotificationMetadata): Change | undefined {
  const iccid = iccidOf(m.iccid);
  if (iccid === undefined) return undefined;
  const bits = m.profileManagementOperation;
  return (current) => {
    const list = current ?? [];
    if (hasNamedBit(bits, NotificationEvent.notificationDelete)) return list.filter((p) => p.iccid !== iccid);
    if (hasNamedBit(bits, NotificationEvent.notificationEnable)) return enable(list, iccid);
    if (hasNamedBit(bits, NotificationEvent.notificationDisable)) return setState(list, iccid, 'disabled');
    if (hasNamedBit(bits, NotificationEvent.notificationInstall)) return list.some((p) => p.iccid === iccid) ? list : [...list, { iccid, state: 'disabled' }];
    return undefined;
  };
}

/** A PIR signed by the device's eUICC (euiccSignPIR over ProfileInstallationResultData as received), else RESULT_SIGNATURE_INVALID. */
export function verifyPir(device: Device, pir: ProfileInstallationResult, esipaCode: number): void {
  if (!verifyPlain(euiccKey(device), pir.profileInstallationResultData.der, pir.euiccSignPIR)) {
    throw new EimError('RESULT_SIGNATURE_INVALID', `the installation result of ${device.eid} is not signed by its eUICC`, { esipaCode });
  }
}
