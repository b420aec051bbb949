// SGP.32 v1.2 5.9 ES10b.ReturnFromFallback (Fallback Mechanism, 3.4.6), the IPAd's side: ask the eUICC to go back from the Fallback Profile to the profile the fallback disabled.
import { ReturnFromFallbackRequest, ReturnFromFallbackResponse, ReturnFromFallbackResult } from '../../asn1/definitions/sgp32.js';
import { decodeEs10Response, resultName, type Es10Client } from '../es10Client.js';
import type { FallbackOutcome } from './executeFallbackMechanism.js';

/** ok (0), catBusy (5), fallbackNotAvailable (6), commandError (7: the Fallback Mechanism is not in effect), undefinedError (127). */
export async function returnFromFallback(client: Es10Client, refreshFlag = false): Promise<FallbackOutcome> {
  const fn = 'ReturnFromFallback';
  const der = await client.command(ReturnFromFallbackRequest.encode({ refreshFlag }), fn);
  const result = decodeEs10Response(ReturnFromFallbackResponse, der, fn).returnFromFallbackResult;
  return { result, resultName: resultName(ReturnFromFallbackResult, result) ?? `result ${result}` };
}
