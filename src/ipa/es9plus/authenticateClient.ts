// SGP.22 5.6.3 ES9+.AuthenticateClient: the eUICC's signed AuthenticateServerResponse to the SM-DP+; the profile metadata and smdpSigned2 back.
import { base64, base64Field, hex, hexField, type Es9PlusClient } from './es9plusClient.js';

export interface AuthenticateClientResult {
  readonly transactionId: Buffer;
  readonly profileMetadata: Buffer;
  readonly smdpSigned2: Buffer;
  readonly smdpSignature2: Buffer;
  readonly smdpCertificate: Buffer;
}

export async function authenticateClient(client: Es9PlusClient, transactionId: Buffer, authenticateServerResponse: Buffer): Promise<AuthenticateClientResult> {
  const fn = 'authenticateClient';
  const r = await client.call(fn, { transactionId: hex(transactionId), authenticateServerResponse: base64(authenticateServerResponse) });
  return {
    transactionId: hexField(r, 'transactionId', fn),
    profileMetadata: base64Field(r, 'profileMetadata', fn),
    smdpSigned2: base64Field(r, 'smdpSigned2', fn),
    smdpSignature2: base64Field(r, 'smdpSignature2', fn),
    smdpCertificate: base64Field(r, 'smdpCertificate', fn),
  };
}
