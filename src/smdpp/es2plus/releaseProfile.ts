// ES2+.ReleaseProfile (SGP.22 5.3.4): a confirmed profile becomes downloadable; an already released one stays so (success, no change).
import type { Es2Request, Es2Response } from '../../http/es2plusFunctions.js';
import { ES2_SUBJECT } from '../../http/es2plusFunctions.js';
import { FunctionFailure } from '../../http/jsonBinding.js';
import type { ClientInfo } from '../../http/server.js';
import { identifyOperator, parseIccid, type Es2plusContext } from './context.js';

export async function releaseProfile(ctx: Es2plusContext, request: Es2Request<'releaseProfile'>, client: ClientInfo): Promise<Es2Response<'releaseProfile'>> {
  const tenant = await identifyOperator(ctx, client);
  const iccid = parseIccid(request.iccid);
  const outcome = await ctx.profiles.release(tenant.operator, iccid, ctx.now());
  if ('released' in outcome) return {};
  const profile = await ctx.profiles.get(tenant.operator, iccid);
  if (profile === undefined) throw new FunctionFailure(ES2_SUBJECT.iccid, '3.9', `no profile with ICCID ${iccid}`);
  if (profile.state === 'released') return {};
  throw new FunctionFailure(ES2_SUBJECT.iccid, '3.5', `profile ${iccid} is ${profile.state}: only a confirmed profile can be released`);
}
