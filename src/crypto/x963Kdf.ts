// ANSI X9.63 key derivation with SHA-256 (BSI TR-03111 4.3.3; SGP.22 2.6.4.2, TS 33.501 C.3.2).
import { createHash } from 'node:crypto';

/** Derives `length` bytes: SHA-256(Z || counter32 || SharedInfo) for counter = 1, 2, ... */
export function x963Kdf(sharedSecret: Uint8Array, sharedInfo: Uint8Array, length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 32 * 0xffff) {
    throw new RangeError(`x963Kdf: invalid output length ${length}`);
  }
  const blocks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 1, produced = 0; produced < length; i++, produced += 32) {
    counter.writeUInt32BE(i);
    blocks.push(createHash('sha256').update(sharedSecret).update(counter).update(sharedInfo).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}
