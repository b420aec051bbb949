// TS 33.501 Annex A.2-A.7, RFC 5448 3.3-3.4 and TS 33.401 A.2: AKA key derivations over the TS 33.220 KDF.
import { createHash, createHmac } from 'node:crypto';
import { CryptoError, requireLength } from './errors.js';
import { genericKdf } from './kdf33220.js';

const FC_KASME = 0x10;
const FC_CK_IK_PRIME = 0x20;
const FC_KAUSF = 0x6a;
const FC_RES_STAR = 0x6b;
const FC_KSEAF = 0x6c;
const FC_KAMF = 0x6d;

function checkPlmn(mcc: string, mnc: string): void {
  if (!/^\d{3}$/.test(mcc)) throw new CryptoError('INVALID_ARGUMENT', `MCC must be 3 digits, got "${mcc}"`);
  if (!/^\d{2,3}$/.test(mnc)) throw new CryptoError('INVALID_ARGUMENT', `MNC must be 2 or 3 digits, got "${mnc}"`);
}

function ckIk(ck: Uint8Array, ik: Uint8Array): Buffer {
  requireLength('CK', ck, 16, 32);
  requireLength('IK', ik, 16, 32);
  return Buffer.concat([ck, ik]);
}

function text(name: string, value: string): Buffer {
  if (value.length === 0) throw new CryptoError('INVALID_ARGUMENT', `${name} must not be empty`);
  return Buffer.from(value, 'utf8');
}

/** Serving network name "5G:mnc<MNC, 3 digits>.mcc<MCC>.3gppnetwork.org" (TS 33.501 6.1.1.4, TS 24.501 9.12.1). */
export function servingNetworkName(mcc: string, mnc: string): string {
  checkPlmn(mcc, mnc);
  return `5G:mnc${mnc.padStart(3, '0')}.mcc${mcc}.3gppnetwork.org`;
}

/** PLMN identity, 3 bytes: MCC2 MCC1 | MNC3 MCC3 | MNC2 MNC1, MNC3 = F for a 2-digit MNC (TS 24.301 9.9.3.32). */
export function encodePlmnId(mcc: string, mnc: string): Buffer {
  checkPlmn(mcc, mnc);
  const d = (s: string, i: number): number => s.charCodeAt(i) - 0x30;
  const mnc3 = mnc.length === 3 ? d(mnc, 2) : 0xf;
  return Buffer.of((d(mcc, 1) << 4) | d(mcc, 0), (mnc3 << 4) | d(mcc, 2), (d(mnc, 1) << 4) | d(mnc, 0));
}

/** KAUSF = KDF(CK || IK, 0x6A, serving network name, SQN xor AK) (TS 33.501 A.2). */
export function deriveKausf(ck: Uint8Array, ik: Uint8Array, snn: string, sqnXorAk: Uint8Array): Buffer {
  requireLength('SQN xor AK', sqnXorAk, 6);
  return genericKdf(ckIk(ck, ik), FC_KAUSF, [text('serving network name', snn), sqnXorAk]);
}

/** RES* (UE) or XRES* (network): the 128 least significant bits of KDF(CK || IK, 0x6B, SNN, RAND, RES) (A.4). */
export function deriveResStar(ck: Uint8Array, ik: Uint8Array, snn: string, rand: Uint8Array, res: Uint8Array): Buffer {
  requireLength('RAND', rand, 16);
  requireLength('RES', res, 4, 8, 16, 32);
  return genericKdf(ckIk(ck, ik), FC_RES_STAR, [text('serving network name', snn), rand, res]).subarray(16);
}

/** HXRES* = the 128 least significant bits of SHA-256(RAND || XRES*) (TS 33.501 A.5). */
export function deriveHxresStar(rand: Uint8Array, xresStar: Uint8Array): Buffer {
  requireLength('RAND', rand, 16);
  requireLength('XRES*', xresStar, 16);
  return createHash('sha256').update(rand).update(xresStar).digest().subarray(16);
}

/** KSEAF = KDF(KAUSF, 0x6C, serving network name) (TS 33.501 A.6). */
export function deriveKseaf(kausf: Uint8Array, snn: string): Buffer {
  requireLength('KAUSF', kausf, 32);
  return genericKdf(kausf, FC_KSEAF, [text('serving network name', snn)]);
}

/**
 * KAMF = KDF(KSEAF, 0x6D, SUPI, ABBA) (TS 33.501 A.7). P0 is the IMSI as a digit string for
 * "imsi-<digits>" (or bare digits), the NAI for "nai-<nai>".
 */
export function deriveKamf(kseaf: Uint8Array, supi: string, abba: Uint8Array): Buffer {
  requireLength('KSEAF', kseaf, 32);
  if (abba.length < 2) throw new CryptoError('INVALID_ARGUMENT', `ABBA must be at least 2 bytes, got ${abba.length}`);
  const m = /^(?:imsi-)?(\d{5,15})$/.exec(supi) ?? /^nai-(.+)$/.exec(supi);
  if (m === null) {
    throw new CryptoError('INVALID_ARGUMENT', `SUPI must be imsi-<5..15 digits> or nai-<NAI>, got "${supi}"`);
  }
  return genericKdf(kseaf, FC_KAMF, [Buffer.from(m[1]!, 'utf8'), abba]);
}

/** CK' || IK' = KDF(CK || IK, 0x20, access network name, SQN xor AK) (RFC 5448 3.3, TS 33.402 A.2). */
export function deriveCkIkPrime(
  ck: Uint8Array,
  ik: Uint8Array,
  accessNetworkName: string,
  sqnXorAk: Uint8Array,
): { ckPrime: Buffer; ikPrime: Buffer } {
  requireLength('SQN xor AK', sqnXorAk, 6);
  const out = genericKdf(ckIk(ck, ik), FC_CK_IK_PRIME, [text('access network name', accessNetworkName), sqnXorAk]);
  return { ckPrime: out.subarray(0, 16), ikPrime: out.subarray(16) };
}

/** KASME = KDF(CK || IK, 0x10, PLMN identity, SQN xor AK) (TS 33.401 A.2). */
export function deriveKasme(ck: Uint8Array, ik: Uint8Array, plmnId: Uint8Array, sqnXorAk: Uint8Array): Buffer {
  requireLength('PLMN identity', plmnId, 3);
  requireLength('SQN xor AK', sqnXorAk, 6);
  return genericKdf(ckIk(ck, ik), FC_KASME, [plmnId, sqnXorAk]);
}

export interface EapAkaPrimeKeys {
  kEncr: Buffer;
  kAut: Buffer;
  kRe: Buffer;
  msk: Buffer;
  emsk: Buffer;
}

/**
 * EAP-AKA' key schedule (RFC 5448 3.3): MK = PRF'(IK' || CK', "EAP-AKA'" || Identity) with
 * PRF'(K, S) = T1 || T2 || ..., T1 = HMAC-SHA-256(K, S || 0x01), Tn = HMAC-SHA-256(K, Tn-1 || S || n).
 */
export function deriveEapAkaPrimeKeys(ckPrime: Uint8Array, ikPrime: Uint8Array, identity: string): EapAkaPrimeKeys {
  requireLength("CK'", ckPrime, 16);
  requireLength("IK'", ikPrime, 16);
  const key = Buffer.concat([ikPrime, ckPrime]);
  const s = Buffer.concat([Buffer.from("EAP-AKA'", 'latin1'), Buffer.from(identity, 'utf8')]);
  const blocks: Buffer[] = [];
  let t = Buffer.alloc(0);
  for (let n = 1; n <= 7; n++) {
    t = createHmac('sha256', key).update(t).update(s).update(Buffer.of(n)).digest();
    blocks.push(t);
  }
  const mk = Buffer.concat(blocks);
  return {
    kEncr: mk.subarray(0, 16),
    kAut: mk.subarray(16, 48),
    kRe: mk.subarray(48, 80),
    msk: mk.subarray(80, 144),
    emsk: mk.subarray(144, 208),
  };
}
