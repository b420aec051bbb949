// ES9+.AuthenticateClient (SGP.22 5.6.3, common mutual authentication 3.0.1): verifies the eUICC, binds the session to it and its order, signs smdpSigned2.
import { decode, encode } from '../../asn1/schema.js';
import { AuthenticateServerResponse, SmdpSigned2, StoreMetadataRequest } from '../../asn1/definitions/rsp.js';
import { signPlain, verifyPlain } from '../../crypto/ecdsa.js';
import type { Es9Request, Es9Response } from '../../http/es9plusFunctions.js';
import { parseField } from '../../http/jsonBinding.js';
import type { ClientInfo } from '../../http/server.js';
import { credentialForCi, sameAddress, signatureTlv, type SmdpContext } from '../context.js';
import { bppEuiccOtpkFor } from '../boundProfilePackageRetry.js';
import { admitDownload } from '../orderEligibility.js';
import { profileMetadata } from '../profileMetadata.js';
import { matchingIdLockoutHit, matchingIdLockoutKeys, recordAuthenticationFailure, recordMatchingIdFailure } from '../rateLimit.js';
import { activeSession } from '../session.js';
import { FIELD_SUBJECT, fail } from '../statusCodes.js';
import { verifyEuiccChain } from '../verifyEuicc.js';
import type { Order, Session } from '../../store/smdpStore.js';

const UNKNOWN_MATCHING_ID = 'unknown matchingId';

/**
 * The order the eUICC asks for (SGP.22 3.1.2, 5.6.3): by the matchingId of ctxParams1 (activation code token or SM-DS
 * event ID), never an EID-only order; with no or an empty matchingId (default SM-DP+, SM-DS), the oldest released order
 * bound to the authenticated EID alone, 8.1.1/3.8 when there is none.
 *
 * A matchingId that names no order (8.2.6/3.8) or an order for another EID (8.1.1/3.8) counts as a failure against the
 * EID and the source (src/smdpp/rateLimit.ts); while either is locked out, every matchingId is refused 8.2.6/3.8 with
 * the same message, the order unread (one statement checks the lockouts and reads the order): a guesser cannot tell a lockout from a wrong guess, and a right guess tells it
 * nothing. The operator sees lockouts with `mcim smdpp lockouts`. No matchingId is nothing to guess: not counted.
 */
async function findOrder(ctx: SmdpContext, matchingId: string | undefined, eid: string, client: ClientInfo): Promise<Order> {
  if (matchingId === undefined || matchingId === '') {
    const order = await ctx.store.orders.getEidOnly(eid);
    if (order === undefined) throw fail('eidRefused', `no pending order for the EID ${eid}`);
    return order;
  }
  const found = await ctx.store.orders.getByMatchingIdUnlessLocked(matchingId, matchingIdLockoutKeys(eid, client.address), ctx.now());
  if (found.lockout !== undefined) {
    matchingIdLockoutHit(ctx, found.lockout, client.address);
    throw fail('matchingIdRefused', UNKNOWN_MATCHING_ID);
  }
  const order = found.order;
  if (order === undefined) {
    await recordMatchingIdFailure(ctx, eid, client.address);
    throw fail('matchingIdRefused', UNKNOWN_MATCHING_ID);
  }
  if (order.eid !== undefined && order.eid !== eid) {
    await recordMatchingIdFailure(ctx, eid, client.address);
    throw fail('eidRefused', 'the order is for another eUICC');
  }
  return order;
}

/**
 * Takes the session (initiated -> authenticating) in one statement; when that fails, says why as activeSession does
 * (unknown, expired, in another state), or that another call took it first.
 */
async function claim(ctx: SmdpContext, transactionId: Buffer, client: ClientInfo): Promise<Session> {
  const id = transactionId.toString('hex').toUpperCase();
  const claimed = await ctx.store.sessions.claim(id, ctx.now());
  if (claimed !== undefined) return claimed;
  await activeSession(ctx, transactionId, ['initiated'], client.notes);
  throw fail('unknownTransaction', `transactionId ${id} is already being authenticated or has ended`);
}

/**
 * One call takes the session (initiated -> authenticating, atomically); any refusal after that ends it (failed): the
 * eUICC starts again with InitiateAuthentication, and another AuthenticateClient on the transactionId gets 8.10.1/3.9.
 * A failed eUICC authentication also counts against the source (src/smdpp/rateLimit.ts).
 */
export async function authenticateClient(
  ctx: SmdpContext,
  request: Es9Request<'authenticateClient'>,
  client: ClientInfo,
): Promise<Es9Response<'authenticateClient'>> {
  const response = parseField('authenticateServerResponse', FIELD_SUBJECT.euicc, () =>
    decode(AuthenticateServerResponse, request.authenticateServerResponse),
  );
  const session = await claim(ctx, request.transactionId, client);
  try {
    return await authenticate(ctx, request.transactionId, response, session, client);
  } catch (e) {
    await ctx.store.sessions.setState(session.transactionId, ['authenticating'], 'failed');
    // An eUICC's error answer costs no verification: counting it would let anyone lock a shared address out for free.
    if (response.type !== 'authenticateResponseError') await recordAuthenticationFailure(ctx, e, client.address);
    throw e;
  }
}

async function authenticate(
  ctx: SmdpContext,
  transactionId: Buffer,
  response: AuthenticateServerResponse,
  session: Session,
  client: ClientInfo,
): Promise<Es9Response<'authenticateClient'>> {
  if (response.type === 'authenticateResponseError') {
    throw fail('euiccVerificationFailed', `the eUICC refused the server authentication (error ${response.value.authenticateErrorCode})`);
  }
  const ok = response.value;
  const signed = ok.euiccSigned1.value;
  if (!signed.transactionId.equals(transactionId)) throw fail('unknownTransaction', 'euiccSigned1 belongs to another transaction');

  const credential = credentialForCi(ctx, session.ciKeyId);
  if (credential === undefined) throw new Error(`session ${session.transactionId} names a CI this SM-DP+ no longer holds`);
  // Only the CI chosen for this session (euiccCiPKIdToBeUsed) anchors the eUICC's chain, not any CI we know.
  const euiccCi = ctx.trustedCisByKeyId.get(session.euiccCiKeyId);
  if (euiccCi === undefined) throw new Error(`session ${session.transactionId} names a CI this SM-DP+ no longer knows`);
  const chain = verifyEuiccChain(ctx, ok.euiccCertificate, ok.eumCertificate, [euiccCi]);
  if (!verifyPlain(chain.leaf.publicKey.key, ok.euiccSigned1.der, ok.euiccSignature1)) {
    throw fail('euiccVerificationFailed', 'euiccSignature1 does not verify');
  }
  // Named in logs only now: an eUICC certificate is public, a signature by its key is not.
  client.notes.eid = chain.eid;
  if (!signed.serverChallenge.equals(session.serverChallenge)) throw fail('euiccVerificationFailed', 'serverChallenge is not the one this SM-DP+ sent');
  if (!sameAddress(signed.serverAddress, ctx.address)) throw fail('invalidSmdpAddress', `euiccSigned1 names the SM-DP+ '${signed.serverAddress}'`);

  const order = await findOrder(ctx, signed.ctxParams1.value.matchingId, chain.eid, client);
  if (order.state === 'downloaded' || order.state === 'installed') throw fail('profileUnavailable', 'the profile has already been delivered');
  if (order.state === 'error' && order.ccHash !== undefined && order.ccAttempts >= ctx.maxConfirmationCodeAttempts) {
    throw fail('ccAttemptsExceeded', 'the confirmation code attempts are exhausted');
  }
  if (order.state !== 'released') throw fail('profileNotReleased', `the profile is not released (${order.state})`);
  await admitDownload(ctx, order, signed.euiccInfo2, chain.eid);

  const bppEuiccOtpk = bppEuiccOtpkFor(order, chain.eid);
  const smdpSigned2 = encode(SmdpSigned2, { transactionId, ccRequiredFlag: order.ccHash !== undefined, ...(bppEuiccOtpk ? { bppEuiccOtpk } : {}) });
  const smdpSignature2 = signPlain(credential.dpPb.privateKey, Buffer.concat([smdpSigned2, signatureTlv(ok.euiccSignature1)]));
  const bound = await ctx.store.sessions.authenticate(
    session.transactionId,
    { eid: chain.eid, euiccCertificate: chain.leaf.der, matchingId: order.matchingId, smdpSignature2 },
    ctx.now(),
  );
  if (!bound) throw fail('unknownTransaction', 'the session has already been authenticated or has expired');
  return {
    transactionId,
    profileMetadata: encode(StoreMetadataRequest, profileMetadata(order, ctx.address)),
    smdpSigned2,
    smdpSignature2: signatureTlv(smdpSignature2),
    smdpCertificate: credential.dpPb.certificate.der,
  };
}
