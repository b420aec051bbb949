// SGP.22 5.6.1 ES9+.InitiateAuthentication: the eUICC's challenge and EUICCInfo1 to the SM-DP+; its signed serverSigned1 and certificate back.
import type { Es9Response } from '../../http/es9plusFunctions.js';
import type { Es9PlusClient } from './es9plusClient.js';

export type InitiateAuthenticationResult = Es9Response<'initiateAuthentication'>;

export function initiateAuthentication(
  client: Es9PlusClient,
  euiccChallenge: Buffer,
  euiccInfo1: Buffer,
  smdpAddress: string,
): Promise<InitiateAuthenticationResult> {
  return client.call('initiateAuthentication', { euiccChallenge, euiccInfo1, smdpAddress });
}
