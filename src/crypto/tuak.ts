// TS 35.231 6: the Tuak functions f1, f1*, f2, f3, f4, f5, f5* and TOPc over Keccak-f[1600] (Annex C).
import { keccakP } from '@noble/hashes/sha3.js';
import { swap32IfBE } from '@noble/hashes/utils.js';
import { CryptoError, requireLength } from './errors.js';
import type { AkaAlgorithm, F2345Result } from './authenticationVector.js';

/** Operator-chosen output lengths (bits) and the number of Keccak iterations (TS 35.231 5.1). */
export interface TuakParams {
  macBits: 64 | 128 | 256;
  resBits: 32 | 64 | 128 | 256;
  ckBits: 128 | 256;
  ikBits: 128 | 256;
  keccakIterations: number;
}

/*
 * The 1600-bit INOUT string is 200 bytes in the FIPS 202 byte order (byte i = bits 8i..8i+7, least
 * significant first). Every value enters and leaves it with its byte order reversed: bit 0 (the
 * least significant bit) of TOP goes to INOUT[0], and so on. Byte offsets of the fields:
 */
const TOP_AT = 0; // TOP / TOPc, 32 bytes; outputs MAC / RES start here too
const INSTANCE_AT = 32;
const ALGONAME_AT = 33; // "TUAK1.0", 7 bytes
const RAND_AT = 40;
const AMF_AT = 56;
const SQN_AT = 58;
const KEY_AT = 64; // K, 16 or 32 bytes
const CK_AT = 32;
const IK_AT = 64;
const AK_AT = 96;
const ALGONAME = Buffer.from('TUAK1.0', 'latin1');

/* INSTANCE bit i of the spec is bit (7 - i) of the byte. */
const INSTANCE_K256 = 0x01;
const INSTANCE_F1STAR = 0x80;
const INSTANCE_F2345 = 0x40;
const INSTANCE_F5STAR = 0xc0;
const INSTANCE_CK256 = 0x04;
const INSTANCE_IK256 = 0x02;
/** MAC (f1, f1*) and RES (f2345) length codes in INSTANCE[2..4] */
const LENGTH_CODE: Readonly<Record<number, number>> = { 32: 0x00, 64: 0x08, 128: 0x10, 256: 0x20 };

/* One scratch state for every call: the functions never re-enter, and it is wiped after each use. */
const state = new Uint8Array(200);
const lanes = new Uint32Array(state.buffer, state.byteOffset, 50);

/** One application of Keccak-f[1600] (Keccak-p[1600, 24]) to a 200-byte state in FIPS 202 byte order. */
export function keccakF1600(input: Uint8Array): Buffer {
  requireLength('Keccak state', input, 200);
  const s = new Uint8Array(200);
  s.set(input);
  const w = new Uint32Array(s.buffer, 0, 50);
  swap32IfBE(w);
  keccakP(w, 24);
  swap32IfBE(w);
  return Buffer.from(s.buffer, 0, 200);
}

function push(value: Uint8Array, at: number): void {
  for (let i = 0, j = at + value.length - 1; i < value.length; i++, j--) state[j] = value[i]!;
}

function pull(at: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0, j = at + length - 1; i < length; i++, j--) out[i] = state[j]!;
  return out;
}

/** Loads INOUT (the caller pushed RAND/AMF/SQN), applies the Keccak iterations; result in `state`. */
function run(instance: number, topc: Uint8Array, k: Uint8Array, iterations: number): void {
  push(topc, TOP_AT);
  state[INSTANCE_AT] = instance | (k.length === 32 ? INSTANCE_K256 : 0);
  push(ALGONAME, ALGONAME_AT);
  push(k, KEY_AT);
  state[96] = 0x1f; // padding bits INOUT[768..772] = 1 and INOUT[1087] = 1
  state[135] = 0x80;
  swap32IfBE(lanes);
  for (let i = 0; i < iterations; i++) keccakP(lanes, 24);
  swap32IfBE(lanes);
}

function validateKey(k: Uint8Array, topc: Uint8Array, iterations: number): void {
  requireLength('K', k, 16, 32);
  requireLength('TOPc', topc, 32);
  if (!Number.isSafeInteger(iterations) || iterations < 1) {
    throw new CryptoError('INVALID_ARGUMENT', `Tuak: Keccak iterations must be a positive integer, got ${iterations}`);
  }
}

const LENGTHS = {
  macBits: ['MAC length', [64, 128, 256]],
  resBits: ['RES length', [32, 64, 128, 256]],
  ckBits: ['CK length', [128, 256]],
  ikBits: ['IK length', [128, 256]],
} as const satisfies Record<string, readonly [string, readonly number[]]>;

function validateLengths(p: Partial<TuakParams>, ...names: (keyof typeof LENGTHS)[]): void {
  for (const name of names) {
    const [label, allowed] = LENGTHS[name];
    const value = p[name];
    if (value === undefined || !(allowed as readonly number[]).includes(value)) {
      throw new CryptoError('INVALID_ARGUMENT', `Tuak: ${label} must be ${allowed.join(', ')} bits, got ${value}`);
    }
  }
}

/** TOPc = the first 256 bits of Keccak^N(TOP || INSTANCE || ALGONAME || 0 || K || padding) (TS 35.231 6.1). */
export function computeTopc(k: Uint8Array, top: Uint8Array, keccakIterations: number): Buffer {
  requireLength('TOP', top, 32);
  validateKey(k, top, keccakIterations);
  try {
    run(0x00, top, k, keccakIterations);
    return pull(TOP_AT, 32);
  } finally {
    state.fill(0);
  }
}

function macFunction(
  star: boolean,
  k: Uint8Array,
  topc: Uint8Array,
  rand: Uint8Array,
  sqn: Uint8Array,
  amf: Uint8Array,
  macBits: TuakParams['macBits'],
  iterations: number,
): Buffer {
  requireLength('RAND', rand, 16);
  requireLength('SQN', sqn, 6);
  requireLength('AMF', amf, 2);
  try {
    push(rand, RAND_AT);
    push(amf, AMF_AT);
    push(sqn, SQN_AT);
    run((star ? INSTANCE_F1STAR : 0) | LENGTH_CODE[macBits]!, topc, k, iterations);
    return pull(TOP_AT, macBits / 8);
  } finally {
    state.fill(0);
  }
}

function f2345Function(k: Uint8Array, topc: Uint8Array, rand: Uint8Array, p: F2345Params): F2345Result {
  requireLength('RAND', rand, 16);
  const instance =
    INSTANCE_F2345 |
    LENGTH_CODE[p.resBits]! |
    (p.ckBits === 256 ? INSTANCE_CK256 : 0) |
    (p.ikBits === 256 ? INSTANCE_IK256 : 0);
  try {
    push(rand, RAND_AT);
    run(instance, topc, k, p.keccakIterations);
    return {
      res: pull(TOP_AT, p.resBits / 8),
      ck: pull(CK_AT, p.ckBits / 8),
      ik: pull(IK_AT, p.ikBits / 8),
      ak: pull(AK_AT, 6),
    };
  } finally {
    state.fill(0);
  }
}

function f5starFunction(k: Uint8Array, topc: Uint8Array, rand: Uint8Array, iterations: number): Buffer {
  requireLength('RAND', rand, 16);
  try {
    push(rand, RAND_AT);
    run(INSTANCE_F5STAR, topc, k, iterations);
    return pull(AK_AT, 6);
  } finally {
    state.fill(0);
  }
}

/**
 * Tuak bound to one subscriber: K (128 or 256 bits), TOPc and the operator's length parameters.
 * Each function is one Keccak^N evaluation.
 */
export class Tuak implements AkaAlgorithm {
  readonly macLength: number;
  readonly #k: Buffer;
  readonly #topc: Buffer;
  readonly #params: TuakParams;

  constructor(k: Uint8Array, topc: Uint8Array, params: TuakParams) {
    validateKey(k, topc, params.keccakIterations);
    validateLengths(params, 'macBits', 'resBits', 'ckBits', 'ikBits');
    this.#k = Buffer.from(k);
    this.#topc = Buffer.from(topc);
    this.#params = { ...params };
    this.macLength = params.macBits / 8;
  }

  static fromTop(k: Uint8Array, top: Uint8Array, params: TuakParams): Tuak {
    return new Tuak(k, computeTopc(k, top, params.keccakIterations), params);
  }

  /** MAC-A = f1(K, RAND, SQN, AMF) (TS 35.231 6.2). */
  f1(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer {
    const p = this.#params;
    return macFunction(false, this.#k, this.#topc, rand, sqn, amf, p.macBits, p.keccakIterations);
  }

  /** MAC-S = f1*(K, RAND, SQN, AMF) (TS 35.231 6.3). */
  f1star(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer {
    const p = this.#params;
    return macFunction(true, this.#k, this.#topc, rand, sqn, amf, p.macBits, p.keccakIterations);
  }

  /** RES, CK, IK, AK = f2, f3, f4, f5 (TS 35.231 6.4). */
  f2345(rand: Uint8Array): F2345Result {
    return f2345Function(this.#k, this.#topc, rand, this.#params);
  }

  /** AK* = f5*(K, RAND) (TS 35.231 6.5). */
  f5star(rand: Uint8Array): Buffer {
    return f5starFunction(this.#k, this.#topc, rand, this.#params.keccakIterations);
  }
}

type MacParams = Pick<TuakParams, 'macBits' | 'keccakIterations'>;
type F2345Params = Pick<TuakParams, 'resBits' | 'ckBits' | 'ikBits' | 'keccakIterations'>;

/** MAC-A = f1(K, RAND, SQN, AMF). */
export function f1(
  k: Uint8Array,
  topc: Uint8Array,
  rand: Uint8Array,
  sqn: Uint8Array,
  amf: Uint8Array,
  params: MacParams,
): Buffer {
  validateKey(k, topc, params.keccakIterations);
  validateLengths(params, 'macBits');
  return macFunction(false, k, topc, rand, sqn, amf, params.macBits, params.keccakIterations);
}

/** MAC-S = f1*(K, RAND, SQN, AMF). */
export function f1star(
  k: Uint8Array,
  topc: Uint8Array,
  rand: Uint8Array,
  sqn: Uint8Array,
  amf: Uint8Array,
  params: MacParams,
): Buffer {
  validateKey(k, topc, params.keccakIterations);
  validateLengths(params, 'macBits');
  return macFunction(true, k, topc, rand, sqn, amf, params.macBits, params.keccakIterations);
}

/** RES = f2, CK = f3, IK = f4, AK = f5 of (K, RAND). */
export function f2345(k: Uint8Array, topc: Uint8Array, rand: Uint8Array, params: F2345Params): F2345Result {
  validateKey(k, topc, params.keccakIterations);
  validateLengths(params, 'resBits', 'ckBits', 'ikBits');
  return f2345Function(k, topc, rand, params);
}

/** AK* = f5*(K, RAND). */
export function f5star(k: Uint8Array, topc: Uint8Array, rand: Uint8Array, keccakIterations: number): Buffer {
  validateKey(k, topc, keccakIterations);
  return f5starFunction(k, topc, rand, keccakIterations);
}
