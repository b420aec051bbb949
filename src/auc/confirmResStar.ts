// TS 33.501 6.1.3.2 steps 10-12: the AUSF/UDM compares the RES* the UE returned with the stored XRES* of that authentication.
import { timingSafeEqual } from 'node:crypto';
import type { AucContext } from './context.js';
import { AucError } from './errors.js';

export interface ResStarConfirmation {
  readonly supi: string;
  readonly servingNetworkName: string;
}

/**
 * Confirms the authentication `authCtxId` once: it is taken from the pending ones whatever the outcome, so a RES* is
 * tried at most once. Unknown, confirmed or expired: AUTHENTICATION_NOT_FOUND; RES* other than XRES*: RES_STAR_MISMATCH.
 */
export async function confirmResStar(ctx: AucContext, authCtxId: string, resStar: Uint8Array): Promise<ResStarConfirmation> {
  if (resStar.length !== 16) throw new AucError('INVALID_ARGUMENT', `RES* must be 16 bytes, got ${resStar.length}`);
  const pending = await ctx.store.takePendingAuthentication(authCtxId, ctx.now());
  if (pending === undefined) throw new AucError('AUTHENTICATION_NOT_FOUND', `no authentication ${authCtxId.slice(0, 8)}… waits for RES*`);
  if (!timingSafeEqual(pending.xresStar, resStar)) throw new AucError('RES_STAR_MISMATCH', 'RES* does not match XRES*: authentication failed');
  return { supi: `imsi-${pending.imsi}`, servingNetworkName: pending.servingNetworkName };
}
