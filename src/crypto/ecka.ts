// Elliptic curve key agreement ECKA-DH: the shared secret is the x-coordinate of d·Q (BSI TR-03111 4.3.1; SGP.22 2.6.4.1).
import { createECDH, diffieHellman, type ECDH, type KeyObject } from 'node:crypto';
import { checkUncompressedPoint, curveOfKey, opensslCurveName, publicKeyFromPoint, type EcCurve } from './ecdsa.js';
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

/**
 * A one-time ECKA key pair (otSK/otPK, SGP.22 2.6.4.1) that agrees once: a node:crypto ECDH object, so neither the
 * key pair nor the peer's point goes through a KeyObject (OpenSSL's DER encoder and decoder cost more than the
 * agreement). The private scalar never leaves OpenSSL and is dropped after the agreement.
 */
export class OneTimeEckaKeyPair {
  readonly curve: EcCurve;
  /** otPK as the uncompressed point 04 || x || y (65 bytes). */
  readonly publicPoint: Buffer;
  #ecdh: ECDH | undefined;
  #retained = false;

  constructor(curve: EcCurve) {
    this.curve = curve;
    this.#ecdh = createECDH(opensslCurveName(curve));
    this.publicPoint = this.#ecdh.generateKeys();
  }

  /**
   * The 32-byte x-coordinate of otSK·peerPoint. INVALID_POINT for a point that is malformed, has a coordinate out of
   * range or is not on the curve (OpenSSL's EC_POINT_oct2point checks both); INVALID_KEY once the pair has agreed.
   */
  agree(peerPoint: Uint8Array): Buffer {
    const ecdh = this.#ecdh;
    if (ecdh === undefined) throw new CryptoError('INVALID_KEY', 'this one-time key pair has already been used');
    checkUncompressedPoint(this.curve, peerPoint);
    let secret: Buffer;
    try {
      secret = ecdh.computeSecret(peerPoint);
    } catch (cause) {
      throw new CryptoError('INVALID_POINT', `not a valid ${this.curve} point (coordinate out of range or not on the curve)`, { cause });
    }
    if (!this.#retained) this.#ecdh = undefined;
    return secret;
  }

  /**
   * Keeps the private key after agreements until `discard` (SGP.22 5.7.5: the eUICC keeps otSK.EUICC.ECKA so that a
   * retried download bound to the same otPK.EUICC.ECKA can be installed).
   */
  retain(): void {
    this.#retained = true;
  }

  /** Drops the private key: no further agreement. */
  discard(): void {
    this.#ecdh = undefined;
    this.#retained = false;
  }
}
