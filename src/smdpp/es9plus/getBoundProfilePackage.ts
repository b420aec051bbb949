// ES9+.GetBoundProfilePackage (SGP.22 5.6.2, procedure 3.1.3): verifies euiccSignature2 and the confirmation code, binds (again, for the same otPK) and delivers the profile.
import { createHash, timingSafeEqual, type KeyObject } from 'node:crypto';
import { decode } from '../../asn1/schema.js';
import { PrepareDownloadResponse } from '../../asn1/definitions/rsp.js';
import { verifyPlain, type EcCurve } from '../../crypto/ecdsa.js';
import { CryptoError } from '../../crypto/errors.js';
import type { Es9Request, Es9Response } from '../../http/es9plusFunctions.js';
import type { ClientInfo } from '../../http/server.js';
import { parseField } from '../../http/jsonBinding.js';
import { bindProfilePackage, type Binding, type BindingSecrets } from '../bindProfilePackage.js';
import { credentialForCi, signatureTlv, type SmdpContext } from '../context.js';
import { profileMetadata } from '../profileMetadata.js';
import { activeSessionWithOrder } from '../session.js';
import { FIELD_SUBJECT, fail } from '../statusCodes.js';
import type { Order, Session } from '../../store/smdpStore.js';
import { encodeBindingSecrets, retainedBinding } from '../boundProfilePackageRetry.js';
import { NOTIFICATION_POINT } from '../es2plus/handleDownloadProgressInfo.js';

/** hashCc = SHA-256(SHA-256(CC) || transactionId) (SGP.22 3.1.3.4). */
function expectedHashCc(ccHash: Buffer, transactionId: Buffer): Buffer {
  return createHash('sha256').update(ccHash).update(transactionId).digest();
}

/**
 * A missing or wrong code leaves the session authenticated: the end user may enter the code again and the LPA send
 * another GetBoundProfilePackage in the same transaction (SGP.22 3.1.3.4), until the attempts are spent (the order then
 * goes to error and the session fails).
 */
async function checkConfirmationCode(ctx: SmdpContext, order: Order, transactionId: Buffer, hashCc: Buffer | undefined): Promise<void> {
  if (order.ccHash === undefined) return;
  if (hashCc === undefined) throw fail('ccMissing', 'this order requires a confirmation code');
  if (hashCc.length === 32 && timingSafeEqual(hashCc, expectedHashCc(order.ccHash, transactionId))) return;
  const failure = await ctx.store.orders.recordCcFailure(order.matchingId, ctx.maxConfirmationCodeAttempts, ctx.now(), ({ locked }) => ({
    notificationPointId: NOTIFICATION_POINT.confirmationFailure,
    status: 'Failed',
    statusCodeData: locked
      ? { subjectCode: '8.2.7', reasonCode: '6.4', message: 'maximum number of confirmation code attempts exceeded' }
      : { subjectCode: '8.2.7', reasonCode: '3.8', message: 'wrong confirmation code' },
  }));
  if (failure === undefined || failure.locked) {
    await ctx.store.sessions.setState(transactionId.toString('hex').toUpperCase(), ['authenticated'], 'failed');
    throw fail('ccAttemptsExceeded', 'the confirmation code attempts are exhausted');
  }
  throw fail('ccRefused', `wrong confirmation code (${ctx.maxConfirmationCodeAttempts - failure.attempts} attempts left)`);
}

export async function getBoundProfilePackage(
  ctx: SmdpContext,
  request: Es9Request<'getBoundProfilePackage'>,
  client: ClientInfo,
): Promise<Es9Response<'getBoundProfilePackage'>> {
  const { transactionId } = request;
  const response = parseField('prepareDownloadResponse', FIELD_SUBJECT.euicc, () =>
    decode(PrepareDownloadResponse, request.prepareDownloadResponse),
  );
  const { session, order: found } = await activeSessionWithOrder(ctx, transactionId, ['authenticated', 'delivered'], client.notes);
  if (session.state === 'delivered') throw fail('profileUnavailable', 'the bound profile package of this session has already been delivered');
  if (response.type === 'downloadResponseError') {
    await ctx.store.sessions.setState(session.transactionId, ['authenticated'], 'failed');
    throw fail('euiccVerificationFailed', `the eUICC refused the download (error ${response.value.downloadErrorCode})`);
  }
  const ok = response.value;
  const signed = ok.euiccSigned2.value;
  if (!signed.transactionId.equals(transactionId)) throw fail('unknownTransaction', 'euiccSigned2 belongs to another transaction');
  const euiccCertificate = ctx.certificates.parse(session.euiccCertificate!);
  const euiccKey = euiccCertificate.publicKey.key;
  const signedData = Buffer.concat([ok.euiccSigned2.der, signatureTlv(session.smdpSignature2!)]);
  if (!verifyPlain(euiccKey, signedData, ok.euiccSignature2)) throw fail('euiccVerificationFailed', 'euiccSignature2 does not verify');

  const matchingId = session.matchingId!;
  if (found === undefined) throw fail('matchingIdRefused', 'the order of this session no longer exists');
  const order = found.order;
  if (order.state === 'error' && order.ccHash !== undefined && order.ccAttempts >= ctx.maxConfirmationCodeAttempts) {
    throw fail('ccAttemptsExceeded', 'the confirmation code attempts are exhausted');
  }
  if (order.state !== 'released') throw fail('profileUnavailable', `the profile is not available for binding (${order.state})`);
  // An order bound to an EID (by the operator, or re-released to the eUICC it was delivered to) is bound for that eUICC
  // only, even by a session authenticated before the binding.
  if (order.eid !== undefined && order.eid !== session.eid) throw fail('eidRefused', 'the order is for another eUICC');
  await checkConfirmationCode(ctx, order, transactionId, signed.hashCc);

  const credential = credentialForCi(ctx, session.ciKeyId);
  if (credential === undefined) throw new Error(`session ${session.transactionId} names a CI this SM-DP+ no longer holds`);
  const again = await retainedBinding(ctx, order, session.eid!, signed.euiccOtpk);
  const binding = bind(ctx, session, order, signed.euiccOtpk, credential.dpPb.privateKey, found.openProfilePackage(), again);
  const retained = { secrets: encodeBindingSecrets(binding.secrets), euiccOtpk: signed.euiccOtpk };
  const report = { notificationPointId: NOTIFICATION_POINT.bppDownload, status: 'Executed-Success' } as const;
  if (!(await ctx.store.sessions.deliver(session.transactionId, matchingId, ctx.now(), retained, report))) {
    throw fail('profileUnavailable', 'the profile has already been delivered');
  }
  ctx.deliveredSessions.remember(session.transactionId, { eid: session.eid!, certificate: euiccCertificate });
  return { transactionId, boundProfilePackage: binding.bpp };
}

/**
 * Binds the profile package to the eUICC's one-time key (SGP.22 2.5.4): with a new SM-DP+ one-time key, or with the
 * secrets of the binding retained for this eUICC and key (a retry: the same package, BF23 signed for this transaction).
 */
function bind(
  ctx: SmdpContext,
  session: Session,
  order: Order,
  euiccOtpk: Buffer,
  dpPbKey: KeyObject,
  profilePackage: Buffer,
  again: BindingSecrets | undefined,
): Binding {
  try {
    return bindProfilePackage({
      curve: session.curve as EcCurve,
      transactionId: Buffer.from(session.transactionId, 'hex'),
      eid: Buffer.from(session.eid!, 'hex'),
      euiccOtpk,
      dpPbKey,
      metadata: profileMetadata(order, ctx.address),
      profilePackage,
      useProfileProtectionKeys: ctx.useProfileProtectionKeys,
    }, again);
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'INVALID_POINT') throw fail('euiccVerificationFailed', `euiccOtpk: ${e.message}`, e);
    throw e;
  }
}
