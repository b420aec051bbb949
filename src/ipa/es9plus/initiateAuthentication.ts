// SGP.22 5.6.1 ES9+.InitiateAuthentication: the eUICC's challenge and EUICCInfo1 to the SM-DP+; its signed serverSigned1 and certificate back.
import { base64, base64Field, hexField, type Es9PlusClient } from './es9plusClient.js';

export interface InitiateAuthenticationResult {
  readonly transactionId: Buffer;
  readonly serverSigned1: Buffer;
  readonly serverSignature1: Buffer;
  readonly euiccCiPKIdToBeUsed: Buffer;
  readonly serverCertificate: Buffer;
}

export async function initiateAuthentication(
  client: Es9PlusClient,
  euiccChallenge: Buffer,
  euiccInfo1: Buffer,
  smdpAddress: string,
): Promise<InitiateAuthenticationResult> {
  const fn = 'initiateAuthentication';
  const r = await client.call(fn, { euiccChallenge: base64(euiccChallenge), euiccInfo1: base64(euiccInfo1), smdpAddress });
  return {
    transactionId: hexField(r, 'transactionId', fn),
    serverSigned1: base64Field(r, 'serverSigned1', fn),
    serverSignature1: base64Field(r, 'serverSignature1', fn),
    euiccCiPKIdToBeUsed: base64Field(r, 'euiccCiPKIdToBeUsed', fn),
    serverCertificate: base64Field(r, 'serverCertificate', fn),
  };
}
