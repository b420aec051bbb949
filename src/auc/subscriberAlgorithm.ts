// TS 35.206 (Milenage) and TS 35.231 (TUAK): the f-functions of one subscriber, bound to its K and OPc/TOPc.
import type { AkaAlgorithm } from '../crypto/authenticationVector.js';
import { Milenage } from '../crypto/milenage.js';
import { Tuak } from '../crypto/tuak.js';
import type { SubscriberSecrets } from '../store/aucStore.js';

/** Milenage over (K, OPc), or TUAK over (K, TOPc) with the subscriber's lengths and Keccak iterations. */
export function subscriberAlgorithm(secrets: SubscriberSecrets): AkaAlgorithm {
  if (secrets.algorithm === 'milenage') return new Milenage(secrets.k, secrets.opc);
  const t = secrets.tuak!;
  return new Tuak(secrets.k, secrets.opc, {
    macBits: (t.macLength * 8) as 64 | 128 | 256,
    resBits: (t.resLength * 8) as 32 | 64 | 128 | 256,
    ckBits: (t.ckLength * 8) as 128 | 256,
    ikBits: (t.ikLength * 8) as 128 | 256,
    keccakIterations: t.keccakIterations,
  });
}
