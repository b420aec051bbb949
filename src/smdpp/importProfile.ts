// Making a profile package available for download (the effect of ES2+.DownloadOrder + ConfirmOrder, SGP.22 5.3.1/5.3.2, released state).
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { decodeProfilePackage, extractProfileEssentials } from '../asn1/definitions/saip.js';
import { encode } from '../asn1/schema.js';
import { IconType, OperatorId, PprId, ProfileClass } from '../asn1/definitions/rsp.js';
import { encodePlmnId } from '../crypto/keyDerivation5g.js';
import { McimError } from '../errors.js';
import { isValidEid } from '../pki/eid.js';
import type { SmdpStore } from '../store/smdpStore.js';

export interface ImportOptions {
  /**
   * The matching ID of the activation code (SGP.22 4.1) or SM-DS event. Absent: a random one is generated, unless
   * `eid` is given, which makes an order for that eUICC alone with no matching ID (default SM-DP+, SGP.22 3.1.2).
   */
  readonly matchingId?: string;
  /** A supplied matching ID shorter than MIN_MATCHING_ID_LENGTH is refused unless this is set. */
  readonly allowShortMatchingId?: boolean;
  /** Only this eUICC may download the profile. */
  readonly eid?: string;
  /** The end user must enter this code (SGP.22 3.1.3.4). */
  readonly confirmationCode?: string;
  readonly profileName?: string;
  readonly serviceProviderName?: string;
  readonly profileClass?: 'test' | 'provisioning' | 'operational';
  /** False: stored confirmed, not yet released (8.2/1.2 until released); default true. */
  readonly released?: boolean;
  /** The order cannot be downloaded after this time, ms since the epoch (8.8.5/4.10). */
  readonly expiresAt?: number;
  /** Download attempts allowed (8.8.5/6.4). */
  readonly maxDownloadAttempts?: number;
  /** Profile policy rules carried in StoreMetadata (SGP.22 2.9.1); PPR1/PPR2 need `profileOwner`. */
  readonly profilePolicyRules?: readonly PprName[];
  /** The profile owner 'MCC-MNC' (StoreMetadata profileOwner), e.g. '001-01'. */
  readonly profileOwner?: string;
  /** A PNG or JPEG icon of at most 1024 bytes (StoreMetadata icon). */
  readonly icon?: Buffer;
}

export type PprName = keyof typeof PprId;

/** SGP.22 Icon ::= OCTET STRING (SIZE(0..1024)). */
const MAX_ICON_SIZE = 1024;
const PNG_MAGIC = Buffer.from('89504e470d0a1a0a', 'hex');
const JPEG_MAGIC = Buffer.from('ffd8ff', 'hex');
const OWNER = /^(\d{3})-(\d{2,3})$/;

function iconTypeOf(icon: Buffer): number {
  if (icon.length > MAX_ICON_SIZE) throw new McimError('INVALID_ARGUMENT', `the icon is ${icon.length} bytes, at most ${MAX_ICON_SIZE}`);
  if (icon.subarray(0, PNG_MAGIC.length).equals(PNG_MAGIC)) return IconType.png;
  if (icon.subarray(0, JPEG_MAGIC.length).equals(JPEG_MAGIC)) return IconType.jpg;
  throw new McimError('INVALID_ARGUMENT', 'the icon is neither PNG nor JPEG');
}

function ownerDer(owner: string): Buffer {
  const m = OWNER.exec(owner);
  if (m === null) throw new McimError('INVALID_ARGUMENT', `'${owner}' is not a profile owner MCC-MNC (e.g. 001-01)`);
  return encode(OperatorId, { mccMnc: encodePlmnId(m[1]!, m[2]!) });
}

function pprMask(rules: readonly string[], owner: string | undefined): number {
  let mask = 0;
  for (const name of rules) {
    if (!Object.hasOwn(PprId, name)) throw new McimError('INVALID_ARGUMENT', `'${name}' is not a profile policy rule (${Object.keys(PprId).join(', ')})`);
    mask |= 1 << PprId[name as PprName];
  }
  // SGP.22 2.9.2.2: the RAT authorises PPR1/PPR2 per profile owner; without one no eUICC can accept them.
  if ((mask & ((1 << PprId.ppr1) | (1 << PprId.ppr2))) !== 0 && owner === undefined) {
    throw new McimError('INVALID_ARGUMENT', 'ppr1 and ppr2 need a profile owner');
  }
  return mask;
}

export interface ImportedProfile {
  /** Undefined for an order without a matching ID (found by its EID). */
  readonly matchingId: string | undefined;
  readonly iccid: string;
  readonly profileName: string;
}

/** Matching IDs: SGP.22 4.1 activation code character set, without the '$' delimiter. */
const MATCHING_ID = /^[0-9A-Za-z-]{1,255}$/;
/**
 * Matching IDs are bearer secrets: anyone who has one may download an order not bound to an EID. The floor is the
 * entropy of this many characters of A-Z0-9 (about 103 bits): a supplied ID shorter than that needs
 * `allowShortMatchingId`; generated ones are longer (GENERATED_LENGTH).
 */
export const MIN_MATCHING_ID_LENGTH = 20;
const GENERATED_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const GENERATED_LENGTH = 25;

/** A random matching ID of GENERATED_LENGTH characters of A-Z0-9, uniformly drawn (about 129 bits). */
function generateMatchingId(): string {
  return Array.from({ length: GENERATED_LENGTH }, () => GENERATED_ALPHABET[randomInt(GENERATED_ALPHABET.length)]).join('');
}

/** The key of an order without a matching ID: ':' cannot appear in a matching ID, and the store never matches it to one. */
function eidOnlyOrderKey(): string {
  return `eid-only:${randomBytes(16).toString('hex')}`;
}

function checkMatchingId(matchingId: string, allowShort: boolean): void {
  if (!MATCHING_ID.test(matchingId)) throw new McimError('INVALID_ARGUMENT', `'${matchingId}' is not a matching ID (letters, digits, '-')`);
  if (matchingId.length < MIN_MATCHING_ID_LENGTH && !allowShort) {
    throw new McimError(
      'INVALID_ARGUMENT',
      `the matching ID '${matchingId}' is shorter than ${MIN_MATCHING_ID_LENGTH} characters: it could be guessed (allow it explicitly, or let one be generated)`,
    );
  }
}

/**
 * Decodes the SAIP package (refusing malformed ones), then stores it released: under the given or a generated matching
 * ID, or, given an EID and no matching ID, for that EID alone; released unless told otherwise.
 */
export async function importProfile(store: SmdpStore, profilePackage: Buffer, options: ImportOptions, now: number): Promise<ImportedProfile> {
  if (options.matchingId !== undefined) checkMatchingId(options.matchingId, options.allowShortMatchingId === true);
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
  if (options.maxDownloadAttempts !== undefined && (!Number.isInteger(options.maxDownloadAttempts) || options.maxDownloadAttempts < 1)) {
    throw new McimError('INVALID_ARGUMENT', 'the maximum download attempts must be a positive integer');
  }
  if (options.expiresAt !== undefined && !Number.isFinite(options.expiresAt)) throw new McimError('INVALID_ARGUMENT', 'the expiry time is not a time');
  const iconType = options.icon === undefined ? undefined : iconTypeOf(options.icon);
  const profileOwner = options.profileOwner === undefined ? undefined : ownerDer(options.profileOwner);
  const profilePolicyRules = options.profilePolicyRules === undefined ? undefined : pprMask(options.profilePolicyRules, options.profileOwner);
  const profileName = options.profileName ?? `Profile ${iccid}`;
  const eidOnly = options.matchingId === undefined && options.eid !== undefined;
  const matchingId = eidOnly ? undefined : (options.matchingId ?? generateMatchingId());
  await store.orders.insert(
    {
      matchingId: matchingId ?? eidOnlyOrderKey(),
      eidOnly,
      iccid,
      eid: options.eid,
      ccHash: options.confirmationCode === undefined ? undefined : createHash('sha256').update(options.confirmationCode, 'utf8').digest(),
      profileName,
      serviceProviderName: options.serviceProviderName ?? 'mcim',
      profileClass: ProfileClass[options.profileClass ?? 'operational'],
      profilePackage,
      released: options.released,
      expiresAt: options.expiresAt,
      maxDownloadAttempts: options.maxDownloadAttempts,
      profilePolicyRules,
      profileOwner,
      iconType,
      icon: options.icon,
    },
    now,
  );
  return { matchingId, iccid, profileName };
}

/**
 * The activation code of SGP.22 4.1: LPA:1$<SM-DP+ address>$<matching ID>[$<SM-DP+ OID>[$<confirmation code required
 * flag '1'>]]; the OID field is left empty when only the flag follows. An empty matching ID: the order is found by EID.
 */
export function activationCode(address: string, matchingId: string, options: { oid?: string; confirmationCodeRequired?: boolean } = {}): string {
  const fields = ['LPA:1', address, matchingId];
  if (options.oid !== undefined || options.confirmationCodeRequired === true) fields.push(options.oid ?? '');
  if (options.confirmationCodeRequired === true) fields.push('1');
  return fields.join('$');
}
