// SGP.22 5.7.13 ES10b.AuthenticateServer: relays the SM-DP+'s signed data with ctxParams1; returns the eUICC's signed answer.
import { AuthenticateErrorCode, AuthenticateServerResponse, CtxParams1, type CtxParamsForCommonAuthentication } from '../../asn1/definitions/rsp.js';
import { encodeTlv } from '../../asn1/tlv.js';
import { decodeEs10Response, resultName, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

export interface AuthenticateServerInput {
  /** The ServerSigned1 SEQUENCE exactly as the SM-DP+ sent it. */
  readonly serverSigned1: Buffer;
  /** The serverSignature1 TLV (5F37). */
  readonly serverSignature1: Buffer;
  /** The euiccCiPKIdToBeUsed TLV (04 14 SKI). */
  readonly euiccCiPKIdToBeUsed: Buffer;
  /** The serverCertificate (DER). */
  readonly serverCertificate: Buffer;
  readonly ctxParams: CtxParamsForCommonAuthentication;
}

export interface AuthenticateServerResult {
  /** The whole BF38 response, relayed to the SM-DP+ in authenticateClient. */
  readonly der: Buffer;
  readonly transactionId: Buffer;
}

/**
 * Sends AuthenticateServer. An authenticateResponseError becomes Es10ResultError carrying the
 * response, which the LPA still relays to the SM-DP+ in authenticateClient (SGP.22 3.0.1).
 */
export async function authenticateServer(client: Es10Client, input: AuthenticateServerInput): Promise<AuthenticateServerResult> {
  const fn = 'AuthenticateServer';
  const ctxParams1 = CtxParams1.encode({ type: 'ctxParamsForCommonAuthentication', value: input.ctxParams });
  const request = encodeTlv(0xbf38, [input.serverSigned1, input.serverSignature1, input.euiccCiPKIdToBeUsed, input.serverCertificate, ctxParams1]);
  const der = await client.command(request, fn);
  const response = decodeEs10Response(AuthenticateServerResponse, der, fn);
  if (response.type === 'authenticateResponseError') {
    const code = response.value.authenticateErrorCode;
    throw new Es10ResultError(fn, code, resultName(AuthenticateErrorCode, code), { response: der });
  }
  return { der, transactionId: response.value.euiccSigned1.value.transactionId };
}
