// TS 33.102 6.3.2 with TS 33.401 6.1.1 and TS 33.501 6.1.3.2: the UMTS vector under E-UTRAN and 5G vectors, the AMF separation bit set.
import { generateAuthenticationVector, type AuthenticationVector } from '../crypto/authenticationVector.js';
import type { ServiceRestrictions, SubscriberInfo } from '../store/aucStore.js';
import type { AucContext } from './context.js';
import { sqnOfSeq } from './sqnGeneration.js';
import { subscriberAlgorithm } from './subscriberAlgorithm.js';

/** Bit 0 of AMF, the "separation bit": 1 for vectors used in E-UTRAN (TS 33.401 6.1.1) and 5G (TS 33.501 6.1.3.2). */
const AMF_SEPARATION_BIT = 0x80;

export interface AllocatedVector {
  readonly subscriber: SubscriberInfo;
  readonly vector: AuthenticationVector;
  readonly restrictions: ServiceRestrictions;
}

/**
 * Allocates the subscriber's next SQN (refused for a suspended subscriber) and computes RAND, XRES, CK, IK, AK and
 * AUTN with its algorithm; the AMF is the subscriber's with the separation bit set.
 */
export async function allocateAuthenticationVector(ctx: AucContext, imsi: string): Promise<AllocatedVector> {
  const { subscriber, secrets, seq } = await ctx.store.nextVectorMaterial(imsi, ctx.now());
  const amf = Buffer.from(subscriber.amf, 'hex');
  amf[0]! |= AMF_SEPARATION_BIT;
  const rand = ctx.random(16);
  const vector = generateAuthenticationVector(subscriberAlgorithm(secrets), rand, sqnOfSeq(seq, subscriber.indBits), amf);
  return { subscriber, vector, restrictions: subscriber.restrictions };
}
