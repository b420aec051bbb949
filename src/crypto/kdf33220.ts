// TS 33.220 Annex B.2: the generic key derivation function KDF(Key, S) = HMAC-SHA-256(Key, FC || P0 || L0 || ...).
import { createHmac } from 'node:crypto';
import { CryptoError } from './errors.js';

/** S = FC || P0 || L0 || P1 || L1 ..., each Li the 2-byte big-endian length of Pi; returns 32 bytes. */
export function genericKdf(key: Uint8Array, fc: number, params: readonly Uint8Array[]): Buffer {
  if (!Number.isInteger(fc) || fc < 0 || fc > 0xff) {
    throw new CryptoError('INVALID_ARGUMENT', `KDF: FC must be one byte, got ${fc}`);
  }
  const hmac = createHmac('sha256', key);
  hmac.update(Buffer.of(fc));
  const length = Buffer.allocUnsafe(2);
  params.forEach((p, i) => {
    if (p.length > 0xffff) {
      throw new CryptoError('INVALID_ARGUMENT', `KDF: P${i} is ${p.length} bytes, the maximum is 65535`);
    }
    length.writeUInt16BE(p.length);
    hmac.update(p).update(length);
  });
  return hmac.digest();
}
