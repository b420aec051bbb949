// SGP.32 v1.2 5.9 ES10b.ExecuteFallbackMechanism (Fallback Mechanism, 3.4.6), the IPAd's side: having lost connectivity over the enabled profile, ask the eUICC to enable the Fallback Profile.
import { ExecuteFallbackMechanismRequest, ExecuteFallbackMechanismResponse, ExecuteFallbackMechanismResult } from '../../asn1/definitions/sgp32.js';
import { decodeEs10Response, resultName, type Es10Client } from '../es10Client.js';

export interface FallbackOutcome {
  /** ok (0), profileNotInDisabledState (2), catBusy (5), fallbackNotAvailable (6), commandError (7), ecallActive (104), undefinedError (127). */
  readonly result: number;
  readonly resultName: string;
}

export async function executeFallbackMechanism(client: Es10Client, refreshFlag = false): Promise<FallbackOutcome> {
  const fn = 'ExecuteFallbackMechanism';
  const der = await client.command(ExecuteFallbackMechanismRequest.encode({ refreshFlag }), fn);
  const result = decodeEs10Response(ExecuteFallbackMechanismResponse, der, fn).executeFallbackMechanismResult;
  return { result, resultName: resultName(ExecuteFallbackMechanismResult, result) ?? `result ${result}` };
}
