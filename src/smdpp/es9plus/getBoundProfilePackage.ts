// ES9+.GetBoundProfilePackage (SGP.22 5.6.2, procedure 3.1.3): verifies euiccSignature2 and the confirmation code, binds and delivers the profile once.
import { createHash, timingSafeEqual } from 'node:crypto';
import { decode } from '../../asn1/schema.js';
import { PrepareDownloadResponse } from '../../asn1/definitions/rsp.js';
import { verifyPlain, type EcCurve } from '../../crypto/ecdsa.js';
import { CryptoError } from '../../crypto/errors.js';
import { parseField, type RequestFields } from '../../http/jsonBinding.js';
import { bindProfilePackage } from '../bindProfilePackage.js';
import { credentialForCi, signatureTlv, type SmdpContext } from '../context.js';
import { profileMetadata } from '../profileMetadata.js';
import { activeSession } from '../session.js';
import { FIELD_SUBJECT, fail } from '../statusCodes.js';
import type { Order } from '../../store/smdpStore.js';

/** hashCc = SHA-256(SHA-256(CC) || transactionId) (SGP.22 3.1.3.4). */
function expectedHashCc(ccHash: Buffer, transactionId: Buffer): Buffer {
  return createHash('sha256').update(ccHash).update(transactionId).digest();
}

async function checkConfirmationCode(ctx: SmdpContext, order: Order, transactionId: Buffer, hashCc: Buffer | undefined): Promise<void> {
  if (order.ccHash === undefined) return;
  const sessionId = transactionId.toString('hex').toUpperCase();
  if (hashCc === undefined) {
    await ctx.store.setSessionState(sessionId, ['authenticated'], 'failed');
    throw fail('ccMissing', 'this order requires a confirmation code');
  }
  if (timingSafeEqual(hashCc, expectedHashCc(order.ccHash, transactionId))) return;
  await ctx.store.setSessionState(sessionId, ['authenticated'], 'failed');
  const failure = await ctx.store.recordCcFailure(order.matchingId, ctx.maxConfirmationCodeAttempts, ctx.now());
  if (failure === undefined || failure.locked) throw fail('ccAttemptsExceeded', 'the confirmation code attempts are exhausted');
  throw fail('ccRefused', `wrong confirmation code (${ctx.maxConfirmationCodeAttempts - failure.attempts} attempts left)`);
}

export async function getBoundProfilePackage(ctx: SmdpContext, fields: RequestFields): Promise<{ body: Record<string, unknown> }> {
  const transactionId = fields.hex('transactionId', FIELD_SUBJECT.transactionId, 16);
  const response = parseField('prepareDownloadResponse', FIELD_SUBJECT.euicc, () =>
    decode(PrepareDownloadResponse, fields.base64('prepareDownloadResponse', FIELD_SUBJECT.euicc)),
  );
  const session = await activeSession(ctx, transactionId, ['authenticated', 'delivered']);
  if (session.state === 'delivered') throw fail('profileUnavailable', 'the bound profile package of this session has already been delivered');
  if (response.type === 'downloadResponseError') {
    await ctx.store.setSessionState(session.transactionId, ['authenticated'], 'failed');
    throw fail('euiccVerificationFailed', `the eUICC refused the download (error ${response.value.downloadErrorCode})`);
  }
  const ok = response.value;
  const signed = ok.euiccSigned2.value;
  if (!signed.transactionId.equals(transactionId)) throw fail('unknownTransaction', 'euiccSigned2 belongs to another transaction');
  const euiccKey = ctx.certificates.parse(session.euiccCertificate!).publicKey.key;
  const signedData = Buffer.concat([ok.euiccSigned2.der, signatureTlv(session.smdpSignature2!)]);
  if (!verifyPlain(euiccKey, signedData, ok.euiccSignature2)) throw fail('euiccVerificationFailed', 'euiccSignature2 does not verify');

  const matchingId = session.matchingId!;
  const found = await ctx.store.getOrderWithPackage(matchingId);
  if (found === undefined) throw fail('matchingIdRefused', 'the order of this session no longer exists');
  const order = found.order;
  if (order.state === 'error' && order.ccHash !== undefined && order.ccAttempts >= ctx.maxConfirmationCodeAttempts) {
    throw fail('ccAttemptsExceeded', 'the confirmation code attempts are exhausted');
  }
  if (order.state !== 'released') throw fail('profileUnavailable', `the profile is not available for binding (${order.state})`);
  await checkConfirmationCode(ctx, order, transactionId, signed.hashCc);

  const credential = credentialForCi(ctx, session.ciKeyId);
  if (credential === undefined) throw new Error(`session ${session.transactionId} names a CI this SM-DP+ no longer holds`);
  const profilePackage = found.openProfilePackage();
  let bpp: Buffer;
  try {
    bpp = bindProfilePackage({
      curve: session.curve as EcCurve,
      transactionId,
      eid: Buffer.from(session.eid!, 'hex'),
      euiccOtpk: signed.euiccOtpk,
      dpPbKey: credential.dpPb.privateKey,
      metadata: profileMetadata(order, ctx.address),
      profilePackage,
      useProfileProtectionKeys: ctx.useProfileProtectionKeys,
    });
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'INVALID_POINT') throw fail('euiccVerificationFailed', `euiccOtpk: ${e.message}`, e);
    throw e;
  }
  if (!(await ctx.store.deliver(session.transactionId, matchingId, ctx.now()))) {
    throw fail('profileUnavailable', 'the profile has already been delivered');
  }
  return { body: { transactionId: session.transactionId, boundProfilePackage: bpp.toString('base64') } };
}
