// Authentication vector throughput for the AuC: Milenage batch (TS 35.206) and TUAK (TS 35.231), against their primitives.
import { randomBytes } from 'node:crypto';
import { keccakP } from '@noble/hashes/sha3.js';
import { Milenage } from '../src/crypto/milenage.js';
import { Tuak } from '../src/crypto/tuak.js';
import { generateAuthenticationVector } from '../src/crypto/authenticationVector.js';
import { measure, opensslCipher, report } from './lib.js';

export function benchAka(seconds: number): void {
  const batch = 4096;
  const m = new Milenage(randomBytes(16), randomBytes(16));
  const rands = randomBytes(16 * batch);
  const sqns = randomBytes(6 * batch);
  const amfs = randomBytes(2 * batch);
  // One vector costs 6 AES blocks (TEMP, OUT1..OUT5): 96 bytes through AES-128-ECB.
  const milenageBound = opensslCipher('aes-128-ecb', 8192) / 96;
  report({
    name: 'Milenage vectors, packed batch of 4096',
    value: measure(() => m.computePacked(rands, sqns, amfs, batch), seconds, batch),
    unit: 'vectors/s',
    limitName: 'openssl aes-128-ecb / 6 blocks',
    limit: milenageBound,
  });
  const inputs = Array.from({ length: 1024 }, (_, i) => ({
    rand: rands.subarray(16 * i, 16 * i + 16),
    sqn: sqns.subarray(6 * i, 6 * i + 6),
    amf: amfs.subarray(2 * i, 2 * i + 2),
  }));
  report({
    name: 'Milenage vectors as objects, batch of 1024',
    value: measure(() => m.generateVectors(inputs), seconds, inputs.length),
    unit: 'vectors/s',
    limitName: 'openssl aes-128-ecb / 6 blocks',
    limit: milenageBound,
  });

  const state = new Uint32Array(50);
  const keccakRate = measure(() => keccakP(state, 24), seconds);
  const tuak = new Tuak(randomBytes(32), randomBytes(32), { macBits: 64, resBits: 64, ckBits: 128, ikBits: 128, keccakIterations: 1 });
  const rand = randomBytes(16);
  const sqn = randomBytes(6);
  const amf = Buffer.from('8000', 'hex');
  // One vector: f1 and f2345, one Keccak-f[1600] each with one iteration.
  report({
    name: 'TUAK vectors (1 Keccak iteration)',
    value: measure(() => generateAuthenticationVector(tuak, rand, sqn, amf), seconds),
    unit: 'vectors/s',
    limitName: 'keccak-f[1600] / 2',
    limit: keccakRate / 2,
  });
}
