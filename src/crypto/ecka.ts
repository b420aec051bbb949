// Elliptic curve key agreement ECKA-DH: the shared secret is the x-coordinate of d·Q (BSI TR-03111 4.3.1; SGP.22 2.6.4.1).
import { diffieHellman, type KeyObject } from 'node:crypto';
import { curveOfKey, publicKeyFromPoint, type EcCurve } from './ecdsa.js';
import { CryptoError } from './errors.js';

/**
 * ECKA-DH between our private key and the peer's uncompressed point (04 || x || y, 65 bytes) on `curve`.
 * Returns the 32-byte x-coordinate. Throws INVALID_POINT for a point that is malformed or not on the
 * curve, INVALID_KEY when `privateKey` is not a private key on `curve`.
 */
export function ecka(privateKey: KeyObject, peerPoint: Uint8Array, curve: EcCurve): Buffer {
  if (privateKey.type !== 'private') throw new CryptoError('INVALID_KEY', 'ECKA needs a private key');
  const keyCurve = curveOfKey(privateKey);
  if (keyCurve !== curve) {
    throw new CryptoError('INVALID_KEY', `private key is on ${keyCurve}, the peer point on ${curve}`);
  }
  return diffieHellman({ privateKey, publicKey: publicKeyFromPoint(curve, peerPoint) });
}
