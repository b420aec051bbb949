// `mcim aka milenage|tuak`: the f-functions of TS 35.206/35.231, AUTN and AUTS verification (TS 33.102 6.3).
import { Option, type Command } from 'commander';
import { McimError } from '../../errors.js';
import { CryptoError } from '../../crypto/errors.js';
import { buildAutn, verifyAuts, type AkaAlgorithm } from '../../crypto/authenticationVector.js';
import { computeOpc, Milenage } from '../../crypto/milenage.js';
import { computeTopc, Tuak, type TuakParams } from '../../crypto/tuak.js';

/** Parses a hex option value of one of the given byte lengths; throws McimError INVALID_ARGUMENT. */
export function parseHexArg(option: string, value: string, ...lengths: number[]): Buffer {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(value)) {
    throw new McimError('INVALID_ARGUMENT', `${option}: not an even-length hex string: "${value}"`);
  }
  const bytes = Buffer.from(value, 'hex');
  if (!lengths.includes(bytes.length)) {
    const want = lengths.map((n) => `${n}`).join(' or ');
    throw new McimError('INVALID_ARGUMENT', `${option}: expected ${want} bytes of hex, got ${bytes.length}`);
  }
  return bytes;
}

interface CommonOptions {
  k: string;
  rand: string;
  sqn: string;
  amf: string;
  auts?: string;
}

export interface MilenageCliOptions extends CommonOptions {
  op?: string;
  opc?: string;
}

export interface TuakCliOptions extends CommonOptions {
  top?: string;
  topc?: string;
  macLen: string;
  resLen: string;
  ckLen: string;
  ikLen: string;
  keccakIterations: string;
}

export interface AkaCliResult {
  algorithm: 'milenage' | 'tuak';
  /** OPc (Milenage) or TOPc (Tuak) */
  opc?: string;
  topc?: string;
  macA: string;
  macS: string;
  res: string;
  ck: string;
  ik: string;
  ak: string;
  akStar: string;
  autn: string;
  /** present with --auts: the recovered SQN_MS, or a MAC-S failure */
  auts?: { valid: true; sqnMs: string } | { valid: false; error: string };
}

function operatorVariant(
  name: string,
  plain: string | undefined,
  derived: string | undefined,
  length: number,
): { plain?: Buffer; derived?: Buffer } {
  const plainOpt = `--${name.toLowerCase()}`;
  const derivedOpt = `--${name.toLowerCase()}c`;
  if ((plain === undefined) === (derived === undefined)) {
    throw new McimError('INVALID_ARGUMENT', `give exactly one of ${plainOpt} and ${derivedOpt}`);
  }
  return plain !== undefined
    ? { plain: parseHexArg(plainOpt, plain, length) }
    : { derived: parseHexArg(derivedOpt, derived!, length) };
}

function evaluate(alg: AkaAlgorithm, o: CommonOptions): Omit<AkaCliResult, 'algorithm' | 'opc' | 'topc'> {
  const rand = parseHexArg('--rand', o.rand, 16);
  const sqn = parseHexArg('--sqn', o.sqn, 6);
  const amf = parseHexArg('--amf', o.amf, 2);
  const auts = o.auts === undefined ? undefined : parseHexArg('--auts', o.auts, 6 + alg.macLength);
  const macA = alg.f1(rand, sqn, amf);
  const { res, ck, ik, ak } = alg.f2345(rand);
  const result: Omit<AkaCliResult, 'algorithm' | 'opc' | 'topc'> = {
    macA: macA.toString('hex'),
    macS: alg.f1star(rand, sqn, amf).toString('hex'),
    res: res.toString('hex'),
    ck: ck.toString('hex'),
    ik: ik.toString('hex'),
    ak: ak.toString('hex'),
    akStar: alg.f5star(rand).toString('hex'),
    autn: buildAutn(sqn, ak, amf, macA).toString('hex'),
  };
  if (auts !== undefined) {
    try {
      result.auts = { valid: true, sqnMs: verifyAuts(alg, rand, auts).toString('hex') };
    } catch (e) {
      if (!(e instanceof CryptoError && e.code === 'MAC_FAILURE')) throw e;
      result.auts = { valid: false, error: e.message };
    }
  }
  return result;
}

/** `mcim aka milenage`: all Milenage outputs for the given inputs. */
export function runAkaMilenage(o: MilenageCliOptions): AkaCliResult {
  const k = parseHexArg('--k', o.k, 16);
  const variant = operatorVariant('OP', o.op, o.opc, 16);
  const opc = variant.derived ?? computeOpc(k, variant.plain!);
  return { algorithm: 'milenage', opc: opc.toString('hex'), ...evaluate(new Milenage(k, opc), o) };
}

function lengthArg<T extends number>(option: string, value: string, allowed: readonly T[]): T {
  const n = Number(value);
  if (!(allowed as readonly number[]).includes(n)) {
    throw new McimError('INVALID_ARGUMENT', `${option} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return n as T;
}

/** `mcim aka tuak`: all Tuak outputs for the given inputs and length parameters. */
export function runAkaTuak(o: TuakCliOptions): AkaCliResult {
  const k = parseHexArg('--k', o.k, 16, 32);
  const variant = operatorVariant('TOP', o.top, o.topc, 32);
  if (!/^[1-9]\d{0,5}$/.test(o.keccakIterations)) {
    const message = `--keccak-iterations must be an integer 1..999999, got "${o.keccakIterations}"`;
    throw new McimError('INVALID_ARGUMENT', message);
  }
  const params: TuakParams = {
    macBits: lengthArg('--mac-len', o.macLen, [64, 128, 256] as const),
    resBits: lengthArg('--res-len', o.resLen, [32, 64, 128, 256] as const),
    ckBits: lengthArg('--ck-len', o.ckLen, [128, 256] as const),
    ikBits: lengthArg('--ik-len', o.ikLen, [128, 256] as const),
    keccakIterations: Number(o.keccakIterations),
  };
  const topc = variant.derived ?? computeTopc(k, variant.plain!, params.keccakIterations);
  return { algorithm: 'tuak', topc: topc.toString('hex'), ...evaluate(new Tuak(k, topc, params), o) };
}

/** Human-readable (one "NAME value" line each) or JSON rendering of a result. */
export function formatAkaResult(r: AkaCliResult, json: boolean): string {
  if (json) return `${JSON.stringify(r, null, 2)}\n`;
  const rows: [string, string][] = [
    r.opc !== undefined ? ['OPc', r.opc] : ['TOPc', r.topc ?? ''],
    ['MAC-A', r.macA],
    ['MAC-S', r.macS],
    ['RES', r.res],
    ['CK', r.ck],
    ['IK', r.ik],
    ['AK', r.ak],
    ['AK*', r.akStar],
    ['AUTN', r.autn],
  ];
  if (r.auts !== undefined) rows.push(r.auts.valid ? ['SQN_MS', r.auts.sqnMs] : ['AUTS', `rejected: ${r.auts.error}`]);
  return rows.map(([name, value]) => `${name.padEnd(7)} ${value}\n`).join('');
}

function emit(result: AkaCliResult, json: boolean): void {
  process.stdout.write(formatAkaResult(result, json));
  if (result.auts?.valid === false) process.exitCode = 1;
}

function commonOptions(cmd: Command, keyHelp: string): Command {
  return cmd
    .requiredOption('--k <hex>', keyHelp)
    .requiredOption('--rand <hex>', 'RAND, 16 bytes')
    .requiredOption('--sqn <hex>', 'SQN, 6 bytes')
    .requiredOption('--amf <hex>', 'AMF, 2 bytes')
    .option('--auts <hex>', 'also verify this AUTS and print the recovered SQN_MS (exit code 1 if MAC-S fails)')
    .option('--json', 'print JSON');
}

export function registerAka(program: Command): void {
  const aka = program.command('aka').description('3GPP AKA algorithms: Milenage and Tuak f1..f5*, AUTN, AUTS');

  const milenage = aka
    .command('milenage')
    .description('Milenage (TS 35.206): OPc, MAC-A/S, RES, CK, IK, AK, AK*, AUTN');
  commonOptions(milenage, 'K, 16 bytes')
    .addOption(new Option('--op <hex>', 'OP, 16 bytes (OPc is derived)').conflicts('opc'))
    .addOption(new Option('--opc <hex>', 'OPc, 16 bytes'))
    .addHelpText(
      'after',
      `
Examples:
  TS 35.207 test set 1:
  $ mcim aka milenage --k 465b5ce8b199b49faa5f0a2ee238a6bc --op cdc202d5123e20f62b6d676ac72cb318 \\
      --rand 23553cbe9637a89d218ae64dae47bf35 --sqn ff9bb4d0b607 --amf b9b9
  AUTS check (K/OPc of TS 35.208 test set 20), prints SQN_MS 000000000001:
  $ mcim aka milenage --k 90dca4eda45b53cf0f12d7c9c3bc6a89 --opc cb9cccc4b9258e6dca4760379fb82581 \\
      --rand 9fddc72092c6ad036b6e464789315b78 --sqn 000000000002 --amf 8000 \\
      --auts 4f2039392ddd4bb4316ed4a14688 --json
`,
    )
    .action((opts: MilenageCliOptions & { json?: boolean }) => emit(runAkaMilenage(opts), opts.json === true));

  const tuak = aka.command('tuak').description('Tuak (TS 35.231): TOPc, MAC-A/S, RES, CK, IK, AK, AK*, AUTN');
  commonOptions(tuak, 'K, 16 or 32 bytes')
    .addOption(new Option('--top <hex>', 'TOP, 32 bytes (TOPc is derived)').conflicts('topc'))
    .addOption(new Option('--topc <hex>', 'TOPc, 32 bytes'))
    .addOption(new Option('--mac-len <bits>', 'MAC-A/MAC-S length').choices(['64', '128', '256']).makeOptionMandatory())
    .addOption(new Option('--res-len <bits>', 'RES length').choices(['32', '64', '128', '256']).makeOptionMandatory())
    .addOption(new Option('--ck-len <bits>', 'CK length').choices(['128', '256']).makeOptionMandatory())
    .addOption(new Option('--ik-len <bits>', 'IK length').choices(['128', '256']).makeOptionMandatory())
    .requiredOption('--keccak-iterations <n>', 'number of Keccak-f[1600] iterations per function')
    .addHelpText(
      'after',
      `
Example (TS 35.233 test set 1):
  $ mcim aka tuak --k abababababababababababababababab \\
      --top 5555555555555555555555555555555555555555555555555555555555555555 \\
      --rand 42424242424242424242424242424242 --sqn 111111111111 --amf ffff \\
      --mac-len 64 --res-len 32 --ck-len 128 --ik-len 128 --keccak-iterations 1
`,
    )
    .action((opts: TuakCliOptions & { json?: boolean }) => emit(runAkaTuak(opts), opts.json === true));
}
