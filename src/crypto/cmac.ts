// AES-128-CMAC (NIST SP 800-38B; RFC 4493), the MAC of SCP03/BSP.
import { createCipheriv, createSecretKey, type KeyObject } from 'node:crypto';
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

/** AES-128-CMAC with a fixed key: subkeys K1/K2 are derived once, each MAC costs one CBC pass. */
export class AesCmac {
  readonly #key: KeyObject;
  readonly #k1: Buffer;
  readonly #k2: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new CryptoError('INVALID_ARGUMENT', `AES-128-CMAC key must be 16 bytes, got ${key.length}`);
    this.#key = createSecretKey(key);
    const ecb = createCipheriv('aes-128-ecb', this.#key, null).setAutoPadding(false);
    this.#k1 = double(ecb.update(ZERO_BLOCK));
    this.#k2 = double(this.#k1);
  }

  /** The full 16-byte CMAC of the concatenation of `parts` (no copy of the parts is made). */
  mac(...parts: readonly Uint8Array[]): Buffer {
    let total = 0;
    for (const part of parts) total += part.length;
    // M_n is the last block: complete (xor K1) when the message is a non-empty multiple of 16, else padded 10* (xor K2).
    const complete = total > 0 && total % BLOCK === 0;
    const lastStart = complete ? total - BLOCK : total - (total % BLOCK);
    const cbc = createCipheriv('aes-128-cbc', this.#key, ZERO_BLOCK).setAutoPadding(false);
    const last = Buffer.alloc(BLOCK);
    let position = 0;
    for (const part of parts) {
      const head = Math.min(part.length, Math.max(0, lastStart - position));
      if (head > 0) cbc.update(part.subarray(0, head));
      if (head < part.length) last.set(part.subarray(head), position + head - lastStart);
      position += part.length;
    }
    const tailLength = total - lastStart;
    const subkey = complete ? this.#k1 : this.#k2;
    if (!complete) last[tailLength] = 0x80;
    for (let i = 0; i < BLOCK; i++) last[i] = (last[i] ?? 0) ^ (subkey[i] ?? 0);
    return cbc.update(last);
  }
}

/** One-shot AES-128-CMAC (16 bytes) of `message` under a 16-byte key. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Buffer {
  return new AesCmac(key).mac(message);
}
