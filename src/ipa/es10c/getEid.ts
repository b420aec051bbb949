// SGP.22 5.7.20 ES10c.GetEID: the eUICC's EID (GetEuiccDataRequest with tagList '5A').
import { GetEuiccDataRequest, GetEuiccDataResponse } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';

/** The EID as 32 decimal digits. */
export async function getEid(client: Es10Client): Promise<string> {
  const fn = 'GetEID';
  const data = await client.command(GetEuiccDataRequest.encode({ tagList: Buffer.from([0x5a]) }), fn);
  return decodeEs10Response(GetEuiccDataResponse, data, fn).eidValue.toString('hex').toUpperCase();
}
