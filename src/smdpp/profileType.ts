// A profile type (docs/conformance.md, Profile personalization): a template (an unprotected SAIP profile package) and
// the rules that personalize each copy of it: identifiers, AKA algorithm and OP/TOP, PIN/PUK/ADM codes.
import { McimError } from '../errors.js';

export type StockAlgorithm = 'milenage' | 'tuak';

/** The codes a profile type personalizes: PIN1, PIN2, ADM1 (PE-PINCodes) and PUK1, PUK2 (PE-PUKCodes). */
export const CODE_NAMES = ['pin1', 'pin2', 'adm1', 'puk1', 'puk2'] as const;
export type CodeName = (typeof CODE_NAMES)[number];

/** Key references of the codes (ETSI TS 102 221 9.5.1): PIN1/PUK1 01, PIN2/PUK2 81, ADM1 0A. */
export const CODE_KEY_REFERENCES: Readonly<Record<CodeName, { readonly pe: 'pinCodes' | 'pukCodes'; readonly keyReference: number }>> = {
  pin1: { pe: 'pinCodes', keyReference: 0x01 },
  pin2: { pe: 'pinCodes', keyReference: 0x81 },
  adm1: { pe: 'pinCodes', keyReference: 0x0a },
  puk1: { pe: 'pukCodes', keyReference: 0x01 },
  puk2: { pe: 'pukCodes', keyReference: 0x81 },
};

/** 'random': fresh decimal digits, as many as the template's code has; 'template': the template's value kept; else fixed digits. */
export type CodeRule = { readonly mode: 'random' } | { readonly mode: 'template' } | { readonly mode: 'fixed'; readonly value: string };

/** TUAK output lengths (TS 35.231), exported to the AuC with the subscriber: bytes. */
export interface TuakLengths {
  readonly macLength: 8 | 16 | 32;
  readonly resLength: 4 | 8 | 16 | 32;
  readonly ckLength: 16 | 32;
  readonly ikLength: 16 | 32;
  readonly keccakIterations: number;
}

export interface ProfileTypeRules {
  readonly algorithm: StockAlgorithm;
  /** K length in bytes: 16 (Milenage, TUAK-128) or 32 (TUAK-256). */
  readonly keyLength: 16 | 32;
  /** The operator's OP (Milenage, 16 bytes) or TOP (TUAK, 32 bytes), hex: each card's OPc/TOPc is derived from it and K. Secret. */
  readonly op: string;
  /** AMF the AuC uses (4 hex digits). */
  readonly amf: string;
  /** The AuC's first SQN for each subscriber (12 hex digits). */
  readonly sqnStart: string;
  /** Every ICCID of the type starts with these digits (issuer identification number). */
  readonly iccidPrefix: string;
  /** Every IMSI of the type starts with these digits (MCC MNC). */
  readonly imsiPrefix: string;
  readonly tuak?: TuakLengths;
  readonly codes: Readonly<Record<CodeName, CodeRule>>;
}

/** The rules without secrets (OP/TOP, fixed code values): what listings show. */
export interface PublicProfileTypeRules {
  readonly algorithm: StockAlgorithm;
  readonly keyLength: number;
  readonly amf: string;
  readonly sqnStart: string;
  readonly iccidPrefix: string;
  readonly imsiPrefix: string;
  readonly tuak?: TuakLengths;
  readonly codes: Readonly<Record<CodeName, 'random' | 'template' | 'fixed'>>;
}

export function publicRules(rules: ProfileTypeRules): PublicProfileTypeRules {
  return {
    algorithm: rules.algorithm,
    keyLength: rules.keyLength,
    amf: rules.amf,
    sqnStart: rules.sqnStart,
    iccidPrefix: rules.iccidPrefix,
    imsiPrefix: rules.imsiPrefix,
    ...(rules.tuak === undefined ? {} : { tuak: rules.tuak }),
    codes: Object.fromEntries(CODE_NAMES.map((n) => [n, rules.codes[n].mode])) as Record<CodeName, 'random' | 'template' | 'fixed'>,
  };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Profile type and operator names: letters, digits, '.', '_', '-', at most 64 characters. */
export function checkStockName(name: string, what: string): string {
  if (!NAME.test(name)) throw new McimError('INVALID_ARGUMENT', `'${name}' is not a valid ${what} (letters, digits, '.', '_', '-', at most 64)`);
  return name;
}

function bad(detail: string): never {
  throw new McimError('INVALID_ARGUMENT', detail);
}

function hexOf(value: unknown, bytes: number, what: string): string {
  if (typeof value !== 'string' || !new RegExp(`^[0-9A-Fa-f]{${bytes * 2}}$`).test(value)) bad(`${what} must be ${bytes * 2} hex digits`);
  return value.toLowerCase();
}

function digitsOf(value: unknown, min: number, max: number, what: string): string {
  if (typeof value !== 'string' || !new RegExp(`^[0-9]{${min},${max}}$`).test(value)) bad(`${what} must be ${min} to ${max} digits`);
  return value;
}

/** Length of each code kind's fixed value (digits): PIN 4..8, ADM 8, PUK 8 (ETSI TS 102 221 9.5). */
const FIXED_LENGTH: Readonly<Record<CodeName, readonly [number, number]>> = {
  pin1: [4, 8],
  pin2: [4, 8],
  adm1: [8, 8],
  puk1: [8, 8],
  puk2: [8, 8],
};

function codeRule(name: CodeName, value: unknown): CodeRule {
  if (value === undefined || value === 'random') return { mode: 'random' };
  if (value === 'template') return { mode: 'template' };
  const [min, max] = FIXED_LENGTH[name];
  if (typeof value === 'object' && value !== null && (value as { mode?: unknown }).mode === 'fixed') {
    return { mode: 'fixed', value: digitsOf((value as { value?: unknown }).value, min, max, `the fixed ${name}`) };
  }
  if (typeof value === 'object' && value !== null && ['random', 'template'].includes(String((value as { mode?: unknown }).mode))) {
    return { mode: (value as { mode: 'random' | 'template' }).mode };
  }
  return { mode: 'fixed', value: digitsOf(value, min, max, `the fixed ${name}`) };
}

const TUAK_ALLOWED = { macLength: [8, 16, 32], resLength: [4, 8, 16, 32], ckLength: [16, 32], ikLength: [16, 32] } as const;

function tuakLengths(value: unknown): TuakLengths {
  const v = (value ?? {}) as Record<string, unknown>;
  const pick = (name: keyof typeof TUAK_ALLOWED, fallback: number): number => {
    const n = v[name] ?? fallback;
    if (typeof n !== 'number' || !(TUAK_ALLOWED[name] as readonly number[]).includes(n)) bad(`TUAK ${name} must be one of ${TUAK_ALLOWED[name].join(', ')} bytes`);
    return n;
  };
  const iterations = v['keccakIterations'] ?? 1;
  if (typeof iterations !== 'number' || !Number.isInteger(iterations) || iterations < 1 || iterations > 255) bad('TUAK keccakIterations must be 1 to 255');
  return {
    macLength: pick('macLength', 8) as TuakLengths['macLength'],
    resLength: pick('resLength', 8) as TuakLengths['resLength'],
    ckLength: pick('ckLength', 16) as TuakLengths['ckLength'],
    ikLength: pick('ikLength', 16) as TuakLengths['ikLength'],
    keccakIterations: iterations,
  };
}

/**
 * Checks and completes profile type rules (from the CLI's flags or JSON): Milenage takes a 16-byte K and OP; TUAK a 16-
 * or 32-byte K and a 32-byte TOP. Defaults: AMF 8000, SQN 0, every code random.
 */
export function checkProfileTypeRules(input: Record<string, unknown>): ProfileTypeRules {
  const algorithm = input['algorithm'] ?? 'milenage';
  if (algorithm !== 'milenage' && algorithm !== 'tuak') bad(`the algorithm must be milenage or tuak, not '${String(algorithm)}'`);
  const keyLength = input['keyLength'] ?? 16;
  if (keyLength !== 16 && keyLength !== 32) bad('the K length must be 16 or 32 bytes');
  if (algorithm === 'milenage' && keyLength !== 16) bad('Milenage takes a 16-byte K');
  const op = hexOf(input['op'], algorithm === 'milenage' ? 16 : 32, algorithm === 'milenage' ? 'the OP' : 'the TOP');
  const codesIn = (input['codes'] ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(codesIn)) if (!(CODE_NAMES as readonly string[]).includes(k)) bad(`'${k}' is not a code (${CODE_NAMES.join(', ')})`);
  const codes = Object.fromEntries(CODE_NAMES.map((n) => [n, codeRule(n, codesIn[n])])) as Record<CodeName, CodeRule>;
  return {
    algorithm,
    keyLength,
    op,
    amf: hexOf(input['amf'] ?? '8000', 2, 'the AMF'),
    sqnStart: hexOf(input['sqnStart'] ?? '000000000000', 6, 'the SQN start'),
    iccidPrefix: digitsOf(input['iccidPrefix'] ?? '89', 2, 19, 'the ICCID prefix'),
    imsiPrefix: digitsOf(input['imsiPrefix'] ?? '', 0, 15, 'the IMSI prefix'),
    ...(algorithm === 'tuak' ? { tuak: tuakLengths(input['tuak']) } : {}),
    codes,
  };
}
