// SGP.22 5.7.6 ES10b.LoadBoundProfilePackage: the BPP as the segmented STORE DATA sequence of 2.5.5, ending in the ProfileInstallationResult.
import { ProfileInstallationResult } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, segmentBoundProfilePackage, type Es10Client } from '../es10Client.js';
import { IpaError } from '../errors.js';

export interface LoadResult {
  /** The PIR (BF37) exactly as the eUICC returned it: relayed to the SM-DP+ in handleNotification. */
  readonly der: Buffer;
  readonly value: ProfileInstallationResult;
}

/** Loads the BPP; returns the PIR, success or error (an error result stops the loading early). */
export async function loadBoundProfilePackage(client: Es10Client, bpp: Buffer): Promise<LoadResult> {
  const fn = 'LoadBoundProfilePackage';
  const der = await client.commandsUntilData(segmentBoundProfilePackage(bpp), fn);
  if (der.length === 0) throw new IpaError('INVALID_EUICC_RESPONSE', `${fn}: the eUICC returned no ProfileInstallationResult`);
  return { der, value: decodeEs10Response(ProfileInstallationResult, der, fn) };
}
