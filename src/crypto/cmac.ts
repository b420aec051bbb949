// AES-128-CMAC (NIST SP 800-38B; RFC 4493), the MAC of SCP03/BSP.
import { createCipheriv, createSecretKey, type Cipher, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';

const BLOCK = 16;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
/** R_128 of SP 800-38B 6.1: the reduction constant for doubling in GF(2^128). */
const RB = 0x87;

/** Doubling in GF(2^128) (SP 800-38B 6.1 steps 2-3): left shift by one bit, xor Rb if the top bit was set. */
function double(block: Buffer): Buffer {
  const out = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) out[i] = ((block[i] ?? 0) << 1) | ((block[i + 1] ?? 0) >>> 7);
  if ((block[0] ?? 0) & 0x80) out[BLOCK - 1] = (out[BLOCK - 1] ?? 0) ^ RB;
  return out;
}

/**
 * AES-128-CMAC with a fixed key: subkeys K1/K2 are derived once, each MAC costs one CBC pass. The CBC pass runs on one
 * AES-128-CBC context kept for the key's lifetime (creating a cipher context costs more than MACing a kilobyte): CBC
 * chaining continues across calls, so each MAC's first block is xored with the context's last output block, which
 * makes that block's input M1 ^ C_last ^ C_last... exactly as a fresh context with a zero IV would see it.
 */
export class AesCmac {
  readonly #key: KeyObject;
  readonly #k1: Buffer;
  readonly #k2: Buffer;
  #cbc: Cipher;
  /** The last block the CBC context produced (its IV, zero, before any). */
  #chain: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new CryptoError('INVALID_ARGUMENT', `AES-128-CMAC key must be 16 bytes, got ${key.length}`);
    this.#key = createSecretKey(key);
    const ecb = createCipheriv('aes-128-ecb', this.#key, null).setAutoPadding(false);
    this.#k1 = double(ecb.update(ZERO_BLOCK));
    this.#k2 = double(this.#k1);
    this.#cbc = createCipheriv('aes-128-cbc', this.#key, ZERO_BLOCK).setAutoPadding(false);
    this.#chain = Buffer.from(ZERO_BLOCK);
  }

  /** The full 16-byte CMAC of the concatenation of `parts` (no copy of the parts is made, but of the first block). */
  mac(...parts: readonly Uint8Array[]): Buffer {
    let total = 0;
    for (const part of parts) total += part.length;
    // M_n is the last block: complete (xor K1) when the message is a non-empty multiple of 16, else padded 10* (xor K2).
    const complete = total > 0 && total % BLOCK === 0;
    const lastStart = complete ? total - BLOCK : total - (total % BLOCK);
    const first = Buffer.alloc(BLOCK);
    const last = Buffer.alloc(BLOCK);
    // Bytes [0, firstLength) go to `first` (xored with the chain value), [firstLength, lastStart) straight to the context.
    const firstLength = Math.min(BLOCK, lastStart);
    const feed: Uint8Array[] = [first];
    let position = 0;
    for (const part of parts) {
      const end = position + part.length;
      if (position < firstLength) first.set(part.subarray(0, Math.min(part.length, firstLength - position)), position);
      const headFrom = Math.max(position, firstLength);
      const headTo = Math.min(end, lastStart);
      if (headTo > headFrom) feed.push(part.subarray(headFrom - position, headTo - position));
      if (end > lastStart) {
        const from = Math.max(position, lastStart);
        last.set(part.subarray(from - position), from - lastStart);
      }
      position = end;
    }
    const tailLength = total - lastStart;
    const subkey = complete ? this.#k1 : this.#k2;
    if (!complete) last[tailLength] = 0x80;
    for (let i = 0; i < BLOCK; i++) last[i] = (last[i] ?? 0) ^ (subkey[i] ?? 0);
    // The message's first block (M_1, or M_n alone when it is the only one) takes the chain value.
    const opening = firstLength > 0 ? first : last;
    for (let i = 0; i < BLOCK; i++) opening[i] = (opening[i] ?? 0) ^ (this.#chain[i] ?? 0);
    try {
      if (firstLength > 0) for (const chunk of feed) this.#cbc.update(chunk);
      const out = this.#cbc.update(last);
      const mac = Buffer.from(out.subarray(out.length - BLOCK));
      this.#chain = mac;
      return Buffer.from(mac);
    } catch (error) {
      // Never leave a context holding a partial block behind: start over from a fresh one.
      this.#cbc = createCipheriv('aes-128-cbc', this.#key, ZERO_BLOCK).setAutoPadding(false);
      this.#chain = Buffer.from(ZERO_BLOCK);
      throw error;
    }
  }
}

/** One-shot AES-128-CMAC (16 bytes) of `message` under a 16-byte key. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Buffer {
  return new AesCmac(key).mac(message);
}
