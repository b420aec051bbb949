// Making a profile package available for download (the effect of ES2+.DownloadOrder + ConfirmOrder, SGP.22 5.3.1/5.3.2, released state).
import { createHash } from 'node:crypto';
import { decodeProfilePackage, extractProfileEssentials } from '../asn1/definitions/saip.js';
import { ProfileClass } from '../asn1/definitions/rsp.js';
import { McimError } from '../errors.js';
import { isValidEid } from '../pki/eid.js';
import type { SmdpStore } from '../store/smdpStore.js';

export interface ImportOptions {
  readonly matchingId: string;
  /** Only this eUICC may download the profile. */
  readonly eid?: string;
  /** The end user must enter this code (SGP.22 3.1.3.4). */
  readonly confirmationCode?: string;
  readonly profileName?: string;
  readonly serviceProviderName?: string;
  readonly profileClass?: 'test' | 'provisioning' | 'operational';
}

export interface ImportedProfile {
  readonly matchingId: string;
  readonly iccid: string;
  readonly profileName: string;
}

/** Matching IDs: SGP.22 4.1 activation code character set, without the '$' delimiter. */
const MATCHING_ID = /^[0-9A-Za-z-]{1,255}$/;

/** Decodes the SAIP package (refusing malformed ones), then stores it released for the matching ID. */
export async function importProfile(store: SmdpStore, profilePackage: Buffer, options: ImportOptions, now: number): Promise<ImportedProfile> {
  if (!MATCHING_ID.test(options.matchingId)) throw new McimError('INVALID_ARGUMENT', `'${options.matchingId}' is not a matching ID (letters, digits, '-')`);
  if (options.eid !== undefined && !isValidEid(options.eid)) throw new McimError('INVALID_ARGUMENT', `'${options.eid}' is not an EID`);
  if (options.confirmationCode !== undefined && options.confirmationCode.length === 0) {
    throw new McimError('INVALID_ARGUMENT', 'the confirmation code is empty');
  }
  let iccid: string;
  try {
    iccid = extractProfileEssentials(decodeProfilePackage(profilePackage).elements).iccidDigits;
  } catch (cause) {
    throw new McimError('INVALID_PROFILE_PACKAGE', `not a valid SAIP profile package: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const profileName = options.profileName ?? `Profile ${iccid}`;
  await store.insertOrder(
    {
      matchingId: options.matchingId,
      iccid,
      eid: options.eid,
      ccHash: options.confirmationCode === undefined ? undefined : createHash('sha256').update(options.confirmationCode, 'utf8').digest(),
      profileName,
      serviceProviderName: options.serviceProviderName ?? 'mcim',
      profileClass: ProfileClass[options.profileClass ?? 'operational'],
      profilePackage,
    },
    now,
  );
  return { matchingId: options.matchingId, iccid, profileName };
}

/** The activation code of SGP.22 4.1: LPA:1$<SM-DP+ address>$<matching ID>. */
export function activationCode(address: string, matchingId: string): string {
  return `LPA:1$${address}$${matchingId}`;
}
