// SGP.22 5.6.3 ES9+.AuthenticateClient: the eUICC's signed AuthenticateServerResponse to the SM-DP+; the profile metadata and smdpSigned2 back.
import type { Es9Response } from '../../http/es9plusFunctions.js';
import type { Es9PlusClient } from './es9plusClient.js';

export type AuthenticateClientResult = Es9Response<'authenticateClient'>;

export function authenticateClient(client: Es9PlusClient, transactionId: Buffer, authenticateServerResponse: Buffer): Promise<AuthenticateClientResult> {
  return client.call('authenticateClient', { transactionId, authenticateServerResponse });
}
