// TS 33.501 Annex C.3/C.4 (ECIES profiles A and B) and TS 23.003 2.2B/28.7.3 (SUCI, MSIN BCD): SUCI concealment.
import {
  createECDH,
  createHmac,
  createCipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  randomBytes,
  timingSafeEqual,
  ECDH,
  type KeyObject,
} from 'node:crypto';
import { CryptoError, requireLength } from './errors.js';
import { x963Kdf } from './x963Kdf.js';

/** Protection scheme: null-scheme (0), ECIES profile A (1, X25519), profile B (2, secp256r1). */
export type SuciProfile = 'null' | 'A' | 'B';

const SCHEME_ID: Readonly<Record<SuciProfile, number>> = { null: 0, A: 1, B: 2 };
const PROFILE_OF_SCHEME: Readonly<Record<number, SuciProfile>> = { 0: 'null', 1: 'A', 2: 'B' };
const MAC_LENGTH = 8;
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');

/** The fields of a SUCI of SUPI type IMSI (TS 23.003 28.7.3). */
export interface Suci {
  mcc: string;
  mnc: string;
  /** 1 to 4 digits */
  routingIndicator: string;
  /** 0..15 */
  protectionScheme: number;
  /** 0..255; 0 for the null-scheme */
  hnKeyId: number;
  /** null-scheme: the MSIN digits; ECIES: eph. public key || ciphertext || MAC tag as lowercase hex */
  schemeOutput: string;
}

export interface ConcealInput {
  mcc: string;
  mnc: string;
  msin: string;
  routingIndicator: string;
  profile: SuciProfile;
  hnKeyId: number;
  /** profile A: 32 bytes; profile B: compressed (33) or uncompressed (65) SEC1 point */
  hnPublicKey?: Uint8Array;
  /** fixes the ephemeral key (test data, reproducibility); random otherwise */
  ephemeralPrivateKey?: Uint8Array;
}

export interface DeconcealResult {
  supi: string;
  mcc: string;
  mnc: string;
  msin: string;
  routingIndicator: string;
  profile: SuciProfile;
  hnKeyId: number;
}

function fail(message: string): never {
  throw new CryptoError('INVALID_SUCI', message);
}

function checkDigits(name: string, value: string, min: number, max: number): void {
  if (typeof value !== 'string' || value.length < min || value.length > max || !/^\d+$/.test(value)) {
    const len = min === max ? `${min}` : `${min} to ${max}`;
    throw new CryptoError('INVALID_ARGUMENT', `${name} must be ${len} decimal digits, got "${String(value)}"`);
  }
}

function checkImsi(mcc: string, mnc: string, msin: string): void {
  checkDigits('MCC', mcc, 3, 3);
  checkDigits('MNC', mnc, 2, 3);
  checkDigits('MSIN', msin, 1, 15 - 3 - mnc.length);
}

/** MSIN as BCD, two digits per byte with the first digit in the low nibble, padded with F (TS 24.501 9.11.3.4). */
export function encodeMsinBcd(msin: string): Buffer {
  checkDigits('MSIN', msin, 1, 10);
  const out = Buffer.alloc((msin.length + 1) >> 1, 0xff);
  for (let i = 0; i < msin.length; i++) {
    const d = msin.charCodeAt(i) - 0x30;
    out[i >> 1] = i & 1 ? (out[i >> 1]! & 0x0f) | (d << 4) : (out[i >> 1]! & 0xf0) | d;
  }
  return out;
}

/** Inverse of {@link encodeMsinBcd}; only the last nibble may be the filler F. */
export function decodeMsinBcd(bcd: Uint8Array): string {
  let msin = '';
  for (let i = 0; i < bcd.length * 2; i++) {
    const nibble = i & 1 ? bcd[i >> 1]! >> 4 : bcd[i >> 1]! & 0x0f;
    if (nibble === 0xf && i === bcd.length * 2 - 1 && i > 0) break;
    if (nibble > 9) fail(`MSIN BCD: invalid nibble ${nibble.toString(16)} at position ${i}`);
    msin += String.fromCharCode(0x30 + nibble);
  }
  if (msin.length === 0) fail('MSIN BCD: empty');
  return msin;
}

/** "suci-0-<MCC>-<MNC>-<routing indicator>-<scheme>-<HN key id>-<scheme output>". */
export function formatSuci(suci: Suci): string {
  checkDigits('MCC', suci.mcc, 3, 3);
  checkDigits('MNC', suci.mnc, 2, 3);
  checkDigits('routing indicator', suci.routingIndicator, 1, 4);
  if (!Number.isInteger(suci.protectionScheme) || suci.protectionScheme < 0 || suci.protectionScheme > 15) {
    throw new CryptoError('INVALID_ARGUMENT', `protection scheme must be 0..15, got ${suci.protectionScheme}`);
  }
  if (!Number.isInteger(suci.hnKeyId) || suci.hnKeyId < 0 || suci.hnKeyId > 255) {
    throw new CryptoError('INVALID_ARGUMENT', `home network public key identifier must be 0..255, got ${suci.hnKeyId}`);
  }
  if (!/^[0-9a-fA-F]+$/.test(suci.schemeOutput)) {
    throw new CryptoError('INVALID_ARGUMENT', 'the scheme output must be MSIN digits or hexadecimal');
  }
  const { mcc, mnc, routingIndicator, protectionScheme, hnKeyId, schemeOutput } = suci;
  return `suci-0-${mcc}-${mnc}-${routingIndicator}-${protectionScheme}-${hnKeyId}-${schemeOutput}`;
}

/** Parses a SUCI of SUPI type IMSI; hex scheme outputs are returned lowercase. */
export function parseSuci(text: string): Suci {
  const parts = text.split('-');
  if (parts.length !== 8 || parts[0] !== 'suci') {
    fail('SUCI must be suci-0-<mcc>-<mnc>-<routing>-<scheme>-<key id>-<output>');
  }
  const [, type, mcc, mnc, routingIndicator, scheme, keyId, output] = parts as [
    string, string, string, string, string, string, string, string,
  ];
  if (type !== '0') fail(`SUCI: only SUPI type 0 (IMSI) is supported, got "${type}"`);
  if (!/^\d{3}$/.test(mcc)) fail(`SUCI: MCC must be 3 digits, got "${mcc}"`);
  if (!/^\d{2,3}$/.test(mnc)) fail(`SUCI: MNC must be 2 or 3 digits, got "${mnc}"`);
  if (!/^\d{1,4}$/.test(routingIndicator)) fail(`SUCI: routing indicator must be 1-4 digits: "${routingIndicator}"`);
  if (!/^\d{1,2}$/.test(scheme) || Number(scheme) > 15) fail(`SUCI: protection scheme must be 0..15, got "${scheme}"`);
  if (!/^\d{1,3}$/.test(keyId) || Number(keyId) > 255) fail(`SUCI: HN public key id must be 0..255, got "${keyId}"`);
  const protectionScheme = Number(scheme);
  if (protectionScheme === 0) {
    if (!/^\d+$/.test(output)) fail('SUCI: the null-scheme output must be the MSIN digits');
  } else if (!/^(?:[0-9a-fA-F]{2})+$/.test(output)) {
    fail('SUCI: the scheme output must be hexadecimal');
  }
  return {
    mcc: mcc,
    mnc: mnc,
    routingIndicator: routingIndicator,
    protectionScheme,
    hnKeyId: Number(keyId),
    schemeOutput: protectionScheme === 0 ? output : output.toLowerCase(),
  };
}

// --- ECIES (TS 33.501 C.3.2, C.3.3) ---

interface Ecdh {
  /** the ephemeral public key as sent in the scheme output */
  ephemeralPublicKey: Buffer;
  sharedSecret: Buffer;
}

function x25519Private(raw: Uint8Array, what: string): KeyObject {
  requireLength(what, raw, 32);
  return createPrivateKey({ key: Buffer.concat([X25519_PKCS8, raw]), format: 'der', type: 'pkcs8' });
}

function x25519Public(raw: Uint8Array, what: string): KeyObject {
  requireLength(what, raw, 32);
  return createPublicKey({ key: Buffer.concat([X25519_SPKI, raw]), format: 'der', type: 'spki' });
}

function x25519Agree(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  let z: Buffer;
  try {
    z = diffieHellman({ privateKey, publicKey });
  } catch (e) {
    throw new CryptoError('INVALID_POINT', 'X25519: key agreement failed (low-order public key, all-zero secret)', {
      cause: e,
    });
  }
  if (z.every((b) => b === 0)) throw new CryptoError('INVALID_POINT', 'X25519: the shared secret is all zero');
  return z;
}

function p256(privateKey: Uint8Array, what: string): ECDH {
  requireLength(what, privateKey, 32);
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(privateKey);
  } catch (e) {
    throw new CryptoError('INVALID_KEY', `${what} is not a valid secp256r1 private key`, { cause: e });
  }
  return ecdh;
}

/** Accepts a compressed (02/03) or uncompressed (04) SEC1 point on secp256r1; returns it compressed. */
function p256Point(point: Uint8Array, what: string): Buffer {
  const prefix = point[0];
  const ok = ((prefix === 2 || prefix === 3) && point.length === 33) || (prefix === 4 && point.length === 65);
  if (!ok) {
    throw new CryptoError('INVALID_ARGUMENT', `${what} must be a compressed (33 bytes) or uncompressed (65) P-256 point`);
  }
  try {
    return ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'compressed') as Buffer;
  } catch (e) {
    throw new CryptoError('INVALID_POINT', `${what} is not a point on secp256r1`, { cause: e });
  }
}

function p256Agree(ecdh: ECDH, compressedPoint: Buffer, what: string): Buffer {
  try {
    return ecdh.computeSecret(compressedPoint);
  } catch (e) {
    throw new CryptoError('INVALID_POINT', `${what} is not a point on secp256r1`, { cause: e });
  }
}

/** UE side: ephemeral key pair and shared secret with the home network public key. */
function ueAgree(profile: 'A' | 'B', hnPublicKey: Uint8Array, ephemeralPrivateKey: Uint8Array): Ecdh {
  if (profile === 'A') {
    const eph = x25519Private(ephemeralPrivateKey, 'ephemeral private key');
    const spki = createPublicKey(eph).export({ format: 'der', type: 'spki' });
    const sharedSecret = x25519Agree(eph, x25519Public(hnPublicKey, 'HN public key'));
    return { ephemeralPublicKey: spki.subarray(X25519_SPKI.length), sharedSecret };
  }
  const eph = p256(ephemeralPrivateKey, 'ephemeral private key');
  const hn = p256Point(hnPublicKey, 'HN public key');
  const sharedSecret = p256Agree(eph, hn, 'HN public key');
  return { ephemeralPublicKey: eph.getPublicKey(null, 'compressed'), sharedSecret };
}

function deriveKeys(ecdh: Ecdh): { ek: Buffer; icb: Buffer; mk: Buffer } {
  const k = x963Kdf(ecdh.sharedSecret, ecdh.ephemeralPublicKey, 64);
  return { ek: k.subarray(0, 16), icb: k.subarray(16, 32), mk: k.subarray(32, 64) };
}

function aes128Ctr(ek: Buffer, icb: Buffer, data: Uint8Array): Buffer {
  const c = createCipheriv('aes-128-ctr', ek, icb);
  return Buffer.concat([c.update(data), c.final()]);
}

function macTag(mk: Buffer, ciphertext: Buffer): Buffer {
  return createHmac('sha256', mk).update(ciphertext).digest().subarray(0, MAC_LENGTH);
}

/** ECIES encryption: scheme output = ephemeral public key || AES-128-CTR ciphertext || 8-byte HMAC-SHA-256 tag. */
export function eciesEncrypt(
  profile: 'A' | 'B',
  hnPublicKey: Uint8Array,
  plaintext: Uint8Array,
  ephemeralPrivateKey?: Uint8Array,
): Buffer {
  const ecdh = ueAgree(profile, hnPublicKey, ephemeralPrivateKey ?? newEphemeralKey(profile));
  const { ek, icb, mk } = deriveKeys(ecdh);
  const ciphertext = aes128Ctr(ek, icb, plaintext);
  return Buffer.concat([ecdh.ephemeralPublicKey, ciphertext, macTag(mk, ciphertext)]);
}

function newEphemeralKey(profile: 'A' | 'B'): Buffer {
  if (profile === 'A') return randomBytes(32);
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const d = ecdh.getPrivateKey(); // minimal big-endian: leading zero bytes are dropped
  return Buffer.concat([Buffer.alloc(32 - d.length), d]);
}

/**
 * ECIES decryption with the home network private key (32 bytes). Profile B also accepts an
 * uncompressed ephemeral key (interoperability with UEs that do not compress); the KDF SharedInfo is
 * then its compressed form. Throws INVALID_POINT, INVALID_ARGUMENT or MAC_FAILURE.
 */
export function eciesDecrypt(profile: 'A' | 'B', hnPrivateKey: Uint8Array, schemeOutput: Uint8Array): Buffer {
  let ecdh: Ecdh;
  let rest: Buffer;
  const out = Buffer.from(schemeOutput.buffer, schemeOutput.byteOffset, schemeOutput.length);
  if (profile === 'A') {
    if (out.length < 32 + 1 + MAC_LENGTH) {
      throw new CryptoError('INVALID_ARGUMENT', 'ECIES profile A: scheme output too short');
    }
    const eph = out.subarray(0, 32);
    const hn = x25519Private(hnPrivateKey, 'HN private key');
    ecdh = { ephemeralPublicKey: eph, sharedSecret: x25519Agree(hn, x25519Public(eph, 'ephemeral public key')) };
    rest = out.subarray(32);
  } else {
    const ephLength = out[0] === 4 ? 65 : 33;
    if (out.length < ephLength + 1 + MAC_LENGTH) {
      throw new CryptoError('INVALID_ARGUMENT', 'ECIES profile B: scheme output too short');
    }
    const eph = p256Point(out.subarray(0, ephLength), 'ephemeral public key');
    const hn = p256(hnPrivateKey, 'HN private key');
    ecdh = { ephemeralPublicKey: eph, sharedSecret: p256Agree(hn, eph, 'ephemeral public key') };
    rest = out.subarray(ephLength);
  }
  const { ek, icb, mk } = deriveKeys(ecdh);
  const ciphertext = rest.subarray(0, rest.length - MAC_LENGTH);
  if (!timingSafeEqual(macTag(mk, ciphertext), rest.subarray(rest.length - MAC_LENGTH))) {
    throw new CryptoError('MAC_FAILURE', 'SUCI: the ECIES MAC tag does not verify');
  }
  return aes128Ctr(ek, icb, ciphertext);
}

/** Public key of a home network private key: profile A 32 bytes, profile B compressed point (33 bytes). */
export function hnPublicKeyOf(profile: 'A' | 'B', hnPrivateKey: Uint8Array): Buffer {
  if (profile === 'A') {
    const der = createPublicKey(x25519Private(hnPrivateKey, 'HN private key')).export({ format: 'der', type: 'spki' });
    return der.subarray(X25519_SPKI.length);
  }
  return p256(hnPrivateKey, 'HN private key').getPublicKey(null, 'compressed');
}

/** UE side: SUPI (IMSI) to SUCI string. */
export function concealSuci(input: ConcealInput): string {
  const { mcc, mnc, msin, routingIndicator, profile, hnKeyId } = input;
  checkImsi(mcc, mnc, msin);
  let schemeOutput: string;
  if (profile === 'null') {
    if (hnKeyId !== 0) throw new CryptoError('INVALID_ARGUMENT', 'the null-scheme uses HN public key identifier 0');
    schemeOutput = msin;
  } else if (profile === 'A' || profile === 'B') {
    if (input.hnPublicKey === undefined) {
      throw new CryptoError('INVALID_ARGUMENT', `profile ${profile} needs the HN public key`);
    }
    const output = eciesEncrypt(profile, input.hnPublicKey, encodeMsinBcd(msin), input.ephemeralPrivateKey);
    schemeOutput = output.toString('hex');
  } else {
    throw new CryptoError('UNSUPPORTED_SCHEME', `unknown protection scheme profile "${String(profile)}"`);
  }
  return formatSuci({ mcc, mnc, routingIndicator, protectionScheme: SCHEME_ID[profile], hnKeyId, schemeOutput });
}

/** Home network side (SIDF): SUCI string to SUPI; `hnPrivateKey` is not needed for the null-scheme. */
export function deconcealSuci(suci: string, hnPrivateKey?: Uint8Array): DeconcealResult {
  const s = parseSuci(suci);
  const profile = PROFILE_OF_SCHEME[s.protectionScheme];
  if (profile === undefined) {
    throw new CryptoError('UNSUPPORTED_SCHEME', `SUCI: protection scheme ${s.protectionScheme} is not supported`);
  }
  let msin: string;
  if (profile === 'null') {
    msin = s.schemeOutput;
  } else {
    if (hnPrivateKey === undefined) {
      throw new CryptoError('INVALID_ARGUMENT', `profile ${profile} needs the HN private key`);
    }
    msin = decodeMsinBcd(eciesDecrypt(profile, hnPrivateKey, Buffer.from(s.schemeOutput, 'hex')));
  }
  checkImsi(s.mcc, s.mnc, msin);
  return {
    supi: `imsi-${s.mcc}${s.mnc}${msin}`,
    mcc: s.mcc,
    mnc: s.mnc,
    msin,
    routingIndicator: s.routingIndicator,
    profile,
    hnKeyId: s.hnKeyId,
  };
}
