// TS 33.102 6.3.2-6.3.5: authentication vectors, AUTN and the re-synchronisation token AUTS.
import { timingSafeEqual } from 'node:crypto';
import { CryptoError, requireLength } from './errors.js';

export interface F2345Result {
  /** RES (network side: XRES) */
  res: Buffer;
  ck: Buffer;
  ik: Buffer;
  /** anonymity key AK, 6 bytes */
  ak: Buffer;
}

/**
 * The f-functions of one subscriber (K and operator variant already bound), as implemented by
 * Milenage (TS 35.206) and Tuak (TS 35.231).
 */
export interface AkaAlgorithm {
  /** length of MAC-A and MAC-S in bytes (8 for Milenage; 8, 16 or 32 for Tuak) */
  readonly macLength: number;
  /** MAC-A = f1(K, RAND, SQN, AMF) */
  f1(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer;
  /** MAC-S = f1*(K, RAND, SQN, AMF) */
  f1star(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer;
  /** RES, CK, IK, AK = f2..f5(K, RAND) */
  f2345(rand: Uint8Array): F2345Result;
  /** AK* = f5*(K, RAND) */
  f5star(rand: Uint8Array): Buffer;
}

export interface AuthenticationVector {
  rand: Buffer;
  sqn: Buffer;
  amf: Buffer;
  macA: Buffer;
  xres: Buffer;
  ck: Buffer;
  ik: Buffer;
  ak: Buffer;
  /** AUTN = (SQN xor AK) || AMF || MAC-A */
  autn: Buffer;
}

/** AMF value used in MAC-S for re-synchronisation (TS 33.102 6.3.3). */
export const RESYNC_AMF: Buffer = Buffer.alloc(2);

function xor6(a: Uint8Array, b: Uint8Array, out: Buffer, offset: number): void {
  for (let i = 0; i < 6; i++) out[offset + i] = a[i]! ^ b[i]!;
}

/** AUTN = (SQN xor AK) || AMF || MAC-A. */
export function buildAutn(sqn: Uint8Array, ak: Uint8Array, amf: Uint8Array, macA: Uint8Array): Buffer {
  requireLength('SQN', sqn, 6);
  requireLength('AK', ak, 6);
  requireLength('AMF', amf, 2);
  requireLength('MAC-A', macA, 8, 16, 32);
  const autn = Buffer.allocUnsafe(8 + macA.length);
  xor6(sqn, ak, autn, 0);
  autn.set(amf, 6);
  autn.set(macA, 8);
  return autn;
}

/** Splits AUTN into SQN xor AK, AMF and MAC-A. */
export function parseAutn(autn: Uint8Array, macLength: number): { sqnXorAk: Buffer; amf: Buffer; macA: Buffer } {
  requireLength('AUTN', autn, 8 + macLength);
  const b = Buffer.from(autn.buffer, autn.byteOffset, autn.length);
  return { sqnXorAk: b.subarray(0, 6), amf: b.subarray(6, 8), macA: b.subarray(8) };
}

/** Network side (HE/AuC): one authentication vector for RAND, SQN and AMF (TS 33.102 6.3.2). */
export function generateAuthenticationVector(
  alg: AkaAlgorithm,
  rand: Uint8Array,
  sqn: Uint8Array,
  amf: Uint8Array,
): AuthenticationVector {
  requireLength('RAND', rand, 16);
  requireLength('SQN', sqn, 6);
  requireLength('AMF', amf, 2);
  const macA = alg.f1(rand, sqn, amf);
  const { res, ck, ik, ak } = alg.f2345(rand);
  return {
    rand: Buffer.from(rand),
    sqn: Buffer.from(sqn),
    amf: Buffer.from(amf),
    macA,
    xres: res,
    ck,
    ik,
    ak,
    autn: buildAutn(sqn, ak, amf, macA),
  };
}

/** USIM side: AUTS = (SQN_MS xor AK*) || MAC-S with MAC-S = f1*(K, RAND, SQN_MS, AMF = 0000) (TS 33.102 6.3.3). */
export function generateAuts(alg: AkaAlgorithm, rand: Uint8Array, sqnMs: Uint8Array): Buffer {
  requireLength('RAND', rand, 16);
  requireLength('SQN_MS', sqnMs, 6);
  const macS = alg.f1star(rand, sqnMs, RESYNC_AMF);
  const auts = Buffer.allocUnsafe(6 + macS.length);
  xor6(sqnMs, alg.f5star(rand), auts, 0);
  auts.set(macS, 6);
  return auts;
}

/**
 * Network side (HE/AuC): recovers SQN_MS from AUTS and checks MAC-S (TS 33.102 6.3.5).
 * Throws CryptoError MAC_FAILURE when MAC-S does not verify.
 */
export function verifyAuts(alg: AkaAlgorithm, rand: Uint8Array, auts: Uint8Array): Buffer {
  requireLength('RAND', rand, 16);
  requireLength('AUTS', auts, 6 + alg.macLength);
  const sqnMs = Buffer.allocUnsafe(6);
  xor6(auts, alg.f5star(rand), sqnMs, 0);
  const expected = alg.f1star(rand, sqnMs, RESYNC_AMF);
  if (!timingSafeEqual(expected, auts.subarray(6))) {
    throw new CryptoError('MAC_FAILURE', 'AUTS: MAC-S does not verify');
  }
  return sqnMs;
}
