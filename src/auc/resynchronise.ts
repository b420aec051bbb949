// TS 33.102 6.3.5 (and TS 33.501 6.1.3.3.2): re-synchronisation: verify MAC-S in AUTS, recover SQN_MS, bring SEQ_HE up to SEQ_MS, then a fresh vector.
import { verifyAuts } from '../crypto/authenticationVector.js';
import type { AucContext } from './context.js';
import { AucError } from './errors.js';
import { generate5gVector, type FiveGAuthenticationVector } from './generate5gVector.js';
import { generateEpsVector, type EpsAuthenticationVector, type ServingPlmn } from './generateEpsVector.js';
import { seqOfSqn } from './sqnGeneration.js';
import { subscriberAlgorithm } from './subscriberAlgorithm.js';

/** The vector to hand out once the SQN is re-synchronised. */
export type ResyncTarget = { readonly type: 'eps'; readonly plmn: ServingPlmn } | { readonly type: '5g'; readonly servingNetworkName: string };

export type ResyncResult =
  | { readonly type: 'eps'; readonly sqnMs: Buffer; readonly vector: EpsAuthenticationVector }
  | { readonly type: '5g'; readonly sqnMs: Buffer; readonly vector: FiveGAuthenticationVector };

/**
 * `rand` is the RAND of the vector the USIM refused, `auts` its AUTS. A MAC-S that does not verify is CryptoError
 * MAC_FAILURE and changes nothing. SEQ_HE only moves up (to SEQ_MS): an SQN once handed out is never handed out again.
 */
export async function resynchronise(ctx: AucContext, imsi: string, rand: Uint8Array, auts: Uint8Array, target: ResyncTarget): Promise<ResyncResult> {
  if (rand.length !== 16) throw new AucError('INVALID_ARGUMENT', `RAND must be 16 bytes, got ${rand.length}`);
  const { subscriber, secrets } = await ctx.store.activeSubscriberSecrets(imsi, ctx.now());
  const sqnMs = verifyAuts(subscriberAlgorithm(secrets), rand, auts);
  await ctx.store.raiseSeqHe(imsi, seqOfSqn(sqnMs, subscriber.indBits), ctx.now());
  if (target.type === 'eps') return { type: 'eps', sqnMs, vector: await generateEpsVector(ctx, imsi, target.plmn) };
  return { type: '5g', sqnMs, vector: await generate5gVector(ctx, imsi, target.servingNetworkName) };
}
