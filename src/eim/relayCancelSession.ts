// SGP.32 v1.2 5.14.4 ESipa.CancelSession (3.2.2): the eUICC's signed CancelSessionResponse relayed unchanged to the SM-DP+ of the session (ES9+.CancelSession, SGP.22 5.6.5), only when its signature verifies with the session device's registered eUICC key (when the device is known).
import { CancelSessionErrorEsipa, CancelSessionResponse } from '../asn1/definitions/sgp32.js';
import { Asn1Error } from '../asn1/errors.js';
import { decode } from '../asn1/schema.js';
import { verifyPlain } from '../crypto/ecdsa.js';
import type { EimContext } from './context.js';
import { euiccKey } from './deviceRecords.js';
import { EimError } from './errors.js';
import { claimRelay } from './relayClaim.js';
import { relayEs9, txKey, UNDEFINED_ERROR, type RelayContext } from './relayContext.js';

const E = CancelSessionErrorEsipa;

/** SGP.22 5.2.6 status codes of ES9+.CancelSession to the ESipa error. */
const STATUS_MAP = { '8.1/6.1': E.euiccSignatureInvalid, '8.10.1/3.9': E.invalidTransactionId };

/**
 * `cancelSessionResponse` is SGP.22's CancelSessionResponse (BF41) as the eUICC produced it. Refused before the SM-DP+
 * is called: malformed or compact, undefinedError; a transaction the eIM does not relay (or ended),
 * invalidTransactionId (1); a signed cancellation that does not verify with the registered key of the session's
 * device, invalidTransactionId. The session ends with the SM-DP+'s answer.
 */
export async function relayCancelSession(ctx: EimContext, relay: RelayContext, transactionId: Buffer, cancelSessionResponse: Buffer): Promise<void> {
  let response: CancelSessionResponse;
  try {
    response = decode(CancelSessionResponse, cancelSessionResponse);
  } catch (cause) {
    if (cause instanceof Asn1Error) throw new EimError('INVALID_ARGUMENT', `cancelSessionResponse is malformed: ${cause.message}`, { esipaCode: UNDEFINED_ERROR, cause });
    throw cause;
  }
  if (response.type === 'compactCancelSessionResponseOk') throw new EimError('INVALID_ARGUMENT', 'the compact CancelSessionResponse cannot be relayed to an SGP.22 SM-DP+', { esipaCode: UNDEFINED_ERROR });
  await claimRelay(ctx, relay, transactionId, ['initiated', 'authenticated'], E.invalidTransactionId, async (session) => {
    if (response.type === 'cancelSessionResponseOk' && session.eid !== undefined) {
      const device = await ctx.store.getDevice(session.eid);
      const ok = response.value;
      if (device === undefined || !verifyPlain(euiccKey(device), ok.euiccCancelSessionSigned.der, ok.euiccCancelSessionSignature)) {
        throw new EimError('RELAY_REFUSED', `the cancellation is not signed by the eUICC of the transaction ${txKey(transactionId)}`, { esipaCode: E.invalidTransactionId });
      }
    }
    await relayEs9(relay, session.smdpAddress, 'cancelSession', { transactionId, cancelSessionResponse }, STATUS_MAP);
    return { result: undefined, change: { state: 'ended' } };
  });
}
