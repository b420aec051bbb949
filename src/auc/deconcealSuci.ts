// TS 33.501 6.12.5 and Annex C.3/C.4: the SIDF de-conceals a SUCI with the home network private key it names (profile A or B) and returns the SUPI.
import { deconcealSuci as deconceal, parseSuci, type DeconcealResult } from '../crypto/suci.js';
import type { AucContext } from './context.js';
import { AucError } from './errors.js';

/** Longest SUCI read: an IMSI SUCI with a profile B scheme output (33 + 8 + 8 bytes of hex) is under 150 characters. */
export const MAX_SUCI_LENGTH = 512;

const PROFILE_OF_SCHEME: Readonly<Record<number, 'A' | 'B'>> = { 1: 'A', 2: 'B' };

/** The null-scheme needs no key; profiles A and B use the configured key of the SUCI's home network public key id. */
export async function deconcealSuci(ctx: AucContext, suci: string): Promise<DeconcealResult> {
  if (suci.length > MAX_SUCI_LENGTH) throw new AucError('INPUT_TOO_LARGE', `a SUCI is at most ${MAX_SUCI_LENGTH} characters`);
  const parsed = parseSuci(suci);
  const profile = PROFILE_OF_SCHEME[parsed.protectionScheme];
  if (profile === undefined) return deconceal(suci);
  return deconceal(suci, await ctx.store.hnPrivateKey(profile, parsed.hnKeyId));
}
