// SGP.32 v1.2 5.9.1 ES10b.LoadEuiccPackage: the IPA hands the eIM's EuiccPackageRequest (BF51) to the eUICC byte for byte and gets its EuiccPackageResult (BF51).
import { EuiccPackageResult } from '../../asn1/definitions/sgp32.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';

export interface LoadedPackage {
  /** The EuiccPackageResult exactly as the eUICC returned it: relayed to the eIM. */
  readonly der: Buffer;
  readonly value: EuiccPackageResult;
}

export async function loadEuiccPackage(client: Es10Client, euiccPackageRequest: Buffer): Promise<LoadedPackage> {
  const fn = 'LoadEuiccPackage';
  const der = await client.command(euiccPackageRequest, fn);
  return { der, value: decodeEs10Response(EuiccPackageResult, der, fn) };
}
