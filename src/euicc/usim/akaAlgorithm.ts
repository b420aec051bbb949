// TCA SAIP PE-AKAParameter (AlgoParameter) to the USIM's f1-f5* (TS 35.206 Milenage, TS 35.231 TUAK, TS 34.108 8.1.2 test algorithm) and its SQN check (TS 33.102 Annex C).
import type { AkaEssentials } from '../../asn1/definitions/saip.js';
import type { AkaAlgorithm } from '../../crypto/authenticationVector.js';
import { Milenage } from '../../crypto/milenage.js';
import { SqnFreshnessState, type SqnFreshnessOptions } from '../../crypto/sqnFreshness.js';
import { TestAlgorithm } from '../../crypto/testAlgorithm.js';
import { Tuak, type TuakParams } from '../../crypto/tuak.js';
import { CardError } from '../apdu.js';

const DEFAULT_ROTATION = '4000204060';
const DEFAULT_XORING = `${'0'.repeat(32)}${'0'.repeat(31)}1${'0'.repeat(31)}2${'0'.repeat(31)}4${'0'.repeat(31)}8`;
/** IND length: sqnInit holds 32 SEQ values (SAIP), so 5 bits. */
const IND_BITS = 5;

/**
 * TUAK output lengths from algorithmOptions, as mcim reads the octet (PEDefinitions gives no coding):
 * b3-b1 RES (000 32, 001 64, 010 128, 011 256 bits), b5-b4 MAC (00 64, 01 128, 10 256), b6 CK 256, b7 IK 256.
 */
export function tuakParams(algorithmOptions: number, keccakIterations: number): TuakParams {
  const res = ([32, 64, 128, 256] as const)[algorithmOptions & 0x07];
  const mac = ([64, 128, 256] as const)[(algorithmOptions >> 3) & 0x03];
  if (res === undefined || mac === undefined) {
    throw new CardError('CONDITIONS_OF_USE_NOT_SATISFIED', `TUAK algorithmOptions ${algorithmOptions.toString(16)} names no RES or MAC length`);
  }
  return {
    resBits: res,
    macBits: mac,
    ckBits: (algorithmOptions & 0x20) !== 0 ? 256 : 128,
    ikBits: (algorithmOptions & 0x40) !== 0 ? 256 : 128,
    keccakIterations,
  };
}

/** The f-functions of a profile's USIM. Milenage with other than the default constants is refused (6985). */
export function akaAlgorithmOf(aka: AkaEssentials): AkaAlgorithm {
  switch (aka.algorithm) {
    case 'milenage':
      if (aka.rotationConstants.toString('hex') !== DEFAULT_ROTATION || aka.xoringConstants.toString('hex') !== DEFAULT_XORING) {
        throw new CardError('CONDITIONS_OF_USE_NOT_SATISFIED', 'Milenage with operator-specific rotation or XOR constants is not supported');
      }
      return new Milenage(aka.key, aka.opc);
    case 'tuak':
      return new Tuak(aka.key, aka.opc, tuakParams(aka.algorithmOptions, aka.numberOfKeccak));
    case 'test':
      return new TestAlgorithm(aka.key);
  }
}

/** Largest SEQ difference with 5 IND bits (SAIP: sqnDelta and sqnAgeLimit at most 07FFFFFFFFFF). */
const MAX_SEQ_LIMIT = 2 ** (48 - IND_BITS) - 1;

/**
 * The USIM's SQN array (TS 33.102 Annex C.2) restored from the sealed SEQ values: sqnDelta and sqnAgeLimit (SEQ
 * units, capped at 07FFFFFFFFFF) apply to Milenage and TUAK; SAIP ignores them for the test algorithm.
 */
export function sqnStateOf(aka: AkaEssentials, seq: readonly number[]): SqnFreshnessState {
  const options: SqnFreshnessOptions = { indBits: IND_BITS };
  if (aka.algorithm !== 'test') {
    if (aka.sqnDelta > 0) options.delta = Math.min(aka.sqnDelta, MAX_SEQ_LIMIT);
    if (aka.sqnAgeLimit > 0) options.ageLimit = Math.min(aka.sqnAgeLimit, MAX_SEQ_LIMIT);
  }
  return new SqnFreshnessState(options, seq);
}
