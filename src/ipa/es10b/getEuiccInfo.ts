// SGP.22 5.7.8 ES10b.GetEUICCInfo: EUICCInfo1 (BF20) for initiateAuthentication, EUICCInfo2 (BF22) for display.
import { EUICCInfo1, EUICCInfo2, GetEuiccInfo1Request, GetEuiccInfo2Request } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';

export interface EuiccInfo1Result {
  /** The BF20 element exactly as the eUICC returned it: relayed unchanged to the SM-DP+. */
  readonly der: Buffer;
  readonly value: EUICCInfo1;
}

export async function getEuiccInfo1(client: Es10Client): Promise<EuiccInfo1Result> {
  const fn = 'GetEUICCInfo1';
  const der = await client.command(GetEuiccInfo1Request.encode({}), fn);
  return { der, value: decodeEs10Response(EUICCInfo1, der, fn) };
}

export async function getEuiccInfo2(client: Es10Client): Promise<EUICCInfo2> {
  const fn = 'GetEUICCInfo2';
  return decodeEs10Response(EUICCInfo2, await client.command(GetEuiccInfo2Request.encode({}), fn), fn);
}
