// TS 34.108 8.1.2: the test algorithm for authentication and key agreement (XOR of K and RAND), as USIM test profiles (TS.48) carry it.
import { CryptoError, requireLength } from './errors.js';
import type { AkaAlgorithm, F2345Result } from './authenticationVector.js';

/**
 * The TS 34.108 test algorithm bound to one K (128 bits): XDOUT = K xor RAND; RES = the first
 * `resLength` bytes of XDOUT; CK = XDOUT rotated left by 8 bits, IK by 16 bits; AK = XDOUT bits
 * 24..71; MAC = XDOUT bits 0..63 xor (SQN || AMF). f1* equals f1 and f5* equals f5 (8.1.2.2-8.1.2.3).
 * It protects nothing: test equipment only.
 */
export class TestAlgorithm implements AkaAlgorithm {
  readonly macLength = 8;
  readonly #k: Buffer;
  readonly #resLength: number;

  /** `resLength` is the RES length in bytes, 4 to 16 (default 16, the whole XDOUT). */
  constructor(k: Uint8Array, resLength = 16) {
    requireLength('K', k, 16);
    if (!Number.isInteger(resLength) || resLength < 4 || resLength > 16) {
      throw new CryptoError('INVALID_ARGUMENT', `test algorithm: RES length must be 4 to 16 bytes, got ${resLength}`);
    }
    this.#k = Buffer.from(k);
    this.#resLength = resLength;
  }

  #xdout(rand: Uint8Array): Buffer {
    requireLength('RAND', rand, 16);
    const out = Buffer.allocUnsafe(16);
    for (let i = 0; i < 16; i++) out[i] = this.#k[i]! ^ rand[i]!;
    return out;
  }

  f1(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer {
    requireLength('SQN', sqn, 6);
    requireLength('AMF', amf, 2);
    const xdout = this.#xdout(rand);
    const mac = Buffer.allocUnsafe(8);
    for (let i = 0; i < 6; i++) mac[i] = xdout[i]! ^ sqn[i]!;
    for (let i = 0; i < 2; i++) mac[6 + i] = xdout[6 + i]! ^ amf[i]!;
    return mac;
  }

  f1star(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer {
    return this.f1(rand, sqn, amf);
  }

  f2345(rand: Uint8Array): F2345Result {
    const xdout = this.#xdout(rand);
    return {
      res: Buffer.from(xdout.subarray(0, this.#resLength)),
      ck: Buffer.concat([xdout.subarray(1), xdout.subarray(0, 1)]),
      ik: Buffer.concat([xdout.subarray(2), xdout.subarray(0, 2)]),
      ak: Buffer.from(xdout.subarray(3, 9)),
    };
  }

  f5star(rand: Uint8Array): Buffer {
    return Buffer.from(this.#xdout(rand).subarray(3, 9));
  }
}
