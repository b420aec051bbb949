// BPP protection BSP (SCP03t-like): X9.63 key derivation, AES-128-CBC ciphering, AES-CMAC chaining (SGP.22 2.6.4).
import { createCipheriv, createDecipheriv, createSecretKey, timingSafeEqual, type Cipher, type Decipher, type KeyObject } from 'node:crypto';
import { AesCmac } from './cmac.js';
import { CryptoError, requireLength } from './errors.js';
import { x963Kdf } from './x963Kdf.js';

/** Largest protected segment (tag || length || data || C-MAC) SGP.22 2.5.3 allows. */
export const BSP_MAX_SEGMENT_LENGTH = 1020;
/** Control reference template keyType for AES (GlobalPlatform Card Specification Table 11-16). */
export const BSP_KEY_TYPE_AES = 0x88;
/** Control reference template keyLen: SGP.22 fixes 16-byte keys. */
export const BSP_KEY_LENGTH = 0x10;

const BLOCK = 16;
const C_MAC_LENGTH = 8;
const SHARED_SECRET_LENGTH = 32;
const EID_LENGTH = 16;
const MAX_HOST_ID_LENGTH = 16;
/** Bounds of the configurable segment limit: one block of data at least, two-byte BER lengths at most. */
const MIN_SEGMENT_LIMIT = 1 + 1 + BLOCK + C_MAC_LENGTH;
const MAX_SEGMENT_LIMIT = 1 + 3 + 0xffff;

/** Tags of BSP segments: 86 profile segments and 87 ConfigureISDP/ReplaceSessionKeys (encrypted), 88 StoreMetadata (MAC only). */
export type BspEncryptedTag = 0x86 | 0x87;
export type BspMacOnlyTag = 0x88;

/** Keys of one BSP key set: the session keys from the KDF, or the PPKs of ReplaceSessionKeys. */
export interface BspKeys {
  /** Initial MAC chaining value (16 bytes). */
  readonly initialMcv: Uint8Array;
  /** S-ENC or PPK-ENC (16 bytes). */
  readonly sEnc: Uint8Array;
  /** S-MAC or PPK-MAC (16 bytes). */
  readonly sMac: Uint8Array;
}

export interface BspSessionOptions {
  /**
   * Largest protected segment produced or accepted, tag and length included; default 1020 (SGP.22 2.5.3).
   * Raise it only to read packages from encoders known to exceed the limit.
   */
  maxSegmentLength?: number;
}

/**
 * SGP.22 2.6.4.2: KeyData = X9.63-KDF-SHA256(ShS, keyType || keyLen || len(hostId) || hostId || len(EID) || EID, 48)
 * = initial MCV || S-ENC || S-MAC. Only AES (88) with 16-byte keys (10) is defined (BSP_UNSUPPORTED_CRT otherwise).
 */
export function deriveBspKeys(
  sharedSecret: Uint8Array,
  keyType: number,
  keyLength: number,
  hostId: Uint8Array,
  eid: Uint8Array,
): { initialMcv: Buffer; sEnc: Buffer; sMac: Buffer } {
  if (keyType !== BSP_KEY_TYPE_AES || keyLength !== BSP_KEY_LENGTH) {
    throw new CryptoError(
      'BSP_UNSUPPORTED_CRT',
      `unsupported control reference template: keyType ${String(keyType)}, keyLen ${String(keyLength)} (expected 136/0x88, 16/0x10)`,
    );
  }
  requireLength('shared secret', sharedSecret, SHARED_SECRET_LENGTH);
  requireLength('EID', eid, EID_LENGTH);
  if (hostId.length < 1 || hostId.length > MAX_HOST_ID_LENGTH) {
    throw new CryptoError('INVALID_ARGUMENT', `hostId must be 1 to ${MAX_HOST_ID_LENGTH} bytes, got ${hostId.length}`);
  }
  // Both lengths are below 128, so their BER encoding is the single length byte.
  const sharedInfo = Buffer.concat([Buffer.of(keyType, keyLength, hostId.length), hostId, Buffer.of(eid.length), eid]);
  const keyData = x963Kdf(sharedSecret, sharedInfo, 3 * BLOCK);
  return {
    initialMcv: keyData.subarray(0, BLOCK),
    sEnc: keyData.subarray(BLOCK, 2 * BLOCK),
    sMac: keyData.subarray(2 * BLOCK, 3 * BLOCK),
  };
}

/** Number of bytes of the BER length field for a value of `length` bytes (X.690 8.1.3, minimal). */
function lengthFieldSize(length: number): number {
  if (length < 0x80) return 1;
  if (length < 0x100) return 2;
  return 3;
}

function writeHeader(out: Buffer, tag: number, valueLength: number): number {
  out[0] = tag;
  if (valueLength < 0x80) {
    out[1] = valueLength;
    return 2;
  }
  if (valueLength < 0x100) {
    out[1] = 0x81;
    out[2] = valueLength;
    return 3;
  }
  out[1] = 0x82;
  out.writeUInt16BE(valueLength, 2);
  return 4;
}

/** Largest value length v such that tag || len(v) || v fits in `limit` bytes. */
function maxValueLength(limit: number): number {
  let best = 0;
  for (let size = 1; size <= 3; size++) {
    const value = limit - 1 - size;
    if (lengthFieldSize(value) <= size && value > best) best = value;
  }
  return best;
}

const ZERO_BLOCK = Buffer.alloc(BLOCK);

function xorInto(target: Buffer, a: Uint8Array, b: Uint8Array): void {
  for (let i = 0; i < BLOCK; i++) target[i] = (target[i] ?? 0) ^ (a[i] ?? 0) ^ (b[i] ?? 0);
}

/**
 * Cipher state of one key set, kept for the key set's lifetime: the ECB cipher that computes ICVs, the CMAC, and one
 * AES-128-CBC context per direction (creating a context costs more than ciphering a segment). A kept CBC context
 * chains from the last block it saw, so a segment's first block is corrected by that block and the segment's ICV: the
 * result is exactly AES-CBC(S-ENC, ICV, segment), as with a fresh context per segment.
 */
class KeySet {
  readonly enc: KeyObject;
  readonly icvCipher: Cipher;
  readonly cmac: AesCmac;
  #encryptor: Cipher | undefined;
  /** The last ciphertext block the encryptor produced. */
  #encryptChain: Buffer = ZERO_BLOCK;
  #decryptor: Decipher | undefined;
  /** The last ciphertext block the decryptor was given. */
  #decryptChain: Buffer = ZERO_BLOCK;

  constructor(keys: BspKeys) {
    requireLength('initial MAC chaining value', keys.initialMcv, BLOCK);
    requireLength('S-ENC', keys.sEnc, BLOCK);
    requireLength('S-MAC', keys.sMac, BLOCK);
    this.enc = createSecretKey(keys.sEnc);
    this.icvCipher = createCipheriv('aes-128-ecb', this.enc, null).setAutoPadding(false);
    this.cmac = new AesCmac(keys.sMac);
  }

  /** AES-CBC(S-ENC, icv) of `padded` (whole blocks, at least one), which it overwrites. */
  encrypt(icv: Buffer, padded: Buffer): Buffer {
    this.#encryptor ??= createCipheriv('aes-128-cbc', this.enc, ZERO_BLOCK).setAutoPadding(false);
    xorInto(padded, icv, this.#encryptChain);
    const ciphertext = this.#encryptor.update(padded);
    this.#encryptChain = Buffer.from(ciphertext.subarray(ciphertext.length - BLOCK));
    return ciphertext;
  }

  /** AES-CBC⁻¹(S-ENC, icv) of `ciphertext` (whole blocks, at least one), left unchanged. */
  decrypt(icv: Buffer, ciphertext: Uint8Array): Buffer {
    this.#decryptor ??= createDecipheriv('aes-128-cbc', this.enc, ZERO_BLOCK).setAutoPadding(false);
    const padded = this.#decryptor.update(ciphertext);
    xorInto(padded, icv, this.#decryptChain);
    this.#decryptChain = Buffer.from(ciphertext.subarray(ciphertext.length - BLOCK));
    return padded;
  }
}

/**
 * One direction of a BSP session: the SM-DP+ protects with it, the eUICC unprotects with it. It holds the
 * block counter (first segment 1, +1 per segment, MAC-only ones included) and the MAC chaining value.
 * Any failure on the receiving side aborts the session: every later call throws BSP_SESSION_ABORTED.
 */
export class BspSession {
  /** Largest protected segment produced or accepted, tag and length included. */
  readonly maxSegmentLength: number;
  readonly #maxValueLength: number;
  #keys: KeySet;
  #mcv: Buffer;
  #counter = 1;
  #aborted = false;

  constructor(keys: BspKeys, options: BspSessionOptions = {}) {
    const limit = options.maxSegmentLength ?? BSP_MAX_SEGMENT_LENGTH;
    if (!Number.isInteger(limit) || limit < MIN_SEGMENT_LIMIT || limit > MAX_SEGMENT_LIMIT) {
      throw new CryptoError(
        'INVALID_ARGUMENT',
        `maxSegmentLength must be an integer from ${MIN_SEGMENT_LIMIT} to ${MAX_SEGMENT_LIMIT}, got ${String(limit)}`,
      );
    }
    this.maxSegmentLength = limit;
    this.#maxValueLength = maxValueLength(limit);
    this.#keys = new KeySet(keys);
    this.#mcv = Buffer.from(keys.initialMcv);
  }

  /** The block counter the next segment uses. */
  get blockCounter(): number {
    return this.#counter;
  }

  /** A copy of the current MAC chaining value. */
  get macChainingValue(): Buffer {
    return Buffer.from(this.#mcv);
  }

  /** Largest plaintext one encrypted segment carries (1007 bytes with the default limit). */
  get maxPlaintextPerSegment(): number {
    return Math.floor((this.#maxValueLength - C_MAC_LENGTH) / BLOCK) * BLOCK - 1;
  }

  /** Largest data one MAC-only segment carries (1008 bytes with the default limit). */
  get maxMacOnlyDataPerSegment(): number {
    return this.#maxValueLength - C_MAC_LENGTH;
  }

  /**
   * ReplaceSessionKeys (SGP.22 2.5.3, ES8+.ReplaceSessionKeys): continue with the profile protection keys
   * and the request's initial MAC chaining value; the block counter restarts at 1.
   */
  replaceSessionKeys(keys: BspKeys): void {
    this.#checkActive();
    this.#keys = new KeySet(keys);
    this.#mcv = Buffer.from(keys.initialMcv);
    this.#counter = 1;
  }

  /** Encrypts and MACs one segment: tag || len || AES-CBC(S-ENC, ICV, plaintext || 80 00..) || C-MAC. */
  encryptAndMac(tag: BspEncryptedTag, plaintext: Uint8Array): Buffer {
    this.#checkActive();
    checkEncryptedTag(tag);
    if (plaintext.length > this.maxPlaintextPerSegment) {
      throw new CryptoError(
        'BSP_SEGMENT',
        `${plaintext.length} bytes of plaintext exceed the ${this.maxPlaintextPerSegment} one segment carries`,
      );
    }
    const padded = Buffer.alloc((Math.floor(plaintext.length / BLOCK) + 1) * BLOCK);
    padded.set(plaintext);
    padded[plaintext.length] = 0x80;
    return this.#seal(tag, this.#keys.encrypt(this.#icv(), padded));
  }

  /** MACs one segment without encryption: tag || len || data || C-MAC. */
  macOnly(tag: BspMacOnlyTag, data: Uint8Array): Buffer {
    this.#checkActive();
    if (tag !== 0x88) throw new CryptoError('BSP_SEGMENT', `MAC-only segments use tag 88, got ${hexByte(tag)}`);
    if (data.length > this.maxMacOnlyDataPerSegment) {
      throw new CryptoError(
        'BSP_SEGMENT',
        `${data.length} bytes exceed the ${this.maxMacOnlyDataPerSegment} one MAC-only segment carries`,
      );
    }
    this.#icv(); // the block counter advances for MAC-only segments too
    return this.#seal(tag, data);
  }

  /** Cuts `data` into as few encrypted segments as the segment limit allows, protecting them in order. */
  encryptAndMacSegments(tag: BspEncryptedTag, data: Uint8Array): Buffer[] {
    return this.#split(data, this.maxPlaintextPerSegment, (chunk) => this.encryptAndMac(tag, chunk));
  }

  /** Cuts `data` into as few MAC-only segments as the segment limit allows, protecting them in order. */
  macOnlySegments(tag: BspMacOnlyTag, data: Uint8Array): Buffer[] {
    return this.#split(data, this.maxMacOnlyDataPerSegment, (chunk) => this.macOnly(tag, chunk));
  }

  /** The sequenceOf86 segments of a (bound) profile package. */
  protectProfileSegments(data: Uint8Array): Buffer[] {
    return this.encryptAndMacSegments(0x86, data);
  }

  /**
   * Receiving side of encryptAndMac: checks the segment's format and tag, then its C-MAC (constant time,
   * BSP_MAC_FAILURE), then decrypts and strips the 80 00.. padding strictly (BSP_PADDING).
   */
  unprotectEncrypted(segment: Uint8Array, expectedTag: BspEncryptedTag): Buffer {
    this.#checkActive();
    checkEncryptedTag(expectedTag);
    try {
      const valueStart = this.#verify(segment, expectedTag, true);
      const icv = this.#icv();
      const ciphertext = segment.subarray(valueStart, segment.length - C_MAC_LENGTH);
      return stripPadding(this.#keys.decrypt(icv, ciphertext));
    } catch (error) {
      this.#aborted = true;
      throw error;
    }
  }

  /** Receiving side of macOnly: checks format, tag 88 and C-MAC; returns the data. */
  verifyMacOnly(segment: Uint8Array): Buffer {
    this.#checkActive();
    try {
      const valueStart = this.#verify(segment, 0x88, false);
      this.#icv();
      return Buffer.from(segment.subarray(valueStart, segment.length - C_MAC_LENGTH));
    } catch (error) {
      this.#aborted = true;
      throw error;
    }
  }

  #checkActive(): void {
    if (this.#aborted) throw new CryptoError('BSP_SESSION_ABORTED', 'the BSP session has failed and accepts no more segments');
  }

  /** ICV of the current segment, E(S-ENC, 16-byte big-endian block counter); advances the counter. */
  #icv(): Buffer {
    const block = Buffer.alloc(BLOCK);
    block.writeUIntBE(this.#counter, BLOCK - 6, 6);
    this.#counter++;
    return this.#keys.icvCipher.update(block);
  }

  /** tag || len || value || C-MAC with C-MAC = CMAC(S-MAC, MCV || tag || len || value)[0..8); the full CMAC is the next MCV. */
  #seal(tag: number, value: Uint8Array): Buffer {
    const valueLength = value.length + C_MAC_LENGTH;
    const out = Buffer.allocUnsafe(1 + lengthFieldSize(valueLength) + valueLength);
    const headerLength = writeHeader(out, tag, valueLength);
    out.set(value, headerLength);
    const macStart = out.length - C_MAC_LENGTH;
    const full = this.#keys.cmac.mac(this.#mcv, out.subarray(0, macStart));
    full.copy(out, macStart, 0, C_MAC_LENGTH);
    this.#mcv = full;
    return out;
  }

  /**
   * Parses tag || len || value || C-MAC strictly and verifies the C-MAC against the chaining value; on success
   * the chaining value advances. Returns the offset of the value.
   */
  #verify(segment: Uint8Array, expectedTag: number, encrypted: boolean): number {
    if (segment.length > this.maxSegmentLength) {
      throw new CryptoError('BSP_SEGMENT', `segment of ${segment.length} bytes exceeds the limit of ${this.maxSegmentLength}`);
    }
    if (segment.length < 2) throw new CryptoError('BSP_SEGMENT', `segment of ${segment.length} bytes is truncated`);
    const tag = segment[0] ?? 0;
    if (tag !== expectedTag) {
      throw new CryptoError('BSP_SEGMENT', `expected a segment with tag ${hexByte(expectedTag)}, got ${hexByte(tag)}`);
    }
    const { valueLength, valueStart } = readLength(segment);
    if (valueStart + valueLength !== segment.length) {
      throw new CryptoError(
        'BSP_SEGMENT',
        `segment length field says ${valueLength} bytes, ${segment.length - valueStart} are present`,
      );
    }
    const dataLength = valueLength - C_MAC_LENGTH;
    if (encrypted ? dataLength < BLOCK || dataLength % BLOCK !== 0 : dataLength < 0) {
      throw new CryptoError(
        'BSP_SEGMENT',
        encrypted
          ? `ciphertext of ${dataLength} bytes is not a positive multiple of ${BLOCK}`
          : `segment of ${valueLength} bytes has no room for its C-MAC`,
      );
    }
    const macStart = segment.length - C_MAC_LENGTH;
    const full = this.#keys.cmac.mac(this.#mcv, segment.subarray(0, macStart));
    if (!timingSafeEqual(full.subarray(0, C_MAC_LENGTH), segment.subarray(macStart))) {
      throw new CryptoError('BSP_MAC_FAILURE', `C-MAC of the ${hexByte(tag)} segment does not verify`);
    }
    this.#mcv = full;
    return valueStart;
  }

  #split(data: Uint8Array, chunkSize: number, protect: (chunk: Uint8Array) => Buffer): Buffer[] {
    if (data.length === 0) throw new CryptoError('INVALID_ARGUMENT', 'nothing to protect: data is empty');
    const segments: Buffer[] = [];
    for (let offset = 0; offset < data.length; offset += chunkSize) {
      segments.push(protect(data.subarray(offset, offset + chunkSize)));
    }
    return segments;
  }
}

function hexByte(value: number): string {
  return Number.isInteger(value) && value >= 0 && value <= 0xff ? value.toString(16).toUpperCase().padStart(2, '0') : String(value);
}

function checkEncryptedTag(tag: number): void {
  if (tag !== 0x86 && tag !== 0x87) {
    throw new CryptoError('BSP_SEGMENT', `encrypted segments use tag 86 or 87, got ${hexByte(tag)}`);
  }
}

/** Minimal definite BER length (X.690 8.1.3) of at most two bytes, right after the one-byte tag. */
function readLength(segment: Uint8Array): { valueLength: number; valueStart: number } {
  const first = segment[1] ?? 0;
  if (first < 0x80) return { valueLength: first, valueStart: 2 };
  const size = first & 0x7f;
  if (size === 0 || size > 2) {
    throw new CryptoError('BSP_SEGMENT', `unsupported length field ${hexByte(first)} (indefinite or longer than two bytes)`);
  }
  if (segment.length < 2 + size) throw new CryptoError('BSP_SEGMENT', 'segment is truncated inside its length field');
  const valueLength = size === 1 ? (segment[2] ?? 0) : ((segment[2] ?? 0) << 8) | (segment[3] ?? 0);
  if (valueLength < (size === 1 ? 0x80 : 0x100)) {
    throw new CryptoError('BSP_SEGMENT', `length ${valueLength} is not minimally encoded`);
  }
  return { valueLength, valueStart: 2 + size };
}

/** Removes 80 00.. (1 to 16 bytes) from the end of a decrypted segment; anything else is BSP_PADDING. */
function stripPadding(padded: Buffer): Buffer {
  let end = padded.length - 1;
  const floor = padded.length - BLOCK;
  while (end > floor && padded[end] === 0) end--;
  if (padded[end] !== 0x80) throw new CryptoError('BSP_PADDING', 'decrypted segment does not end with 80 00.. padding');
  return padded.subarray(0, end);
}
