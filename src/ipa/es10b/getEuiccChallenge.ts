// SGP.22 5.7.7 ES10b.GetEUICCChallenge: a fresh 16-byte challenge for the common mutual authentication.
import { GetEuiccChallengeRequest, GetEuiccChallengeResponse } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';

export async function getEuiccChallenge(client: Es10Client): Promise<Buffer> {
  const fn = 'GetEUICCChallenge';
  const data = await client.command(GetEuiccChallengeRequest.encode({}), fn);
  return decodeEs10Response(GetEuiccChallengeResponse, data, fn).euiccChallenge;
}
