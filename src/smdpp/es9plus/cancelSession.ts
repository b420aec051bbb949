// ES9+.CancelSession (SGP.22 5.6.5, procedure 3.1.3 / 3.0.2): verifies the eUICC's signed cancel response and ends the session.
import { decode } from '../../asn1/schema.js';
import { CancelSessionReason, CancelSessionResponse } from '../../asn1/definitions/rsp.js';
import { verifyPlain } from '../../crypto/ecdsa.js';
import { parseField, type RequestFields } from '../../http/jsonBinding.js';
import type { SmdpContext } from '../context.js';
import { activeSession } from '../session.js';
import { FIELD_SUBJECT, fail } from '../statusCodes.js';

/**
 * Reasons after which the order stays available for a later download; any other reason puts it in error. Once the
 * bound profile package has been delivered (SGP.22 3.1.3, 5.6.5), "available" means to the same eUICC only: the
 * store writes the session's EID on the re-released order, so no other eUICC can obtain the same ICCID and keys
 * (8.1.1/3.8 at authenticateClient), while the eUICC that postponed can retry.
 */
const ORDER_KEPT: ReadonlySet<number> = new Set([CancelSessionReason.postponed, CancelSessionReason.timeout]);

export async function cancelSession(ctx: SmdpContext, fields: RequestFields): Promise<{ body: Record<string, unknown> }> {
  const transactionId = fields.hex('transactionId', FIELD_SUBJECT.transactionId, 16);
  const response = parseField('cancelSessionResponse', FIELD_SUBJECT.euicc, () =>
    decode(CancelSessionResponse, fields.base64('cancelSessionResponse', FIELD_SUBJECT.euicc)),
  );
  // The eUICC's signature can be checked once authenticateClient has bound the session to its certificate.
  const session = await activeSession(ctx, transactionId, ['authenticated', 'delivered']);
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
  const cancelled = await ctx.store.cancel(session.transactionId, kept ? 'released' : 'error', `session cancelled by the eUICC (reason ${signed.reason})`, ctx.now());
  if (!cancelled) throw fail('unknownTransaction', 'the session has already ended');
  return { body: {} };
}
