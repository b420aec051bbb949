// ES9+.CancelSession (SGP.22 5.6.5, procedure 3.1.3 / 3.0.2): verifies the eUICC's signed cancel response and ends the session.
import { decode } from '../../asn1/schema.js';
import { CancelSessionReason, CancelSessionResponse } from '../../asn1/definitions/rsp.js';
import { verifyPlain } from '../../crypto/ecdsa.js';
import type { Es9Request, Es9Response } from '../../http/es9plusFunctions.js';
import type { ClientInfo } from '../../http/server.js';
import { parseField } from '../../http/jsonBinding.js';
import type { SmdpContext } from '../context.js';
import { activeSession } from '../session.js';
import { FIELD_SUBJECT, fail } from '../statusCodes.js';
import { NOTIFICATION_POINT } from '../es2plus/handleDownloadProgressInfo.js';

/**
 * The reasons that leave the download to be retried (SGP.22 5.6.5, 3.0.2): the end user postponed it, the LPA timed
 * out, or loading the bound profile package failed on the way (loadBppExecutionError). The order stays released and,
 * once its bound profile package has been delivered, to the same eUICC only: the store writes the session's EID on
 * the re-released order, so no other eUICC can obtain the same ICCID and keys (8.1.1/3.8 at authenticateClient), and
 * keeps the package for a retry with the same one-time key (bppEuiccOtpk). The end user's rejection, profile policy
 * rules the device does not allow (pprNotAllowed), metadata the LPA found wrong (metadataMismatch) and an undefined
 * reason end the order: it goes to error (the operator decides what follows).
 */
const ORDER_KEPT: ReadonlySet<number> = new Set([CancelSessionReason.postponed, CancelSessionReason.timeout, CancelSessionReason.loadBppExecutionError]);

/**
 * What the operator of an ES2+ order hears when the eUICC rejects the download (SGP.22 5.3.5 Table 32b), at the point
 * the download had reached; postponed and timeout are not reported (the order stays released for a retry).
 */
const REJECTION_STATUS: ReadonlyMap<number, { subjectCode: string; reasonCode: string; message: string }> = new Map([
  [CancelSessionReason.endUserRejection, { subjectCode: '8.8.5', reasonCode: '3.8', message: 'download rejected by the end user' }],
  [CancelSessionReason.pprNotAllowed, { subjectCode: '8.2.8', reasonCode: '1.2', message: 'profile policy rules not allowed' }],
  [CancelSessionReason.metadataMismatch, { subjectCode: '8.2.9', reasonCode: '3.11', message: 'profile metadata mismatch' }],
  [CancelSessionReason.loadBppExecutionError, { subjectCode: '8.2.10', reasonCode: '4.2', message: 'bound profile package execution error' }],
  [CancelSessionReason.undefinedReason, { subjectCode: '8', reasonCode: '4.2', message: 'undefined reason' }],
]);

export async function cancelSession(ctx: SmdpContext, request: Es9Request<'cancelSession'>, client: ClientInfo): Promise<Es9Response<'cancelSession'>> {
  const { transactionId } = request;
  const response = parseField('cancelSessionResponse', FIELD_SUBJECT.euicc, () =>
    decode(CancelSessionResponse, request.cancelSessionResponse),
  );
  // The eUICC's signature can be checked once authenticateClient has bound the session to its certificate.
  const session = await activeSession(ctx, transactionId, ['authenticated', 'delivered'], client.notes);
  if (response.type === 'cancelSessionResponseError') {
    throw fail('unknownTransaction', `the eUICC could not cancel the session (error ${response.value})`);
  }
  const ok = response.value;
  const signed = ok.euiccCancelSessionSigned.value;
  if (!signed.transactionId.equals(transactionId)) throw fail('unknownTransaction', 'euiccCancelSessionSigned belongs to another transaction');
  const key = ctx.certificates.parse(session.euiccCertificate!).publicKey.key;
  if (!verifyPlain(key, ok.euiccCancelSessionSigned.der, ok.euiccCancelSessionSignature)) {
    throw fail('euiccVerificationFailed', 'euiccCancelSessionSignature does not verify');
  }
  if (signed.smdpOid !== ctx.oid) throw fail('invalidSmdpOid', `the cancel response names the SM-DP+ OID ${signed.smdpOid}`);
  const kept = ORDER_KEPT.has(signed.reason);
  const rejection = REJECTION_STATUS.get(signed.reason);
  const cancelled = await ctx.store.sessions.cancel(session.transactionId, kept ? 'released' : 'error', `session cancelled by the eUICC (reason ${signed.reason})`, ctx.now(), (delivered) =>
    rejection === undefined
      ? undefined
      : { notificationPointId: delivered ? NOTIFICATION_POINT.bppDownload : NOTIFICATION_POINT.eligibilityAndRetryLimit, status: 'Failed', statusCodeData: rejection },
  );
  if (!cancelled) throw fail('unknownTransaction', 'the session has already ended');
  return {};
}
