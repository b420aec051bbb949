// `mcim suci conceal|deconceal`: SUCI protection schemes of TS 33.501 Annex C (null, ECIES profiles A and B).
import { Option, type Command } from 'commander';
import { McimError } from '../../errors.js';
import { concealSuci, deconcealSuci, type DeconcealResult, type SuciProfile } from '../../crypto/suci.js';
import { parseHexArg } from './aka.js';

export interface ConcealCliOptions {
  supi?: string;
  mncLength?: string;
  mcc?: string;
  mnc?: string;
  msin?: string;
  profile: string;
  hnPublicKey?: string;
  hnKeyId: string;
  routingIndicator: string;
  ephPrivateKey?: string;
}

export interface ConcealCliResult {
  suci: string;
  supi: string;
}

export interface DeconcealCliOptions {
  suci: string;
  hnPrivateKey?: string;
}

function imsiParts(o: ConcealCliOptions): { mcc: string; mnc: string; msin: string } {
  const split = o.mcc !== undefined || o.mnc !== undefined || o.msin !== undefined;
  if ((o.supi !== undefined) === split) {
    const message = 'give either --supi imsi-<digits> (with --mnc-length) or --mcc, --mnc and --msin';
    throw new McimError('INVALID_ARGUMENT', message);
  }
  if (o.supi === undefined) {
    if (o.mcc === undefined || o.mnc === undefined || o.msin === undefined) {
      throw new McimError('INVALID_ARGUMENT', '--mcc, --mnc and --msin go together');
    }
    return { mcc: o.mcc, mnc: o.mnc, msin: o.msin };
  }
  const m = /^imsi-(\d{6,15})$/.exec(o.supi);
  if (m === null) throw new McimError('INVALID_ARGUMENT', `--supi must be imsi-<6..15 digits>, got "${o.supi}"`);
  if (o.mncLength !== '2' && o.mncLength !== '3') {
    throw new McimError('INVALID_ARGUMENT', '--supi needs --mnc-length 2 or 3 (the IMSI does not tell)');
  }
  const imsi = m[1]!;
  const mncEnd = 3 + Number(o.mncLength);
  return { mcc: imsi.slice(0, 3), mnc: imsi.slice(3, mncEnd), msin: imsi.slice(mncEnd) };
}

function keyId(value: string): number {
  if (!/^\d{1,3}$/.test(value) || Number(value) > 255) {
    throw new McimError('INVALID_ARGUMENT', `--hn-key-id must be 0..255, got "${value}"`);
  }
  return Number(value);
}

/** `mcim suci conceal`: SUPI to SUCI. */
export function runSuciConceal(o: ConcealCliOptions): ConcealCliResult {
  const { mcc, mnc, msin } = imsiParts(o);
  if (o.profile !== 'A' && o.profile !== 'B' && o.profile !== 'null') {
    throw new McimError('INVALID_ARGUMENT', `--profile must be A, B or null, got "${o.profile}"`);
  }
  const profile: SuciProfile = o.profile;
  const suci = concealSuci({
    mcc,
    mnc,
    msin,
    routingIndicator: o.routingIndicator,
    profile,
    hnKeyId: keyId(o.hnKeyId),
    hnPublicKey:
      o.hnPublicKey === undefined
        ? undefined
        : parseHexArg('--hn-public-key', o.hnPublicKey, ...(profile === 'A' ? [32] : [33, 65])),
    ephemeralPrivateKey:
      o.ephPrivateKey === undefined ? undefined : parseHexArg('--eph-private-key', o.ephPrivateKey, 32),
  });
  return { suci, supi: `imsi-${mcc}${mnc}${msin}` };
}

/** `mcim suci deconceal`: SUCI to SUPI with the home network private key. */
export function runSuciDeconceal(o: DeconcealCliOptions): DeconcealResult {
  const key = o.hnPrivateKey === undefined ? undefined : parseHexArg('--hn-private-key', o.hnPrivateKey, 32);
  return deconcealSuci(o.suci, key);
}

/** TS 33.501 C.4.3 profile A: ephemeral public key || ciphertext || MAC tag */
const EXAMPLE_SUCI =
  'suci-0-208-93-0-1-1-' +
  'b2e92f836055a255837debf850b528997ce0201cb82adfe4be1f587d07d8457d' +
  'cb02352410' +
  'cddd9e730ef3fa87';

export function registerSuci(program: Command): void {
  const suci = program.command('suci').description('SUCI concealment of the SUPI (TS 33.501 Annex C)');

  suci
    .command('conceal')
    .description('conceal an IMSI-type SUPI into a SUCI (null-scheme or ECIES profile A/B)')
    .option('--supi <imsi-digits>', 'SUPI as imsi-<MCC><MNC><MSIN>; needs --mnc-length')
    .addOption(new Option('--mnc-length <n>', 'number of MNC digits in --supi').choices(['2', '3']))
    .option('--mcc <digits>', 'MCC, 3 digits (instead of --supi)')
    .option('--mnc <digits>', 'MNC, 2 or 3 digits')
    .option('--msin <digits>', 'MSIN')
    .addOption(new Option('--profile <p>', 'protection scheme').choices(['A', 'B', 'null']).makeOptionMandatory())
    .option('--hn-public-key <hex>', 'home network public key: A 32 bytes, B 33 or 65 bytes (SEC1)')
    .requiredOption('--hn-key-id <n>', 'home network public key identifier, 0..255')
    .option('--routing-indicator <digits>', 'routing indicator, 1 to 4 digits', '0')
    .option('--eph-private-key <hex>', 'fixed ephemeral private key (32 bytes), for reproducible output')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples (TS 33.501 C.4.3 / C.4.4 home network keys):
  $ mcim suci conceal --supi imsi-20893001002086 --mnc-length 2 --profile A --hn-key-id 1 \\
      --hn-public-key 5a8d38864820197c3394b92613b20b91633cbd897119273bf8e4a6f4eec0a650
  $ mcim suci conceal --mcc 208 --mnc 93 --msin 001002086 --profile B --hn-key-id 2 \\
      --hn-public-key 0272da71976234ce833a6907425867b82e074d44ef907dfb4b3e21c1c2256ebcd1 --routing-indicator 0000
`,
    )
    .action((opts: ConcealCliOptions & { json?: boolean }) => {
      const r = runSuciConceal(opts);
      process.stdout.write(opts.json === true ? `${JSON.stringify(r, null, 2)}\n` : `${r.suci}\n`);
    });

  suci
    .command('deconceal')
    .description('recover the SUPI from a SUCI with the home network private key')
    .requiredOption('--suci <suci>', 'suci-0-<mcc>-<mnc>-<routing>-<scheme>-<key id>-<output>')
    .option('--hn-private-key <hex>', 'home network private key, 32 bytes (not needed for the null-scheme)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Example (TS 33.501 C.4.3 home network key):
  $ mcim suci deconceal --hn-private-key c53c22208b61860b06c62e5406a7b330c2b577aa5558981510d128247d38bd1d \\
      --suci ${EXAMPLE_SUCI}
`,
    )
    .action((opts: DeconcealCliOptions & { json?: boolean }) => {
      const r = runSuciDeconceal(opts);
      process.stdout.write(opts.json === true ? `${JSON.stringify(r, null, 2)}\n` : `${r.supi}\n`);
    });
}
