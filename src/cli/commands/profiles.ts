// `mcim profiles`: profile types, personalized profile stock and the operator's subscriber exports (docs/operations.md, Profile stock).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { McimError } from '../../errors.js';
import { writePrivateFile } from '../../pki/privateFiles.js';
import { addProfileType, type AddedProfileType } from '../../smdpp/addProfileType.js';
import { initSmdpDataDir, openSmdpStore, requireSmdpDataDir } from '../../smdpp/dataDir.js';
import { EXPORT_FORMATS, exportSubscribers, type ExportFormat } from '../../smdpp/exportSubscribers.js';
import { generateStock, type GenerateProgress, type GenerateResult } from '../../smdpp/generateProfiles.js';
import { CODE_NAMES, type PublicProfileTypeRules } from '../../smdpp/profileType.js';
import { ProfileStock, STOCK_STATES, type StockState } from '../../store/profileStock.js';
import { AtRestKey } from '../../store/secretBox.js';
import { parseWholeNumber } from '../wholeNumber.js';

interface StockCliOptions {
  readonly data: string;
  /** A file holding the key-encryption key (32 bytes: raw, hex or base64); default: the data directory's at-rest key. */
  readonly kekFile?: string;
}

function readInput(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new McimError('INVALID_ARGUMENT', `cannot read ${what} ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Opens the data directory's store with the KEK: --kek-file, else the directory's at-rest key (checked). */
async function withStock<T>(o: StockCliOptions, run: (stock: ProfileStock) => Promise<T>): Promise<T> {
  requireSmdpDataDir(o.data);
  const kek = o.kekFile === undefined ? undefined : AtRestKey.resolve(o.kekFile, { file: o.kekFile, env: {} });
  const data = initSmdpDataDir(o.data);
  const store = await openSmdpStore(data);
  try {
    return await run(new ProfileStock(store.db, (kek ?? data.atRestKey).box()));
  } finally {
    await store.close();
  }
}

export interface ProfileTypeCliOptions extends StockCliOptions {
  readonly type: string;
  readonly operator: string;
  readonly template: string;
  readonly algorithm?: string;
  readonly keyLength?: string;
  readonly op?: string;
  readonly opFile?: string;
  readonly amf?: string;
  readonly sqnStart?: string;
  readonly iccidPrefix?: string;
  readonly imsiPrefix?: string;
  readonly macLength?: string;
  readonly resLength?: string;
  readonly ckLength?: string;
  readonly ikLength?: string;
  readonly keccakIterations?: string;
  readonly pin1?: string;
  readonly pin2?: string;
  readonly adm1?: string;
  readonly puk1?: string;
  readonly puk2?: string;
}

function integerOption(value: string | undefined, name: string): number | undefined {
  return value === undefined ? undefined : parseWholeNumber(value, `--${name}`);
}

/** The rules from the flags (checked by checkProfileTypeRules): the OP from --op or --op-file (hex), never both. */
function rulesFromFlags(o: ProfileTypeCliOptions): Record<string, unknown> {
  if (o.op !== undefined && o.opFile !== undefined) throw new McimError('INVALID_ARGUMENT', 'give the OP with --op or --op-file, not both');
  const op = o.opFile !== undefined ? readInput(o.opFile, 'the OP file').toString('utf8').trim() : o.op;
  if (op === undefined) throw new McimError('INVALID_ARGUMENT', 'the OP (Milenage) or TOP (TUAK) is required: --op HEX or --op-file FILE');
  const tuak = {
    macLength: integerOption(o.macLength, 'mac-length'),
    resLength: integerOption(o.resLength, 'res-length'),
    ckLength: integerOption(o.ckLength, 'ck-length'),
    ikLength: integerOption(o.ikLength, 'ik-length'),
    keccakIterations: integerOption(o.keccakIterations, 'keccak-iterations'),
  };
  return {
    algorithm: o.algorithm,
    keyLength: integerOption(o.keyLength, 'key-length'),
    op,
    amf: o.amf,
    sqnStart: o.sqnStart,
    iccidPrefix: o.iccidPrefix,
    imsiPrefix: o.imsiPrefix,
    tuak: Object.fromEntries(Object.entries(tuak).filter(([, v]) => v !== undefined)),
    codes: Object.fromEntries(CODE_NAMES.flatMap((n) => (o[n] === undefined ? [] : [[n, o[n]]]))),
  };
}

/** Reads the template and stores the profile type: nothing is written unless the template and rules pass every check. */
export async function profilesTypeAdd(o: ProfileTypeCliOptions, now = Date.now()): Promise<AddedProfileType> {
  const rules = rulesFromFlags(o);
  const template = readInput(o.template, 'the template');
  return withStock(o, (stock) => addProfileType(stock, { name: o.type, operator: o.operator, template, rules }, now));
}

export interface GenerateCliOptions extends StockCliOptions {
  readonly type: string;
  readonly count: string;
  readonly iccidStart: string;
  readonly imsiStart: string;
}

/** Generates COUNT profiles of the type into the stock; `onProgress` after each batch. */
export async function profilesGenerate(o: GenerateCliOptions, onProgress?: (p: GenerateProgress) => void, now = Date.now()): Promise<GenerateResult> {
  const count = parseWholeNumber(o.count, '--count', 1, 100_000_000);
  return withStock(o, (stock) => generateStock(stock, o.type, { count, iccidStart: o.iccidStart, imsiStart: o.imsiStart }, now, onProgress));
}

export interface StockTypeReport {
  readonly profileType: string;
  readonly operator: string;
  readonly rules: PublicProfileTypeRules;
  readonly counts: Readonly<Record<StockState, number>>;
}

/** Each profile type with its public rules and its profiles counted by state: no secret. */
export async function profilesStock(o: StockCliOptions): Promise<StockTypeReport[]> {
  return withStock(o, async (stock) => {
    const counts = await stock.counts();
    return (await stock.listTypes()).map((t) => ({
      profileType: t.name,
      operator: t.operator,
      rules: JSON.parse(t.rules) as PublicProfileTypeRules,
      counts: Object.fromEntries(STOCK_STATES.map((state) => [state, counts.find((c) => c.profileType === t.name && c.state === state)?.count ?? 0])) as Record<StockState, number>,
    }));
  });
}

export interface ExportCliOptions extends StockCliOptions {
  readonly operator: string;
  readonly format: ExportFormat;
  /** Created with mode 0600; refused when it exists. Default: standard output. */
  readonly out?: string;
}

/** Bytes collected before a write to the export file. */
const CHUNK = 1 << 16;

/** Streams the operator's subscribers to --out (mode 0600, removed again on failure) or standard output. */
export async function profilesExport(o: ExportCliOptions, stdout: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(o.format)) throw new McimError('INVALID_ARGUMENT', `'${o.format}' is not an export format (${EXPORT_FORMATS.join(', ')})`);
  if (o.out !== undefined && existsSync(o.out)) throw new McimError('FILE_EXISTS', `${o.out} exists: the export is written to a new file only`);
  return withStock(o, async (stock) => {
    const out = o.out;
    if (out === undefined) {
      // A reader that goes away (| head) ends the export: EPIPE is an error event, seen at the next write.
      let failed: Error | undefined;
      const onError = (e: Error): void => {
        failed = e;
      };
      stdout.on('error', onError);
      try {
        return await exportSubscribers(stock, o.operator, o.format, (text) => {
          if (failed !== undefined) return Promise.reject(new McimError('IO_ERROR', `standard output refused the export: ${failed.message}`));
          return stdout.write(text) ? Promise.resolve() : new Promise<void>((resolve) => stdout.once('drain', () => resolve()));
        });
      } finally {
        stdout.off('error', onError);
      }
    }
    let pending = '';
    let created = false;
    const flush = (): void => {
      writePrivateFile(out, pending, created ? 'a' : 'wx');
      created = true;
      pending = '';
    };
    try {
      const n = await exportSubscribers(stock, o.operator, o.format, (text) => {
        pending += text;
        if (pending.length >= CHUNK) flush();
        return Promise.resolve();
      });
      flush();
      return n;
    } catch (e) {
      if (created) rmSync(out, { force: true });
      throw e;
    }
  });
}

function stockText(types: readonly StockTypeReport[]): string {
  if (types.length === 0) return 'no profile types (add one with mcim profiles type add)\n';
  return types
    .map((t) => {
      // Every profile type shows what is available and allocated; the later states once a profile reached them.
      const states = STOCK_STATES.filter((s) => s === 'available' || s === 'allocated' || t.counts[s] > 0).map((s) => `${s} ${t.counts[s]}`);
      return `${t.profileType}  operator ${t.operator}  ${t.rules.algorithm} K ${t.rules.keyLength * 8} bits  ${states.join('  ')}\n`;
    })
    .join('');
}

const KEK_HELP = "file holding the key-encryption key (32 bytes: raw, hex or base64); default: the data directory's at-rest key";

export function registerProfiles(program: Command): void {
  const profiles = program.command('profiles').description('profile types, personalized profile stock and subscriber exports for the operator');
  const type = profiles.command('type').description('profile types: a template and its personalization rules');
  type
    .command('add')
    .description('define a profile type from a template (unprotected SAIP profile package, e.g. a TS.48 profile) and rules')
    .addHelpText('after', '\nExample:\n  $ mcim profiles type add --data ./data --type iot-m --operator op1 --template ts48.der --imsi-prefix 00101 --op-file op.hex')
    .requiredOption('--type <name>', 'profile type name')
    .requiredOption('--operator <name>', 'the operator the profiles and subscriber data belong to')
    .requiredOption('--template <file>', 'the template (SAIP DER)')
    .addOption(new Option('--algorithm <name>', 'AKA algorithm').choices(['milenage', 'tuak']).default('milenage'))
    .addOption(new Option('--key-length <bytes>', 'K length (TUAK: 16 or 32)').choices(['16', '32']))
    .option('--op <hex>', 'the OP (Milenage, 32 hex digits) or TOP (TUAK, 64 hex digits) OPc/TOPc are derived from')
    .option('--op-file <file>', 'a file holding the OP or TOP (hex)')
    .option('--amf <hex>', 'AMF for the AuC', '8000')
    .option('--sqn-start <hex>', "the AuC's first SQN (12 hex digits)", '000000000000')
    .option('--iccid-prefix <digits>', 'every ICCID starts with these digits', '89')
    .option('--imsi-prefix <digits>', 'every IMSI starts with these digits (MCC MNC)', '')
    .option('--mac-length <bytes>', 'TUAK MAC length: 8, 16 or 32')
    .option('--res-length <bytes>', 'TUAK RES length: 4, 8, 16 or 32')
    .option('--ck-length <bytes>', 'TUAK CK length: 16 or 32')
    .option('--ik-length <bytes>', 'TUAK IK length: 16 or 32')
    .option('--keccak-iterations <n>', 'TUAK Keccak iterations')
    .option('--pin1 <rule>', "'random' (digits of the template's length), 'template' (kept) or fixed digits", 'random')
    .option('--pin2 <rule>', 'as --pin1', 'random')
    .option('--adm1 <rule>', 'as --pin1 (fixed: 8 digits)', 'random')
    .option('--puk1 <rule>', 'as --pin1 (fixed: 8 digits)', 'random')
    .option('--puk2 <rule>', 'as --pin1 (fixed: 8 digits)', 'random')
    .option('--data <dir>', 'data directory', './data')
    .option('--kek-file <file>', KEK_HELP)
    .option('--json', 'print JSON')
    .action(async (o: ProfileTypeCliOptions & { json?: boolean }) => {
      const r = await profilesTypeAdd(o);
      process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `profile type ${r.name} (operator ${r.operator}, ${r.rules.algorithm}, template ${r.templateSize} bytes) added\n`);
    });
  profiles
    .command('generate')
    .description('personalize COUNT profiles of a type into the stock (consecutive ICCIDs with their Luhn digit and IMSIs, fresh K and OPc/TOPc, codes)')
    .addHelpText('after', '\nExample:\n  $ mcim profiles generate --data ./data --type iot-m --count 100000 --iccid-start 898800000000000000 --imsi-start 001010000000001')
    .requiredOption('--type <name>', 'profile type')
    .requiredOption('--count <n>', 'profiles to generate')
    .requiredOption('--iccid-start <digits>', 'the first ICCID without its Luhn digit (18 or 19 digits)')
    .requiredOption('--imsi-start <digits>', 'the first IMSI')
    .option('--data <dir>', 'data directory', './data')
    .option('--kek-file <file>', KEK_HELP)
    .option('--json', 'print JSON')
    .action(async (o: GenerateCliOptions & { json?: boolean }) => {
      // Loaded only for a terminal: no other command pays for it.
      const bar = process.stderr.isTTY
        ? new (await import('cli-progress')).SingleBar({ stream: process.stderr, format: 'profiles [{bar}] {percentage}% {value}/{total} eta {eta_formatted}' })
        : undefined;
      bar?.start(Number(o.count), 0);
      try {
        const r = await profilesGenerate(o, (p) => bar?.update(p.done));
        bar?.stop();
        process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${r.count} profiles of ${r.profileType} in stock: ICCIDs ${r.firstIccid} to ${r.lastIccid}, IMSIs ${r.firstImsi} to ${r.lastImsi}\n`);
      } finally {
        bar?.stop();
      }
    });
  profiles
    .command('stock')
    .description('profile types and their profiles by state (no secrets)')
    .option('--data <dir>', 'data directory', './data')
    .option('--kek-file <file>', KEK_HELP)
    .option('--json', 'print JSON')
    .action(async (o: StockCliOptions & { json?: boolean }) => {
      const r = await profilesStock(o);
      process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : stockText(r));
    });
  profiles
    .command('export')
    .description("the operator's subscribers (IMSI, K, OPc/TOPc, algorithm, AMF, SQN) for its HSS/UDM")
    .addHelpText(
      'after',
      '\nImport:\n  mcim:     mcim auc subscribers import FILE\n  open5gs:  mongoimport --db open5gs --collection subscribers --file FILE\n  osmo-hlr: sqlite3 hlr.db < FILE   (a database made by osmo-hlr-db-tool create)',
    )
    .requiredOption('--operator <name>', 'operator')
    .addOption(new Option('--format <format>', 'subscriber format').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .option('--out <file>', 'write to this new file (mode 0600) instead of standard output')
    .option('--data <dir>', 'data directory', './data')
    .option('--kek-file <file>', KEK_HELP)
    .action(async (o: ExportCliOptions) => {
      const n = await profilesExport(o);
      if (o.out !== undefined) process.stderr.write(`${n} subscribers written to ${join(o.out)}\n`);
    });
}
