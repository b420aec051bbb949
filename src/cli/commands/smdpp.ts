// `mcim smdpp import`: make a SAIP profile package downloadable from this SM-DP+ and print its activation code (SGP.22 4.1).
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { McimError } from '../../errors.js';
import { initSmdpDataDir, openSmdpStore, requireSmdpDataDir } from '../../smdpp/dataDir.js';
import { activationCode, importProfile, type ImportOptions } from '../../smdpp/importProfile.js';
import { registerSmdppCredentials } from './smdppCredentials.js';

export interface SmdppImportCliOptions {
  readonly matchingId: string;
  readonly eid?: string;
  readonly confirmationCode?: string;
  readonly profileName?: string;
  readonly serviceProviderName?: string;
  readonly profileClass?: ImportOptions['profileClass'];
  readonly data: string;
}

export interface SmdppImportReport {
  readonly matchingId: string;
  readonly iccid: string;
  readonly activationCode: string;
  readonly confirmationCodeRequired: boolean;
}

/** Reads FILE (DER), stores it released under the matching ID in the data directory, returns the activation code. */
export async function smdppImport(file: string, o: SmdppImportCliOptions): Promise<SmdppImportReport> {
  let der: Buffer;
  try {
    der = readFileSync(file);
  } catch (e) {
    throw new McimError('INVALID_ARGUMENT', `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const data = initSmdpDataDir(o.data);
  const store = await openSmdpStore(data);
  try {
    const r = await importProfile(
      store,
      der,
      {
        matchingId: o.matchingId,
        eid: o.eid,
        confirmationCode: o.confirmationCode,
        profileName: o.profileName,
        serviceProviderName: o.serviceProviderName,
        profileClass: o.profileClass,
      },
      Date.now(),
    );
    return { matchingId: r.matchingId, iccid: r.iccid, activationCode: activationCode(data.address, r.matchingId), confirmationCodeRequired: o.confirmationCode !== undefined };
  } finally {
    await store.close();
  }
}

export function registerSmdpp(program: Command): void {
  const smdpp = program.command('smdpp').description('the SM-DP+ (SGP.22): profile orders for download');
  smdpp
    .command('import <file>')
    .description('make a profile package (SAIP DER) downloadable under a matching ID; prints the activation code')
    .addHelpText(
      'after',
      '\nExamples:\n  $ mcim smdpp import profile.der --matching-id TS48V2 --data ./data\n  $ mcim smdpp import profile.der --matching-id ORDER-7 --eid 89049032123451234512345678901235 --confirmation-code 1234',
    )
    .requiredOption('--matching-id <id>', 'the matching ID of the activation code')
    .option('--eid <eid>', 'only this eUICC may download it')
    .option('--confirmation-code <code>', 'the end user must enter this code')
    .option('--profile-name <name>', 'profile name shown by the device')
    .option('--sp-name <name>', 'service provider name shown by the device')
    .addOption(new Option('--profile-class <class>', 'profile class').choices(['test', 'provisioning', 'operational']))
    .option('--data <dir>', 'data directory', './data')
    .option('--json', 'print JSON')
    .action(async (file: string, o: SmdppImportCliOptions & { spName?: string; json?: boolean }) => {
      requireSmdpDataDir(o.data);
      const r = await smdppImport(file, { ...o, serviceProviderName: o.spName });
      process.stdout.write(
        o.json
          ? `${JSON.stringify(r, null, 2)}\n`
          : `profile ${r.iccid} released for matching ID ${r.matchingId}${r.confirmationCodeRequired ? ' (confirmation code required)' : ''}\n${r.activationCode}\n`,
      );
    });
  registerSmdppCredentials(smdpp);
}
