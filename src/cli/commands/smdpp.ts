// `mcim smdpp import`: make a SAIP profile package downloadable from this SM-DP+ and print its activation code (SGP.22 4.1).
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { McimError } from '../../errors.js';
import { initSmdpDataDir, openSmdpStore, requireSmdpDataDir } from '../../smdpp/dataDir.js';
import { activationCode, importProfile, MIN_MATCHING_ID_LENGTH, type ImportOptions } from '../../smdpp/importProfile.js';
import { registerSmdppAudit } from './smdppAudit.js';
import { registerSmdppCredentials } from './smdppCredentials.js';
import { registerSmdppLockouts } from './smdppLockouts.js';

export interface SmdppImportCliOptions {
  readonly matchingId?: string;
  /** Accept a supplied matching ID shorter than MIN_MATCHING_ID_LENGTH. */
  readonly allowShortMatchingId?: boolean;
  readonly eid?: string;
  readonly confirmationCode?: string;
  readonly profileName?: string;
  readonly serviceProviderName?: string;
  readonly profileClass?: ImportOptions['profileClass'];
  /** Store the order not yet released (8.2/1.2 until `mcim smdpp release`). */
  readonly unreleased?: boolean;
  /** ISO 8601 time after which the order can no longer be downloaded (8.8.5/4.10). */
  readonly expires?: string;
  /** Download attempts allowed (8.8.5/6.4). */
  readonly maxAttempts?: string;
  /** Comma-separated profile policy rules: pprUpdateControl, ppr1, ppr2. */
  readonly ppr?: string;
  readonly profileOwner?: string;
  /** PNG or JPEG icon file (at most 1024 bytes). */
  readonly icon?: string;
  readonly data: string;
}

function readInput(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new McimError('INVALID_ARGUMENT', `cannot read ${what} ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function limits(o: SmdppImportCliOptions): Pick<ImportOptions, 'released' | 'expiresAt' | 'maxDownloadAttempts' | 'profilePolicyRules' | 'profileOwner' | 'icon'> {
  const expiresAt = o.expires === undefined ? undefined : Date.parse(o.expires);
  if (expiresAt !== undefined && Number.isNaN(expiresAt)) throw new McimError('INVALID_ARGUMENT', `'${o.expires}' is not an ISO 8601 time`);
  if (o.maxAttempts !== undefined && !/^[1-9]\d{0,5}$/.test(o.maxAttempts)) throw new McimError('INVALID_ARGUMENT', `'${o.maxAttempts}' is not a number of attempts`);
  return {
    released: o.unreleased !== true,
    expiresAt,
    maxDownloadAttempts: o.maxAttempts === undefined ? undefined : Number(o.maxAttempts),
    profilePolicyRules: o.ppr === undefined ? undefined : (o.ppr.split(',').map((r) => r.trim()) as ImportOptions['profilePolicyRules']),
    profileOwner: o.profileOwner,
    icon: o.icon === undefined ? undefined : readInput(o.icon, 'the icon'),
  };
}

export interface SmdppImportReport {
  /** Null for an order bound to an EID without a matching ID (default SM-DP+). */
  readonly matchingId: string | null;
  readonly eid: string | null;
  readonly iccid: string;
  /** For an order without a matching ID, the AC with an empty one (the SM-DP+ finds the order by EID). */
  readonly activationCode: string;
  readonly confirmationCodeRequired: boolean;
}

/**
 * Reads FILE (DER), stores it released in the data directory under the given or a generated matching ID, or for the EID
 * alone when an EID and no matching ID is given; returns the activation code.
 */
export async function smdppImport(file: string, o: SmdppImportCliOptions): Promise<SmdppImportReport> {
  const der = readInput(file, 'the profile package');
  const extra = limits(o);
  const data = initSmdpDataDir(o.data);
  const store = await openSmdpStore(data);
  try {
    const r = await importProfile(
      store,
      der,
      {
        matchingId: o.matchingId,
        allowShortMatchingId: o.allowShortMatchingId,
        eid: o.eid,
        confirmationCode: o.confirmationCode,
        profileName: o.profileName,
        serviceProviderName: o.serviceProviderName,
        profileClass: o.profileClass,
        ...extra,
      },
      Date.now(),
    );
    const confirmationCodeRequired = o.confirmationCode !== undefined;
    return {
      matchingId: r.matchingId ?? null,
      eid: o.eid ?? null,
      iccid: r.iccid,
      activationCode: activationCode(data.address, r.matchingId ?? '', { confirmationCodeRequired }),
      confirmationCodeRequired,
    };
  } finally {
    await store.close();
  }
}

export function registerSmdpp(program: Command): void {
  const smdpp = program.command('smdpp').description('the SM-DP+ (SGP.22): profile orders for download');
  smdpp
    .command('import <file>')
    .description('make a profile package (SAIP DER) downloadable under a matching ID (generated if not given) or for an EID alone; prints the activation code')
    .addHelpText(
      'after',
      '\nExamples:\n  $ mcim smdpp import profile.der --data ./data\n  $ mcim smdpp import profile.der --eid 89049032123451234512345678901235 --confirmation-code 1234\n  $ mcim smdpp import profile.der --matching-id TS48V2 --allow-short-matching-id',
    )
    .option('--matching-id <id>', `the matching ID of the activation code (default: a random one; with --eid and without it: none, found by EID)`)
    .option('--allow-short-matching-id', `accept a matching ID shorter than ${MIN_MATCHING_ID_LENGTH} characters (guessable)`)
    .option('--eid <eid>', 'only this eUICC may download it')
    .option('--confirmation-code <code>', 'the end user must enter this code')
    .option('--profile-name <name>', 'profile name shown by the device')
    .option('--sp-name <name>', 'service provider name shown by the device')
    .addOption(new Option('--profile-class <class>', 'profile class').choices(['test', 'provisioning', 'operational']))
    .option('--unreleased', 'store the order not yet released (release it with `mcim smdpp release`)')
    .option('--expires <time>', 'ISO 8601 time after which the order can no longer be downloaded')
    .option('--max-attempts <n>', 'download attempts allowed')
    .option('--ppr <rules>', 'profile policy rules, comma-separated: pprUpdateControl, ppr1, ppr2')
    .option('--profile-owner <mcc-mnc>', 'the profile owner, e.g. 001-01 (needed with ppr1/ppr2)')
    .option('--icon <file>', 'PNG or JPEG icon (at most 1024 bytes) shown by the device')
    .option('--data <dir>', 'data directory', './data')
    .option('--json', 'print JSON')
    .action(async (file: string, o: SmdppImportCliOptions & { spName?: string; json?: boolean }) => {
      requireSmdpDataDir(o.data);
      const r = await smdppImport(file, { ...o, serviceProviderName: o.spName });
      process.stdout.write(
        o.json
          ? `${JSON.stringify(r, null, 2)}\n`
          : `profile ${r.iccid} ${o.unreleased === true ? 'stored (not yet released)' : 'released'} ${r.matchingId === null ? `for EID ${r.eid} (no matching ID)` : `for matching ID ${r.matchingId}`}${r.confirmationCodeRequired ? ' (confirmation code required)' : ''}\n${r.activationCode}\n`,
      );
    });
  registerSmdppCredentials(smdpp);
  registerSmdppLockouts(smdpp);
  registerSmdppAudit(smdpp);
  smdpp
    .command('release <matching-id>')
    .description('release an order imported with --unreleased (what ES2+.ReleaseProfile does)')
    .option('--data <dir>', 'data directory', './data')
    .action(async (matchingId: string, o: { data: string }) => {
      await smdppRelease(matchingId, o.data);
      process.stdout.write(`order ${matchingId} released\n`);
    });
}

/** Releases a confirmed order; ORDER_NOT_RELEASABLE when there is no such order or it is not waiting for release. */
export async function smdppRelease(matchingId: string, dataDir: string): Promise<void> {
  requireSmdpDataDir(dataDir);
  const store = await openSmdpStore(initSmdpDataDir(dataDir));
  try {
    if (!(await store.orders.release(matchingId, Date.now()))) {
      throw new McimError('ORDER_NOT_RELEASABLE', `no order with matching ID '${matchingId}' is waiting for release`);
    }
  } finally {
    await store.close();
  }
}
