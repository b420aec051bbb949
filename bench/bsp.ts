// BSP (SGP.22 2.6.4) protect and unprotect throughput for a 12 KB profile, against OpenSSL AES-128-CBC.
import { randomBytes } from 'node:crypto';
import { BspSession, deriveBspKeys } from '../src/crypto/bsp.js';
import { measure, opensslCipher, report } from './lib.js';

export function benchBsp(seconds: number): void {
  const profile = randomBytes(12 * 1024);
  const keys = deriveBspKeys(randomBytes(32), 0x88, 0x10, Buffer.from('mcim-bench'), randomBytes(16));
  const segments = new BspSession(keys).protectProfileSegments(profile);
  // Each byte is encrypted once and MACed once (CMAC = CBC-MAC): two AES passes at 1 KB blocks.
  const bound = opensslCipher('aes-128-cbc', 1024) / 2 / 1e6;
  report({
    name: 'BSP protect 12 KB profile',
    value: measure(() => new BspSession(keys).protectProfileSegments(profile), seconds, profile.length / 1e6),
    unit: 'MB/s',
    limitName: 'openssl aes-128-cbc / 2',
    limit: bound,
  });
  report({
    name: 'BSP unprotect 12 KB profile',
    value: measure(() => {
      const s = new BspSession(keys);
      for (const seg of segments) s.unprotectEncrypted(seg, 0x86);
    }, seconds, profile.length / 1e6),
    unit: 'MB/s',
    limitName: 'openssl aes-128-cbc / 2',
    limit: bound,
  });
}
