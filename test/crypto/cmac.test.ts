// AES-128-CMAC against the RFC 4493 section 4 test vectors (same as NIST SP 800-38B appendix D.1) and properties.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { AesCmac, aesCmac } from '../../src/crypto/cmac.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { hex } from '../helpers/fixtures.js';

// RFC 4493 section 4: K = 2b7e1516 28aed2a6 abf71588 09cf4f3c, M = the first len bytes of this message.
const RFC4493_KEY = hex('2b7e151628aed2a6abf7158809cf4f3c');
const RFC4493_MESSAGE = hex(
  '6bc1bee22e409f96e93d7e117393172a' +
    'ae2d8a571e03ac9c9eb76fac45af8e51' +
    '30c81c46a35ce411e5fbc1191a0a52ef' +
    'f69f2445df4f9b17ad2b417be66c3710',
);
const RFC4493_EXAMPLES: ReadonlyArray<readonly [number, string]> = [
  [0, 'bb1d6929e95937287fa37d129b756746'],
  [16, '070a16b46b4d4144f79bdd9dd04a287c'],
  [40, 'dfa66747de9ae63030ca32611497c827'],
  [64, '51f0bebf7e3b9d92fc49741779363cfe'],
];

/** RFC 4493 section 2.4 step by step, with a new CBC context per message: the reference the kept context must match. */
function referenceCmac(key: Buffer, message: Uint8Array): Buffer {
  const ecb = (block: Buffer): Buffer => createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(block);
  const double = (b: Buffer): Buffer => {
    const out = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) out[i] = ((b[i]! << 1) | ((b[i + 1] ?? 0) >>> 7)) & 0xff;
    if (b[0]! & 0x80) out[15] = out[15]! ^ 0x87;
    return out;
  };
  const k1 = double(ecb(Buffer.alloc(16)));
  const k2 = double(k1);
  const n = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  const last = Buffer.alloc(16);
  last.set(message.subarray((n - 1) * 16));
  if (!complete) last[message.length - (n - 1) * 16] = 0x80;
  for (let i = 0; i < 16; i++) last[i] = last[i]! ^ (complete ? k1 : k2)[i]!;
  let x: Buffer = Buffer.alloc(16);
  for (let b = 0; b < n; b++) {
    const block = b === n - 1 ? last : Buffer.from(message.subarray(b * 16, b * 16 + 16));
    for (let i = 0; i < 16; i++) block[i] = block[i]! ^ x[i]!;
    x = ecb(block);
  }
  return x;
}

describe('AES-CMAC (RFC 4493)', () => {
  for (const [length, tag] of RFC4493_EXAMPLES) {
    it(`RFC 4493 section 4 example with len = ${length}`, () => {
      const message = RFC4493_MESSAGE.subarray(0, length);
      assert.equal(aesCmac(RFC4493_KEY, message).toString('hex'), tag);
      assert.equal(new AesCmac(RFC4493_KEY).mac(message).toString('hex'), tag);
    });
  }

  it('a MAC over several parts equals the MAC over their concatenation', () => {
    const cmac = new AesCmac(RFC4493_KEY);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.array(fc.nat({ max: 100 }), { maxLength: 4 }), (message, cuts) => {
        const points = [...new Set(cuts.map((c) => Math.min(c, message.length)))].sort((a, b) => a - b);
        const parts: Uint8Array[] = [];
        let start = 0;
        for (const point of [...points, message.length]) {
          parts.push(message.subarray(start, point));
          start = point;
        }
        assert.deepEqual(cmac.mac(...parts), cmac.mac(message));
      }),
    );
  });

  it('one instance MACing many messages in a row (one CBC context kept) agrees with a fresh CBC pass for each', () => {
    const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    const cmac = new AesCmac(key);
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { minLength: 1, maxLength: 6 }), (messages) => {
        for (const message of messages) assert.deepEqual(cmac.mac(message), referenceCmac(key, message));
      }),
    );
  });

  it('reproduces the RFC 4493 example when the message arrives in odd pieces', () => {
    const cmac = new AesCmac(RFC4493_KEY);
    const m = RFC4493_MESSAGE.subarray(0, 40);
    assert.equal(cmac.mac(m.subarray(0, 3), m.subarray(3, 17), Buffer.alloc(0), m.subarray(17)).toString('hex'), 'dfa66747de9ae63030ca32611497c827');
  });

  it('rejects keys that are not 16 bytes', () => {
    for (const length of [0, 15, 17, 24, 32]) {
      assert.throws(() => aesCmac(Buffer.alloc(length), Buffer.alloc(1)), (e: unknown) => e instanceof CryptoError && e.code === 'INVALID_ARGUMENT');
    }
  });
});
