// TS 35.206 4.1: the MILENAGE functions f1, f1*, f2, f3, f4, f5, f5* and OPc, with a batch path for the AuC.
import { createCipheriv, type Cipher } from 'node:crypto';
import { CryptoError, requireLength } from './errors.js';
import type { AkaAlgorithm, AuthenticationVector, F2345Result } from './authenticationVector.js';

/** Byte offsets of one record in the packed output of {@link Milenage.computePacked}. */
export const MILENAGE_RECORD = {
  macA: 0,
  macS: 8,
  res: 16,
  ck: 24,
  ik: 40,
  ak: 56,
  akStar: 62,
  autn: 68,
  size: 84,
} as const;

export interface MilenageBatchInput {
  rand: Uint8Array;
  sqn: Uint8Array;
  amf: Uint8Array;
}

/** Vectors per cipher call: bounds the scratch memory (80 bytes per vector in stage 2). */
const CHUNK = 4096;
const R = MILENAGE_RECORD;
/** f2..f5* do not depend on SQN and AMF; these fill the OUT1 input of a single-vector call. */
const ZERO_SQN = new Uint8Array(6);
const ZERO_AMF = new Uint8Array(2);

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b);
}

/** A Uint32Array over the same bytes, or over an aligned copy when `b` is not 4-byte aligned. */
function wordsOf(b: Uint8Array): Uint32Array {
  if (b.byteOffset % 4 === 0) return new Uint32Array(b.buffer, b.byteOffset, b.length >> 2);
  return new Uint32Array(Uint8Array.from(b).buffer);
}

function ecbCipher(k: Uint8Array): Cipher {
  const cipher = createCipheriv('aes-128-ecb', k, null);
  cipher.setAutoPadding(false);
  return cipher;
}

/** OPc = OP xor E_K(OP). */
export function computeOpc(k: Uint8Array, op: Uint8Array): Buffer {
  requireLength('K', k, 16);
  requireLength('OP', op, 16);
  const opc = ecbCipher(k).update(op);
  for (let i = 0; i < 16; i++) opc[i]! ^= op[i]!;
  return opc;
}

/**
 * MILENAGE bound to one subscriber (K, OPc). One AES-128-ECB cipher object serves every call: each
 * batch feeds all its blocks of a stage to a single update().
 */
export class Milenage implements AkaAlgorithm {
  readonly macLength = 8;
  readonly #cipher: Cipher;
  readonly #opc: Buffer;
  readonly #opcWords: Uint32Array;

  constructor(k: Uint8Array, opc: Uint8Array) {
    requireLength('K', k, 16);
    requireLength('OPc', opc, 16);
    this.#cipher = ecbCipher(k);
    this.#opc = Buffer.from(opc);
    this.#opcWords = wordsOf(this.#opc);
  }

  static fromOp(k: Uint8Array, op: Uint8Array): Milenage {
    return new Milenage(k, computeOpc(k, op));
  }

  /**
   * Computes `count` records (layout {@link MILENAGE_RECORD}) from packed inputs: `rands` holds
   * count*16 bytes, `sqns` count*6, `amfs` either count*2 or 2 (one AMF for all).
   */
  computePacked(rands: Uint8Array, sqns: Uint8Array, amfs: Uint8Array, count: number): Buffer {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new CryptoError('INVALID_ARGUMENT', `Milenage batch: invalid count ${count}`);
    }
    requireLength('RAND batch', rands, count * 16);
    requireLength('SQN batch', sqns, count * 6);
    requireLength('AMF batch', amfs, count * 2, 2);
    const amfStride = amfs.length === 2 ? 0 : 2;
    // Word (Uint32) views: every step is an XOR or a copy between equal byte positions and every
    // rotation is a whole number of words, so the byte order of the platform does not matter.
    const out = Buffer.allocUnsafeSlow(count * R.size);
    const ow = new Uint32Array(out.buffer, 0, out.length >> 2);
    const chunk = Math.min(count, CHUNK);
    const stage1 = new Uint8Array(chunk * 16);
    const s1w = new Uint32Array(stage1.buffer);
    const stage2 = new Uint8Array(chunk * 80);
    const s2w = new Uint32Array(stage2.buffer);
    const in1 = new Uint8Array(8); // SQN || AMF: IN1 = in1 || in1
    const in1w = new Uint32Array(in1.buffer);
    const opc = this.#opc;
    const opw = this.#opcWords;
    const op0 = opw[0]!;
    const op1 = opw[1]!;
    const op2 = opw[2]!;
    const op3 = opw[3]!;
    for (let base = 0; base < count; base += CHUNK) {
      const n = Math.min(CHUNK, count - base);
      // Stage 1: TEMP_i = E_K(RAND_i xor OPc) for the whole chunk.
      stage1.set(rands.subarray(base * 16, (base + n) * 16));
      for (let w = 0; w < n * 4; w += 4) {
        s1w[w]! ^= op0;
        s1w[w + 1]! ^= op1;
        s1w[w + 2]! ^= op2;
        s1w[w + 3]! ^= op3;
      }
      const temp = this.#cipher.update(stage1.subarray(0, n * 16));
      const tw = wordsOf(temp);
      // Stage 2: the five cipher inputs of OUT1..OUT5 per vector.
      for (let i = 0; i < n; i++) {
        const t = i * 4;
        const s = i * 20;
        const sq = (base + i) * 6;
        const am = (base + i) * amfStride;
        for (let j = 0; j < 6; j++) in1[j] = sqns[sq + j]!;
        in1[6] = amfs[am]!;
        in1[7] = amfs[am + 1]!;
        const i0 = in1w[0]!;
        const i1 = in1w[1]!;
        const t0 = tw[t]!;
        const t1 = tw[t + 1]!;
        const t2 = tw[t + 2]!;
        const t3 = tw[t + 3]!;
        const o0 = t0 ^ op0; // TEMP xor OPc
        const o1 = t1 ^ op1;
        const o2 = t2 ^ op2;
        const o3 = t3 ^ op3;
        // OUT1: TEMP xor rot(IN1 xor OPc, 64), c1 = 0
        s2w[s] = t0 ^ i0 ^ op2;
        s2w[s + 1] = t1 ^ i1 ^ op3;
        s2w[s + 2] = t2 ^ i0 ^ op0;
        s2w[s + 3] = t3 ^ i1 ^ op1;
        // OUT2..OUT5: rot(TEMP xor OPc, r) with r = 0, 32, 64, 96 bits
        s2w[s + 4] = o0;
        s2w[s + 5] = o1;
        s2w[s + 6] = o2;
        s2w[s + 7] = o3;
        s2w[s + 8] = o1;
        s2w[s + 9] = o2;
        s2w[s + 10] = o3;
        s2w[s + 11] = o0;
        s2w[s + 12] = o2;
        s2w[s + 13] = o3;
        s2w[s + 14] = o0;
        s2w[s + 15] = o1;
        s2w[s + 16] = o3;
        s2w[s + 17] = o0;
        s2w[s + 18] = o1;
        s2w[s + 19] = o2;
        const b = i * 80;
        stage2[b + 31]! ^= 1; // c2
        stage2[b + 47]! ^= 2; // c3
        stage2[b + 63]! ^= 4; // c4
        stage2[b + 79]! ^= 8; // c5
      }
      const enc = this.#cipher.update(stage2.subarray(0, n * 80));
      const ew = wordsOf(enc);
      for (let i = 0; i < n; i++) {
        const e = i * 20;
        const r = (base + i) * (R.size >> 2);
        ow[r] = ew[e]! ^ op0; // OUT1 = MAC-A || MAC-S
        ow[r + 1] = ew[e + 1]! ^ op1;
        ow[r + 2] = ew[e + 2]! ^ op2;
        ow[r + 3] = ew[e + 3]! ^ op3;
        ow[r + 4] = ew[e + 6]! ^ op2; // RES = f2 = OUT2[64..127]
        ow[r + 5] = ew[e + 7]! ^ op3;
        ow[r + 6] = ew[e + 8]! ^ op0; // CK = OUT3
        ow[r + 7] = ew[e + 9]! ^ op1;
        ow[r + 8] = ew[e + 10]! ^ op2;
        ow[r + 9] = ew[e + 11]! ^ op3;
        ow[r + 10] = ew[e + 12]! ^ op0; // IK = OUT4
        ow[r + 11] = ew[e + 13]! ^ op1;
        ow[r + 12] = ew[e + 14]! ^ op2;
        ow[r + 13] = ew[e + 15]! ^ op3;
        ow[r + 19] = ow[r]!; // AUTN[8..15] = MAC-A
        ow[r + 20] = ow[r + 1]!;
        const eb = i * 80;
        const rb = r * 4;
        const sq = (base + i) * 6;
        const am = (base + i) * amfStride;
        for (let j = 0; j < 6; j++) {
          const ak = enc[eb + 16 + j]! ^ opc[j]!; // f5 = OUT2[0..47]
          out[rb + R.ak + j] = ak;
          out[rb + R.akStar + j] = enc[eb + 64 + j]! ^ opc[j]!; // f5* = OUT5[0..47]
          out[rb + R.autn + j] = sqns[sq + j]! ^ ak;
        }
        out[rb + R.autn + 6] = amfs[am]!;
        out[rb + R.autn + 7] = amfs[am + 1]!;
      }
      temp.fill(0);
      tw.fill(0);
      enc.fill(0);
      ew.fill(0);
    }
    stage1.fill(0);
    stage2.fill(0);
    return out;
  }

  /**
   * Many vectors for this subscriber. RAND, SQN and AMF of each vector are the caller's input
   * buffers (copied only when they are not Buffers); the outputs are views into one packed buffer.
   */
  generateVectors(inputs: readonly MilenageBatchInput[]): AuthenticationVector[] {
    const count = inputs.length;
    const rands = Buffer.allocUnsafe(count * 16);
    const sqns = Buffer.allocUnsafe(count * 6);
    const amfs = Buffer.allocUnsafe(count * 2);
    for (let i = 0; i < count; i++) {
      const { rand, sqn, amf } = inputs[i]!;
      if (rand?.length !== 16 || sqn?.length !== 6 || amf?.length !== 2) {
        requireLength(`RAND[${i}]`, rand, 16);
        requireLength(`SQN[${i}]`, sqn, 6);
        requireLength(`AMF[${i}]`, amf, 2);
      }
      rands.set(rand, i * 16);
      sqns.set(sqn, i * 6);
      amfs.set(amf, i * 2);
    }
    const out = this.computePacked(rands, sqns, amfs, count);
    const vectors = new Array<AuthenticationVector>(count);
    for (let i = 0; i < count; i++) {
      const { rand, sqn, amf } = inputs[i]!;
      const r = i * R.size;
      vectors[i] = {
        rand: asBuffer(rand),
        sqn: asBuffer(sqn),
        amf: asBuffer(amf),
        macA: out.subarray(r + R.macA, r + R.macA + 8),
        xres: out.subarray(r + R.res, r + R.res + 8),
        ck: out.subarray(r + R.ck, r + R.ck + 16),
        ik: out.subarray(r + R.ik, r + R.ik + 16),
        ak: out.subarray(r + R.ak, r + R.ak + 6),
        autn: out.subarray(r + R.autn, r + R.autn + 16),
      };
    }
    return vectors;
  }

  #one(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer {
    requireLength('RAND', rand, 16);
    requireLength('SQN', sqn, 6);
    requireLength('AMF', amf, 2);
    return this.computePacked(rand, sqn, amf, 1);
  }

  f1(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer {
    return this.#one(rand, sqn, amf).subarray(R.macA, R.macA + 8);
  }

  f1star(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer {
    return this.#one(rand, sqn, amf).subarray(R.macS, R.macS + 8);
  }

  f2345(rand: Uint8Array): F2345Result {
    const r = this.#one(rand, ZERO_SQN, ZERO_AMF);
    return {
      res: r.subarray(R.res, R.res + 8),
      ck: r.subarray(R.ck, R.ck + 16),
      ik: r.subarray(R.ik, R.ik + 16),
      ak: r.subarray(R.ak, R.ak + 6),
    };
  }

  f5star(rand: Uint8Array): Buffer {
    return this.#one(rand, ZERO_SQN, ZERO_AMF).subarray(R.akStar, R.akStar + 6);
  }
}

/** MAC-A = f1(K, RAND, SQN, AMF). */
export function f1(k: Uint8Array, opc: Uint8Array, rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer {
  return new Milenage(k, opc).f1(rand, sqn, amf);
}

/** MAC-S = f1*(K, RAND, SQN, AMF). */
export function f1star(k: Uint8Array, opc: Uint8Array, rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer {
  return new Milenage(k, opc).f1star(rand, sqn, amf);
}

/** RES = f2, CK = f3, IK = f4, AK = f5 of (K, RAND). */
export function f2345(k: Uint8Array, opc: Uint8Array, rand: Uint8Array): F2345Result {
  return new Milenage(k, opc).f2345(rand);
}

/** AK* = f5*(K, RAND). */
export function f5star(k: Uint8Array, opc: Uint8Array, rand: Uint8Array): Buffer {
  return new Milenage(k, opc).f5star(rand);
}

/** Batch API for the AuC: many full vectors for one key with two cipher calls per 4096 vectors. */
export function milenageBatch(
  k: Uint8Array,
  opc: Uint8Array,
  inputs: readonly MilenageBatchInput[],
): AuthenticationVector[] {
  return new Milenage(k, opc).generateVectors(inputs);
}
