// ECDSA sign/verify (plain r||s, TR-03111) and ECKA-DH per second on both curves, against `openssl speed`.
import { OneTimeEckaKeyPair, ecka } from '../src/crypto/ecka.js';
import { generateKeyPair, pointFromPublicKey, signPlain, verifyPlain, type EcCurve } from '../src/crypto/ecdsa.js';
import { measure, opensslEcdh, opensslEcdsa, report } from './lib.js';

export function benchEcdsa(seconds: number): void {
  for (const curve of ['P-256', 'brainpoolP256r1'] as EcCurve[]) {
    const { privateKey, publicKey } = generateKeyPair(curve);
    const peer = generateKeyPair(curve);
    const peerPoint = pointFromPublicKey(peer.publicKey);
    const data = Buffer.alloc(200, 0x5a);
    const sig = signPlain(privateKey, data);
    const native = opensslEcdsa(curve);
    report({
      name: `ECDSA ${curve} sign`,
      value: measure(() => signPlain(privateKey, data), seconds),
      unit: 'ops/s',
      limitName: 'openssl speed',
      limit: native.sign,
    });
    report({
      name: `ECDSA ${curve} verify`,
      value: measure(() => {
        if (!verifyPlain(publicKey, data, sig)) throw new Error('verify failed');
      }, seconds),
      unit: 'ops/s',
      limitName: 'openssl speed',
      limit: native.verify,
    });
    const ecdh = opensslEcdh(curve);
    report({
      name: `ECKA-DH ${curve}`,
      value: measure(() => ecka(privateKey, peerPoint, curve), seconds),
      unit: 'ops/s',
      limitName: 'openssl speed',
      limit: ecdh,
    });
    // The SM-DP+'s side of a BPP: a fresh one-time key pair, then one agreement with otPK.EUICC.
    report({
      name: `ECKA-DH ${curve} one-time pair + agree`,
      value: measure(() => new OneTimeEckaKeyPair(curve).agree(peerPoint), seconds),
      unit: 'ops/s',
      limitName: 'openssl speed (agree only)',
      limit: ecdh,
    });
  }
}
