// ES2+.CancelOrder (SGP.22 5.3.3): withdraws a pending order; the profile goes back to stock (Available) or out of it for good (Unavailable).
import type { Es2Request, Es2Response } from '../../http/es2plusFunctions.js';
import { ES2_SUBJECT } from '../../http/es2plusFunctions.js';
import { FunctionFailure } from '../../http/jsonBinding.js';
import type { ClientInfo } from '../../http/server.js';
import { CANCELLABLE_STATES } from '../../store/operatorProfiles.js';
import { identifyOperator, parseEid, parseIccid, type Es2plusContext } from './context.js';

const FINAL_STATES = { Available: 'available', Unavailable: 'unavailable' } as const;

export async function cancelOrder(ctx: Es2plusContext, request: Es2Request<'cancelOrder'>, client: ClientInfo): Promise<Es2Response<'cancelOrder'>> {
  const tenant = await identifyOperator(ctx, client);
  const iccid = parseIccid(request.iccid);
  const eid = parseEid(request.eid);
  const indicator = request.finalProfileStatusIndicator;
  if (!Object.hasOwn(FINAL_STATES, indicator)) {
    throw new FunctionFailure(ES2_SUBJECT.function, '2.1', `finalProfileStatusIndicator is Available or Unavailable, got '${indicator}'`);
  }
  const final = FINAL_STATES[indicator as keyof typeof FINAL_STATES];
  const profile = await ctx.profiles.get(tenant.operator, iccid);
  if (profile === undefined) throw new FunctionFailure(ES2_SUBJECT.iccid, '3.9', `no profile with ICCID ${iccid}`);
  if (profile.state === 'downloaded' || profile.state === 'installed' || profile.state === 'deleted') {
    throw new FunctionFailure(ES2_SUBJECT.iccid, '3.3', `profile ${iccid} is already downloaded (${profile.state})`);
  }
  if (!CANCELLABLE_STATES.includes(profile.state)) throw new FunctionFailure(ES2_SUBJECT.iccid, '3.5', `profile ${iccid} is ${profile.state}: there is no order to cancel`);
  // The EID and matching ID SHALL be given when the order has them, and be its own (SGP.22 5.3.3).
  if (profile.eid !== undefined && eid === undefined) throw new FunctionFailure(ES2_SUBJECT.eid, '2.3', `profile ${iccid} is linked to an EID: give it`);
  if (eid !== undefined && eid !== profile.eid) throw new FunctionFailure(ES2_SUBJECT.iccid, '3.10', `profile ${iccid} is not associated with this EID`);
  if (profile.matchingId !== undefined && request.matchingId === undefined) {
    throw new FunctionFailure(ES2_SUBJECT.matchingId, '2.3', `the order of profile ${iccid} has a matching ID: give it`);
  }
  const presented = request.matchingId === '' ? undefined : request.matchingId;
  if (presented !== profile.matchingId && request.matchingId !== undefined) {
    throw new FunctionFailure(ES2_SUBJECT.matchingId, '3.10', `the matching ID is not that of profile ${iccid}'s order`);
  }
  const outcome = await ctx.profiles.cancel(tenant.operator, iccid, final, ctx.now());
  if ('cancelled' in outcome) return {};
  throw new FunctionFailure(ES2_SUBJECT.iccid, '3.3', `profile ${iccid} changed state while its order was being cancelled`);
}
