// SGP.32 v1.2 5.9.2 ES10b.GetCerts: the eUICC's certificate and its EUM's (for the eIM's registry and IpaEuiccData).
import { GetCertsError, GetCertsRequest, GetCertsResponse, type Certs } from '../../asn1/definitions/sgp32.js';
import { decodeEs10Response, resultName, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

export async function getCerts(client: Es10Client, euiccCiPKId?: Buffer): Promise<Certs> {
  const fn = 'GetCerts';
  const response = decodeEs10Response(GetCertsResponse, await client.command(GetCertsRequest.encode(euiccCiPKId === undefined ? {} : { euiccCiPKId }), fn), fn);
  if (response.type === 'getCertsError') throw new Es10ResultError(fn, response.value, resultName(GetCertsError, response.value));
  return response.value;
}
