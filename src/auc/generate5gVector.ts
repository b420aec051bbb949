// TS 33.501 6.1.3.2 steps 2-5 and Annex A.2, A.4-A.6: the 5G HE AV (RAND, AUTN, XRES*, KAUSF), HXRES* and KSEAF; XRES* kept for confirmation.
import { deriveHxresStar, deriveKausf, deriveKseaf, deriveResStar } from '../crypto/keyDerivation5g.js';
import type { ServiceRestrictions } from '../store/aucStore.js';
import { allocateAuthenticationVector } from './authenticationVector.js';
import type { AucContext } from './context.js';
import { AucError } from './errors.js';

/** "5G:mnc<3 digits>.mcc<3 digits>.3gppnetwork.org" (TS 24.501 9.12.1). */
export const SERVING_NETWORK_NAME = /^5G:mnc\d{3}\.mcc\d{3}\.3gppnetwork\.org$/;

export interface FiveGAuthenticationVector {
  /** Names this authentication in its confirmation (RES*). */
  readonly authCtxId: string;
  readonly supi: string;
  readonly servingNetworkName: string;
  readonly rand: Buffer;
  readonly autn: Buffer;
  readonly hxresStar: Buffer;
  readonly kausf: Buffer;
  readonly kseaf: Buffer;
  readonly restrictions: ServiceRestrictions;
  /** When the authentication stops waiting for RES* (ms since the epoch). */
  readonly expiresAt: number;
}

export async function generate5gVector(ctx: AucContext, imsi: string, servingNetworkName: string): Promise<FiveGAuthenticationVector> {
  if (!SERVING_NETWORK_NAME.test(servingNetworkName)) {
    throw new AucError('INVALID_ARGUMENT', `serving network name must be 5G:mncNNN.mccNNN.3gppnetwork.org, got "${servingNetworkName.slice(0, 80)}"`);
  }
  const { vector, restrictions } = await allocateAuthenticationVector(ctx, imsi);
  const { rand, ck, ik, autn } = vector;
  const xresStar = deriveResStar(ck, ik, servingNetworkName, rand, vector.xres);
  const kausf = deriveKausf(ck, ik, servingNetworkName, autn.subarray(0, 6));
  const authCtxId = ctx.random(16).toString('hex');
  const now = ctx.now();
  const expiresAt = now + ctx.pendingTtlMs;
  await ctx.store.addPendingAuthentication({ authCtxId, imsi, servingNetworkName, xresStar, expiresAt }, ctx.maxPendingPerSubscriber, now);
  return {
    authCtxId,
    supi: `imsi-${imsi}`,
    servingNetworkName,
    rand,
    autn,
    hxresStar: deriveHxresStar(rand, xresStar),
    kausf,
    kseaf: deriveKseaf(kausf, servingNetworkName),
    restrictions,
    expiresAt,
  };
}
