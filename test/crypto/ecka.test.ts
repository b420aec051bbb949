// ECKA-DH key agreement on P-256 and brainpoolP256r1 (BSI TR-03111 4.3.1; SGP.22 2.6.4.1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, createPrivateKey } from 'node:crypto';
import { ecka } from '../../src/crypto/ecka.js';
import { generateKeyPair, pointFromPublicKey, type EcCurve } from '../../src/crypto/ecdsa.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { readFixture } from '../helpers/fixtures.js';

const CURVES: readonly EcCurve[] = ['P-256', 'brainpoolP256r1'];
const NODE_NAME: Record<EcCurve, string> = { 'P-256': 'prime256v1', brainpoolP256r1: 'brainpoolP256r1' };

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

  it('rejects a point of the other curve and a key of the wrong curve or type', () => {
    const nist = generateKeyPair('P-256');
    const brp = generateKeyPair('brainpoolP256r1');
    // A P-256 point is (with overwhelming probability) not on brainpoolP256r1.
    assert.throws(() => ecka(brp.privateKey, pointFromPublicKey(nist.publicKey), 'brainpoolP256r1'), isCryptoError('INVALID_POINT'));
    assert.throws(() => ecka(nist.privateKey, pointFromPublicKey(brp.publicKey), 'brainpoolP256r1'), isCryptoError('INVALID_KEY'));
    assert.throws(() => ecka(nist.publicKey, pointFromPublicKey(nist.publicKey), 'P-256'), isCryptoError('INVALID_KEY'));
  });
});
