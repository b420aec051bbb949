// ES2+.DownloadOrder (SGP.22 5.3.1): reserves a profile of the operator's stock, by ICCID or by profile type, allocated, or linked to an EID.
import type { Es2Request, Es2Response } from '../../http/es2plusFunctions.js';
import { ES2_SUBJECT } from '../../http/es2plusFunctions.js';
import { FunctionFailure } from '../../http/jsonBinding.js';
import type { ClientInfo } from '../../http/server.js';
import { identifyOperator, parseEid, parseIccid, type Es2plusContext } from './context.js';

export async function downloadOrder(ctx: Es2plusContext, request: Es2Request<'downloadOrder'>, client: ClientInfo): Promise<Es2Response<'downloadOrder'>> {
  const tenant = await identifyOperator(ctx, client);
  const eid = parseEid(request.eid);
  const iccid = request.iccid === undefined ? undefined : parseIccid(request.iccid);
  const { profileType } = request;
  if (iccid === undefined && profileType === undefined) {
    throw new FunctionFailure(ES2_SUBJECT.iccid, '2.3', 'neither iccid nor profileType: one of them is required');
  }
  const now = ctx.now();
  if (iccid !== undefined) {
    // Both given: the ICCID must be of that type (8.2.5 / 3.8).
    if (profileType !== undefined) {
      const profile = await ctx.profiles.get(tenant.operator, iccid);
      if (profile !== undefined && profile.profileType !== profileType) {
        throw new FunctionFailure(ES2_SUBJECT.profileType, '3.8', `profile ${iccid} is not of profile type '${profileType}'`);
      }
    }
    const outcome = await ctx.profiles.allocate(tenant.operator, { iccid, ...(eid === undefined ? {} : { eid }) }, now);
    if ('allocated' in outcome) return { iccid: outcome.allocated.iccid };
    // Another operator's ICCID is unknown to this one: the same answer as an ICCID no one has.
    if (outcome.refused === 'iccid-unknown') throw new FunctionFailure(ES2_SUBJECT.iccid, '3.9', `no profile with ICCID ${iccid}`);
    throw new FunctionFailure(ES2_SUBJECT.iccid, '3.3', `profile ${iccid} is not available`);
  }
  const outcome = await ctx.profiles.allocate(tenant.operator, { profileType: profileType!, ...(eid === undefined ? {} : { eid }) }, now);
  if ('allocated' in outcome) return { iccid: outcome.allocated.iccid };
  if (outcome.refused === 'type-unknown') throw new FunctionFailure(ES2_SUBJECT.profileType, '3.9', `no profile type '${profileType}'`);
  throw new FunctionFailure(ES2_SUBJECT.profileType, '3.7', `no more profiles of type '${profileType}' available`);
}
