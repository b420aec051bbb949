// SGP.22 5.3.4 ES2+.ReleaseProfile: makes a confirmed profile downloadable (the network side is ready); releasing a released profile succeeds and changes nothing.
import type { Es2PlusClient } from './es2plusClient.js';
import { ICCID, checkArgument } from './identifiers.js';

export async function releaseProfile(client: Es2PlusClient, iccid: string): Promise<{ readonly functionCallIdentifier: string }> {
  checkArgument(iccid, ICCID, 'an ICCID (19 digits, or 20 with the last a digit or F)');
  const result = await client.call('releaseProfile', { iccid });
  return { functionCallIdentifier: result.functionCallIdentifier };
}
