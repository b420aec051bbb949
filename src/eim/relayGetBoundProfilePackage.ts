// SGP.32 v1.2 5.14.3 ESipa.GetBoundProfilePackage (3.2.2): the eUICC's signed PrepareDownloadResponse relayed unchanged to the SM-DP+ of the session (ES9+.GetBoundProfilePackage, SGP.22 5.6.2), only when euiccSignature2 verifies with the session device's registered eUICC key; the Bound Profile Package returned unchanged.
import { GetBoundProfilePackageErrorEsipa, PrepareDownloadResponse } from '../asn1/definitions/sgp32.js';
import { Asn1Error } from '../asn1/errors.js';
import { decode } from '../asn1/schema.js';
import { verifyPlain } from '../crypto/ecdsa.js';
import type { Es9Response } from '../http/es9plusFunctions.js';
import type { EimContext } from './context.js';
import { euiccKey } from './deviceRecords.js';
import { EimError } from './errors.js';
import { claimRelay } from './relayClaim.js';
import { relayEs9, txKey, UNDEFINED_ERROR, type RelayContext } from './relayContext.js';

const E = GetBoundProfilePackageErrorEsipa;

/** SGP.22 5.2.6 status codes of ES9+.GetBoundProfilePackage to the ESipa error. */
const STATUS_MAP = {
  '8.1/6.1': E.euiccSignatureInvalid,
  '8.2.7/2.2': E.confirmationCodeMissing,
  '8.2.7/3.8': E.confirmationCodeRefused,
  '8.2.7/6.4': E.confirmationCodeRetriesExceeded,
  '8.2/3.7': E.bppRebindingRefused,
  '8.8.5/4.10': E.downloadOrderExpired,
  '8.10.1/3.9': E.invalidTransactionId,
};

/**
 * Refused before the SM-DP+ is called: a response that is not an SGP32-PrepareDownloadResponse, or its compact form,
 * undefinedError; a transaction not authenticated through this eIM, invalidTransactionId (95); a downloadResponseOk
 * whose euiccSignature2 (over euiccSigned2 and the session's smdpSignature2) does not verify with the registered key of
 * the session's device (another device's transaction), invalidTransactionId. A wrong confirmation code keeps the
 * session for another attempt, as the SM-DP+ does.
 */
export async function relayGetBoundProfilePackage(ctx: EimContext, relay: RelayContext, transactionId: Buffer, prepareDownloadResponse: Buffer): Promise<Es9Response<'getBoundProfilePackage'>> {
  let response: PrepareDownloadResponse;
  try {
    response = decode(PrepareDownloadResponse, prepareDownloadResponse);
  } catch (cause) {
    if (cause instanceof Asn1Error) throw new EimError('INVALID_ARGUMENT', `prepareDownloadResponse is malformed: ${cause.message}`, { esipaCode: UNDEFINED_ERROR, cause });
    throw cause;
  }
  if (response.type === 'compactDownloadResponseOk') throw new EimError('INVALID_ARGUMENT', 'the compact PrepareDownloadResponse cannot be relayed to an SGP.22 SM-DP+', { esipaCode: UNDEFINED_ERROR });
  return claimRelay(
    ctx,
    relay,
    transactionId,
    ['authenticated'],
    E.invalidTransactionId,
    async (session) => {
      if (response.type === 'downloadResponseOk') {
        const device = session.eid === undefined ? undefined : await ctx.store.getDevice(session.eid);
        const signed = Buffer.concat([response.value.euiccSigned2.der, session.smdpSignature2 ?? Buffer.alloc(0)]);
        if (device === undefined || session.smdpSignature2 === undefined || !verifyPlain(euiccKey(device), signed, response.value.euiccSignature2)) {
          throw new EimError('RELAY_REFUSED', `euiccSignature2 is not by the eUICC of the transaction ${txKey(transactionId)}`, { esipaCode: E.invalidTransactionId });
        }
      }
      const answer = await relayEs9(relay, session.smdpAddress, 'getBoundProfilePackage', { transactionId, prepareDownloadResponse }, STATUS_MAP);
      return { result: answer, change: { state: 'ended' } };
    },
    (failure) => failure.subjectCode === '8.2.7' && failure.reasonCode === '3.8',
  );
}
