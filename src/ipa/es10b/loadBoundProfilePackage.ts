// SGP.22 5.7.6 ES10b.LoadBoundProfilePackage: the BPP as the segmented STORE DATA sequence of 2.5.5, ending in the ProfileInstallationResult.
import { ProfileInstallationResult } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, parseBoundProfilePackage, segmentBoundProfilePackage, type Es10Client } from '../es10Client.js';
import { explainErrorResult } from './errorResult.js';
import { IpaError } from '../errors.js';

export interface LoadResult {
  /** The PIR (BF37) exactly as the eUICC returned it: relayed to the SM-DP+ in handleNotification. */
  readonly der: Buffer;
  readonly value: ProfileInstallationResult;
  /** With an error result: the rule the BPP broke, in words (the PIR itself carries only bppCommandId and errorReason). */
  readonly refusal?: string;
}

/** Loads the BPP; returns the PIR, success or error (an error result stops the loading early). */
export async function loadBoundProfilePackage(client: Es10Client, bpp: Buffer): Promise<LoadResult> {
  const fn = 'LoadBoundProfilePackage';
  const der = await client.commandsUntilData(segmentBoundProfilePackage(bpp), fn);
  if (der.length === 0) throw new IpaError('INVALID_EUICC_RESPONSE', `${fn}: the eUICC returned no ProfileInstallationResult`);
  const value = decodeEs10Response(ProfileInstallationResult, der, fn);
  const data = value.profileInstallationResultData.value;
  if (data.finalResult.type !== 'errorResult') return { der, value };
  return { der, value, refusal: explainErrorResult(parseBoundProfilePackage(bpp), data.finalResult.value, data.transactionId) };
}
