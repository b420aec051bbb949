// ES2+.ConfirmOrder (SGP.22 5.3.2): an allocated or linked profile becomes an order (matching ID given, generated, or empty for the default SM-DP+), confirmed or released, with the server's order limits.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { ProfileClass } from '../../asn1/definitions/rsp.js';
import type { Es2Request, Es2Response } from '../../http/es2plusFunctions.js';
import { ES2_SUBJECT } from '../../http/es2plusFunctions.js';
import { FunctionFailure } from '../../http/jsonBinding.js';
import type { ClientInfo } from '../../http/server.js';
import { MIN_MATCHING_ID_LENGTH } from '../importProfile.js';
import { identifyOperator, parseEid, parseIccid, type Es2plusContext } from './context.js';

/** MatchingID (SGP.22 4.1.1): upper-case letters, digits and '-'. */
const MATCHING_ID = /^[-0-9A-Z]+$/;
const GENERATED_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const GENERATED_LENGTH = 25;

function generateMatchingId(): string {
  return Array.from({ length: GENERATED_LENGTH }, () => GENERATED_ALPHABET[randomInt(GENERATED_ALPHABET.length)]).join('');
}

export async function confirmOrder(ctx: Es2plusContext, request: Es2Request<'confirmOrder'>, client: ClientInfo): Promise<Es2Response<'confirmOrder'>> {
  const tenant = await identifyOperator(ctx, client);
  const iccid = parseIccid(request.iccid);
  const requestedEid = parseEid(request.eid);
  const now = ctx.now();
  const profile = await ctx.profiles.get(tenant.operator, iccid);
  if (profile === undefined) throw new FunctionFailure(ES2_SUBJECT.iccid, '3.9', `no profile with ICCID ${iccid}`);
  if (profile.state !== 'allocated' && profile.state !== 'linked') {
    // Not reserved by DownloadOrder (3.5), or already confirmed and beyond (3.3).
    const reason = profile.state === 'available' || profile.state === 'unavailable' ? '3.5' : '3.3';
    throw new FunctionFailure(ES2_SUBJECT.iccid, reason, `profile ${iccid} is ${profile.state}: ConfirmOrder needs an allocated or linked profile`);
  }
  // An EID given in DownloadOrder must be repeated unchanged (8.1.1 / 3.10).
  if (requestedEid !== undefined && profile.eid !== undefined && requestedEid !== profile.eid) {
    throw new FunctionFailure(ES2_SUBJECT.eid, '3.10', `profile ${iccid} is linked to another EID`);
  }
  const eid = requestedEid ?? profile.eid;
  const defaultSmdp = request.matchingId === '';
  if (defaultSmdp || request.smdsAddress !== undefined) {
    // The default SM-DP+ (empty matching ID) and the SM-DS use cases find the order by the eUICC's EID.
    if (eid === undefined) throw new FunctionFailure(ES2_SUBJECT.eid, '2.2', 'the EID is required for the default SM-DP+ (empty matchingId) and SM-DS use cases');
  }
  if (request.smdsAddress !== undefined) {
    // Event registration (ES12) needs an SM-DS client this SM-DP+ does not have: refused before anything changes.
    throw new FunctionFailure(ES2_SUBJECT.smds, '5.1', `SM-DS ${request.smdsAddress} cannot be reached: this SM-DP+ registers no SM-DS events (use the default SM-DP+ or an activation code)`);
  }
  let matchingId: string | undefined;
  if (!defaultSmdp) {
    matchingId = request.matchingId ?? generateMatchingId();
    if (!MATCHING_ID.test(matchingId)) throw new FunctionFailure(ES2_SUBJECT.matchingId, '2.1', 'a matchingId has upper-case letters, digits and - only');
    // A matching ID is a bearer secret unless the order is bound to an EID: a short one could be guessed.
    if (matchingId.length < MIN_MATCHING_ID_LENGTH && eid === undefined) {
      throw new FunctionFailure(ES2_SUBJECT.matchingId, '3.8', `a matchingId of an order without an EID has at least ${MIN_MATCHING_ID_LENGTH} characters (it could be guessed)`);
    }
  }
  if (request.confirmationCode !== undefined && request.confirmationCode.length === 0) {
    throw new FunctionFailure(ES2_SUBJECT.confirmationCode, '2.1', 'the confirmation code is empty');
  }
  const profilePackage = await ctx.profiles.openPackage(tenant.operator, iccid, now);
  if (profilePackage === undefined) throw new FunctionFailure(ES2_SUBJECT.iccid, '3.3', `profile ${iccid} is no longer allocated`);
  const { validityMs, maxDownloadAttempts } = ctx.limits;
  const outcome = await ctx.profiles.confirm(
    tenant.operator,
    iccid,
    {
      matchingId: matchingId ?? `eid-only:${randomBytes(16).toString('hex')}`,
      eidOnly: matchingId === undefined,
      iccid,
      eid,
      // SGP.22 3.1.3: the SM-DP+ keeps SHA-256(CC); the eUICC proves it with SHA-256(SHA-256(CC) || transactionId).
      ccHash: request.confirmationCode === undefined ? undefined : createHash('sha256').update(request.confirmationCode, 'utf8').digest(),
      profileName: `${profile.profileType} ${iccid}`,
      serviceProviderName: tenant.operator,
      profileClass: ProfileClass.operational,
      profilePackage,
      released: request.releaseFlag,
      expiresAt: validityMs === undefined ? undefined : now + validityMs,
      maxDownloadAttempts,
      operator: tenant.operator,
      profileType: profile.profileType,
    },
    now,
  );
  if ('confirmed' in outcome) return { ...(eid === undefined ? {} : { eid }), matchingId: matchingId ?? '', smdpAddress: ctx.address };
  if (outcome.refused === 'matching-id-in-use') throw new FunctionFailure(ES2_SUBJECT.matchingId, '3.3', 'the matchingId is already in use');
  if (outcome.refused === 'eid-mismatch') throw new FunctionFailure(ES2_SUBJECT.eid, '3.10', `profile ${iccid} is linked to another EID`);
  throw new FunctionFailure(ES2_SUBJECT.iccid, '3.3', `profile ${iccid} changed state while it was being confirmed`);
}
