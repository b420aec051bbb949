// ES9+.AuthenticateClient (SGP.22 5.6.3, common mutual authentication 3.0.1): verifies the eUICC, binds the session to it and its order, signs smdpSigned2.
import { decode, encode } from '../../asn1/schema.js';
import { AuthenticateServerResponse, SmdpSigned2, StoreMetadataRequest } from '../../asn1/definitions/rsp.js';
import { signPlain, verifyPlain } from '../../crypto/ecdsa.js';
import type { Es9Request, Es9Response } from '../../http/es9plusFunctions.js';
import { parseField } from '../../http/jsonBinding.js';
import { credentialForCi, sameAddress, signatureTlv, type SmdpContext } from '../context.js';
import { bppEuiccOtpkFor } from '../boundProfilePackageRetry.js';
import { admitDownload } from '../orderEligibility.js';
import { profileMetadata } from '../profileMetadata.js';
import { activeSession } from '../session.js';
import { FIELD_SUBJECT, fail } from '../statusCodes.js';
import { verifyEuiccChain } from '../verifyEuicc.js';
import type { Order } from '../../store/smdpStore.js';

/**
 * The order the eUICC asks for (SGP.22 3.1.2, 5.6.3): by the matchingId of ctxParams1 (activation code token or SM-DS
 * event ID), never an EID-only order; with no or an empty matchingId (default SM-DP+, SM-DS), the oldest released order
 * bound to the authenticated EID alone, 8.1.1/3.8 when there is none.
 */
async function findOrder(ctx: SmdpContext, matchingId: string | undefined, eid: string): Promise<Order> {
  if (matchingId === undefined || matchingId === '') {
    const order = await ctx.store.getEidOnlyOrder(eid);
    if (order === undefined) throw fail('eidRefused', `no pending order for the EID ${eid}`);
    return order;
  }
  const order = await ctx.store.getOrderByMatchingId(matchingId);
  if (order === undefined) throw fail('matchingIdRefused', 'unknown matchingId');
  return order;
}

export async function authenticateClient(ctx: SmdpContext, request: Es9Request<'authenticateClient'>): Promise<Es9Response<'authenticateClient'>> {
  const { transactionId } = request;
  const response = parseField('authenticateServerResponse', FIELD_SUBJECT.euicc, () =>
    decode(AuthenticateServerResponse, request.authenticateServerResponse),
  );
  const session = await activeSession(ctx, transactionId, ['initiated']);
  if (response.type === 'authenticateResponseError') {
    throw fail('euiccVerificationFailed', `the eUICC refused the server authentication (error ${response.value.authenticateErrorCode})`);
  }
  const ok = response.value;
  const signed = ok.euiccSigned1.value;
  if (!signed.transactionId.equals(transactionId)) throw fail('unknownTransaction', 'euiccSigned1 belongs to another transaction');

  const credential = credentialForCi(ctx, session.ciKeyId);
  if (credential === undefined) throw new Error(`session ${session.transactionId} names a CI this SM-DP+ no longer holds`);
  // Only the CI chosen for this session (euiccCiPKIdToBeUsed) anchors the eUICC's chain, not any CI we know.
  const euiccCi = ctx.trustedCis.find((ci) => ci.subjectKeyIdentifier?.toString('hex') === session.euiccCiKeyId);
  if (euiccCi === undefined) throw new Error(`session ${session.transactionId} names a CI this SM-DP+ no longer knows`);
  const chain = verifyEuiccChain(ctx, ok.euiccCertificate, ok.eumCertificate, [euiccCi]);
  if (!verifyPlain(chain.leaf.publicKey.key, ok.euiccSigned1.der, ok.euiccSignature1)) {
    throw fail('euiccVerificationFailed', 'euiccSignature1 does not verify');
  }
  if (!signed.serverChallenge.equals(session.serverChallenge)) throw fail('euiccVerificationFailed', 'serverChallenge is not the one this SM-DP+ sent');
  if (!sameAddress(signed.serverAddress, ctx.address)) throw fail('invalidSmdpAddress', `euiccSigned1 names the SM-DP+ '${signed.serverAddress}'`);

  const order = await findOrder(ctx, signed.ctxParams1.value.matchingId, chain.eid);
  if (order.eid !== undefined && order.eid !== chain.eid) throw fail('eidRefused', 'the order is for another eUICC');
  if (order.state === 'downloaded' || order.state === 'installed') throw fail('profileUnavailable', 'the profile has already been delivered');
  if (order.state === 'error' && order.ccHash !== undefined && order.ccAttempts >= ctx.maxConfirmationCodeAttempts) {
    throw fail('ccAttemptsExceeded', 'the confirmation code attempts are exhausted');
  }
  if (order.state !== 'released') throw fail('profileNotReleased', `the profile is not released (${order.state})`);
  await admitDownload(ctx, order, signed.euiccInfo2);

  const bppEuiccOtpk = bppEuiccOtpkFor(order, chain.eid);
  const smdpSigned2 = encode(SmdpSigned2, { transactionId, ccRequiredFlag: order.ccHash !== undefined, ...(bppEuiccOtpk ? { bppEuiccOtpk } : {}) });
  const smdpSignature2 = signPlain(credential.dpPb.privateKey, Buffer.concat([smdpSigned2, signatureTlv(ok.euiccSignature1)]));
  const bound = await ctx.store.authenticateSession(
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
