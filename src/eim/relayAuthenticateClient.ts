// SGP.32 v1.2 5.14.2 ESipa.AuthenticateClient (3.2.2): the eUICC's signed AuthenticateServerResponse relayed unchanged to the SM-DP+ of the session (ES9+.AuthenticateClient, SGP.22 5.6.3), only by the device the session belongs to; smdpSigned2 and the metadata returned unchanged.
import { AuthenticateClientErrorEsipa, AuthenticateServerResponse } from '../asn1/definitions/sgp32.js';
import { Asn1Error } from '../asn1/errors.js';
import { decode } from '../asn1/schema.js';
import type { Es9Response } from '../http/es9plusFunctions.js';
import { parseCertificate } from '../pki/certificate.js';
import { McimError } from '../errors.js';
import type { EimContext } from './context.js';
import { EimError } from './errors.js';
import { relayEs9, txKey, UNDEFINED_ERROR, type RelayContext } from './relayContext.js';
import { claimRelay } from './relayClaim.js';

const E = AuthenticateClientErrorEsipa;

/** SGP.22 5.2.6 status codes of ES9+.AuthenticateClient (mcim's SM-DP+: src/smdpp/statusCodes.ts) to the ESipa error. */
const STATUS_MAP = {
  '8.1.2/6.1': E.eumCertificateInvalid,
  '8.1.2/6.3': E.eumCertificateExpired,
  '8.1.3/6.1': E.euiccCertificateInvalid,
  '8.1.3/6.3': E.euiccCertificateExpired,
  '8.1/6.1': E.euiccSignatureInvalid,
  '8.2.6/3.8': E.matchingIdRefused,
  '8.1.1/3.8': E.eidMismatch,
  '8.2/1.2': E.noEligibleProfile,
  '8.2.5/4.3': E.pprNotAllowed,
  '8.8.5/4.10': E.noEligibleProfile,
  '8.8.5/6.4': E.noEligibleProfile,
  '8.2/3.7': E.noEligibleProfile,
  '8.11.1/3.9': E.ciPKUnknown,
  '8.10.1/3.9': E.invalidTransactionId,
};

/**
 * Refused before the SM-DP+ is called: a response that is not an SGP32-AuthenticateServerResponse, or its compact form
 * (an SGP.22 SM-DP+ cannot verify it), undefinedError; a transaction the eIM does not relay (unknown, expired, ended, or
 * past this step) invalidTransactionId (10); a call while another of the session is in flight, undefinedError; an eUICC
 * certificate of no registered device, undefinedError; of another device than the session's, invalidTransactionId;
 * not the registered certificate of its EID, euiccCertificateInvalid (3). A refusal leaves the session as it was.
 */
export async function relayAuthenticateClient(ctx: EimContext, relay: RelayContext, transactionId: Buffer, authenticateServerResponse: Buffer): Promise<Es9Response<'authenticateClient'>> {
  let response: AuthenticateServerResponse;
  try {
    response = decode(AuthenticateServerResponse, authenticateServerResponse);
  } catch (cause) {
    if (cause instanceof Asn1Error) throw new EimError('INVALID_ARGUMENT', `authenticateServerResponse is malformed: ${cause.message}`, { esipaCode: UNDEFINED_ERROR, cause });
    throw cause;
  }
  if (response.type === 'compactAuthenticateResponseOk') throw new EimError('INVALID_ARGUMENT', 'the compact AuthenticateServerResponse cannot be relayed to an SGP.22 SM-DP+', { esipaCode: UNDEFINED_ERROR });
  return claimRelay(ctx, relay, transactionId, ['initiated'], E.invalidTransactionId, async (session) => {
    let eid = session.eid;
    if (response.type === 'authenticateResponseOk') {
      const certificate = response.value.euiccCertificate;
      let certEid: string | undefined;
      try {
        certEid = parseCertificate(certificate).eid;
      } catch (e) {
        if (!(e instanceof McimError)) throw e;
      }
      const device = certEid === undefined ? undefined : await ctx.store.getDevice(certEid);
      if (device === undefined) throw new EimError('DEVICE_NOT_FOUND', `the eUICC certificate names no registered device (${certEid ?? 'no EID'})`, { esipaCode: UNDEFINED_ERROR });
      if (eid !== undefined && eid !== device.eid) throw new EimError('RELAY_REFUSED', `the transaction ${txKey(transactionId)} is not ${device.eid}'s`, { esipaCode: E.invalidTransactionId });
      if (!device.euiccCertificate.equals(certificate)) throw new EimError('RELAY_REFUSED', `the eUICC certificate is not the one registered for ${device.eid}`, { esipaCode: E.euiccCertificateInvalid });
      eid = device.eid;
    }
    const answer = await relayEs9(relay, session.smdpAddress, 'authenticateClient', { transactionId, authenticateServerResponse }, STATUS_MAP);
    return { result: answer, change: { state: 'authenticated', ...(eid === undefined ? {} : { eid }), smdpSignature2: answer.smdpSignature2 } };
  });
}
