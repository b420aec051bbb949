// ECKA-DH key agreement on P-256 and brainpoolP256r1 (BSI TR-03111 4.3.1; SGP.22 2.6.4.1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, createPrivateKey } from 'node:crypto';
import { OneTimeEckaKeyPair, ecka } from '../../src/crypto/ecka.js';
import { generateKeyPair, pointFromPublicKey, type EcCurve } from '../../src/crypto/ecdsa.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { readFixture } from '../helpers/fixtures.js';

const CURVES: readonly EcCurve[] = ['P-256', 'brainpoolP256r1'];
const NODE_NAME: Record<EcCurve, string> = { 'P-256': 'prime256v1', brainpoolP256r1: 'brainpoolP256r1' };

const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

/** A P-256 point with a small x (below 2^256 - p, so x + p still fits in 32 bytes). */
function smallXPoint(): { x: bigint; y: bigint } {
  const mod = (a: bigint): bigint => ((a % P256_P) + P256_P) % P256_P;
  const pow = (base: bigint, e: bigint): bigint => {
    let r = 1n;
    let b = mod(base);
    for (; e > 0n; e >>= 1n) {
      if (e & 1n) r = (r * b) % P256_P;
      b = (b * b) % P256_P;
    }
    return r;
  };
  for (let x = 1n; ; x++) {
    const rhs = mod(x ** 3n - 3n * x + P256_B);
    const y = pow(rhs, (P256_P + 1n) / 4n); // p = 3 mod 4
    if ((y * y) % P256_P === rhs) return { x, y };
  }
}

function isCryptoError(code: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof CryptoError && e.code === code;
}

describe('ECKA-DH', () => {
  for (const curve of CURVES) {
    describe(curve, () => {
      it('both sides agree on a 32-byte x-coordinate', () => {
        const dp = generateKeyPair(curve);
        const euicc = generateKeyPair(curve);
        const onDp = ecka(dp.privateKey, pointFromPublicKey(euicc.publicKey), curve);
        const onEuicc = ecka(euicc.privateKey, pointFromPublicKey(dp.publicKey), curve);
        assert.equal(onDp.length, 32);
        assert.deepEqual(onDp, onEuicc);
      });

      it('matches an independent computation with node ECDH (raw scalar)', () => {
        const ours = generateKeyPair(curve);
        const peer = createECDH(NODE_NAME[curve]);
        peer.generateKeys();
        const expected = peer.computeSecret(pointFromPublicKey(ours.publicKey));
        assert.deepEqual(ecka(ours.privateKey, peer.getPublicKey(), curve), expected);
      });

      it('works with the SGP.26 eUICC test key', () => {
        const suffix = curve === 'P-256' ? 'NIST' : 'BRP';
        const sk = createPrivateKey(readFixture('sgp26', 'eUICC', `SK_EUICC_ECDSA_${suffix}.pem`));
        const dp = generateKeyPair(curve);
        assert.deepEqual(ecka(sk, pointFromPublicKey(dp.publicKey), curve), ecka(dp.privateKey, pointFromPublicKey(sk), curve));
      });

      it('rejects points that are malformed, compressed or not on the curve', () => {
        const { privateKey, publicKey } = generateKeyPair(curve);
        const point = pointFromPublicKey(publicKey);
        const offCurve = Buffer.from(point);
        offCurve[64] = (offCurve[64] ?? 0) ^ 0x01;
        const compressed = Buffer.concat([Buffer.of(0x02 | ((point[64] ?? 0) & 1)), point.subarray(1, 33)]);
        for (const [name, bad] of Object.entries({
          offCurve,
          compressed,
          zero: Buffer.concat([Buffer.of(4), Buffer.alloc(64)]),
          infinity: Buffer.of(0),
          truncated: point.subarray(0, 64),
        })) {
          assert.throws(() => ecka(privateKey, bad, curve), isCryptoError('INVALID_POINT'), name);
        }
      });
    });
  }

  for (const curve of CURVES) {
    describe(`OneTimeEckaKeyPair ${curve}`, () => {
      it('agrees with ecka() on the other side and with node ECDH, once', () => {
        const pair = new OneTimeEckaKeyPair(curve);
        assert.equal(pair.publicPoint.length, 65);
        assert.equal(pair.publicPoint[0], 0x04);
        const peer = generateKeyPair(curve);
        const ours = pair.agree(pointFromPublicKey(peer.publicKey));
        assert.equal(ours.length, 32);
        assert.deepEqual(ours, ecka(peer.privateKey, pair.publicPoint, curve));
        assert.throws(() => pair.agree(pointFromPublicKey(peer.publicKey)), isCryptoError('INVALID_KEY'));
        const other = new OneTimeEckaKeyPair(curve);
        const ecdh = createECDH(NODE_NAME[curve]);
        ecdh.generateKeys();
        assert.deepEqual(other.agree(ecdh.getPublicKey()), ecdh.computeSecret(other.publicPoint));
      });

      it('a retained pair agrees again (same secret) until discarded', () => {
        const pair = new OneTimeEckaKeyPair(curve);
        pair.retain();
        const peer = generateKeyPair(curve);
        const first = pair.agree(pointFromPublicKey(peer.publicKey));
        assert.deepEqual(pair.agree(pointFromPublicKey(peer.publicKey)), first);
        pair.discard();
        assert.throws(() => pair.agree(pointFromPublicKey(peer.publicKey)), isCryptoError('INVALID_KEY'));
      });

      it('rejects points that are malformed, compressed, out of range or not on the curve', () => {
        const point = pointFromPublicKey(generateKeyPair(curve).publicKey);
        const offCurve = Buffer.from(point);
        offCurve[64] = (offCurve[64] ?? 0) ^ 0x01;
        const largeX = Buffer.from(point);
        largeX.fill(0xff, 1, 33);
        const hybrid = Buffer.from(point);
        hybrid[0] = 0x06 | ((point[64] ?? 0) & 1);
        const compressed = Buffer.concat([Buffer.of(0x02 | ((point[64] ?? 0) & 1)), point.subarray(1, 33)]);
        const otherCurve = pointFromPublicKey(generateKeyPair(curve === 'P-256' ? 'brainpoolP256r1' : 'P-256').publicKey);
        const pair = new OneTimeEckaKeyPair(curve);
        for (const [name, bad] of Object.entries({
          offCurve,
          largeX,
          hybrid,
          compressed,
          otherCurve,
          zero: Buffer.concat([Buffer.of(4), Buffer.alloc(64)]),
          infinity: Buffer.of(0),
          truncated: point.subarray(0, 64),
          long: Buffer.concat([point, Buffer.of(0)]),
        })) {
          assert.throws(() => pair.agree(bad), isCryptoError('INVALID_POINT'), name);
        }
        // A refused point does not use the pair up.
        assert.equal(pair.agree(point).length, 32);
      });
    });
  }

  it('P-256: a coordinate x + p (congruent to a valid x) is out of range for ecka() and OneTimeEckaKeyPair', () => {
    const { x, y } = smallXPoint();
    const hex = (v: bigint): string => v.toString(16).padStart(64, '0');
    const valid = Buffer.from(`04${hex(x)}${hex(y)}`, 'hex');
    const aliased = Buffer.from(`04${hex(x + P256_P)}${hex(y)}`, 'hex');
    const { privateKey } = generateKeyPair('P-256');
    assert.equal(ecka(privateKey, valid, 'P-256').length, 32);
    assert.throws(() => ecka(privateKey, aliased, 'P-256'), isCryptoError('INVALID_POINT'));
    assert.throws(() => new OneTimeEckaKeyPair('P-256').agree(aliased), isCryptoError('INVALID_POINT'));
  });

  it('rejects a point of the other curve and a key of the wrong curve or type', () => {
    const nist = generateKeyPair('P-256');
    const brp = generateKeyPair('brainpoolP256r1');
    // A P-256 point is (with overwhelming probability) not on brainpoolP256r1.
    assert.throws(() => ecka(brp.privateKey, pointFromPublicKey(nist.publicKey), 'brainpoolP256r1'), isCryptoError('INVALID_POINT'));
    assert.throws(() => ecka(nist.privateKey, pointFromPublicKey(brp.publicKey), 'brainpoolP256r1'), isCryptoError('INVALID_KEY'));
    assert.throws(() => ecka(nist.publicKey, pointFromPublicKey(nist.publicKey), 'P-256'), isCryptoError('INVALID_KEY'));
  });
});
