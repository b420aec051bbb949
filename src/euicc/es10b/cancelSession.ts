// SGP.22 v2.5 5.7.14 ES10b.CancelSession: ends the RSP session with a signed EuiccCancelSessionSigned.
import { capture, decode, encode } from '../../asn1/schema.js';
import { CancelSessionRequest, CancelSessionResponse, EuiccCancelSessionSigned } from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';

const INVALID_TRANSACTION_ID = 5;

export function cancelSession(core: EuiccCore, command: Buffer): Buffer {
  const request = decode(CancelSessionRequest, command);
  const session = core.session;
  if (session === undefined || !session.transactionId.equals(request.transactionId)) {
    return encode(CancelSessionResponse, { type: 'cancelSessionResponseError', value: INVALID_TRANSACTION_ID });
  }
  core.session = undefined;
  const signed = capture(EuiccCancelSessionSigned, {
    transactionId: session.transactionId,
    smdpOid: session.smdpOid,
    reason: request.reason,
  });
  return encode(CancelSessionResponse, {
    type: 'cancelSessionResponseOk',
    value: { euiccCancelSessionSigned: signed, euiccCancelSessionSignature: core.sign(signed.der) },
  });
}
