// TS 33.102 Annex C.1.1 and C.3: the AuC's SQN = SEQ || IND, SEQ from SEQ_HE, IND cycling through its 2^IND-length values.
import { sqnFromNumber, sqnToNumber } from '../crypto/sqnFreshness.js';

/**
 * SQN of the vector numbered `seq`: SEQ || IND with IND = SEQ mod 2^indBits. Consecutive vectors take consecutive IND
 * values, so up to 2^indBits of them may be used out of order by the USIM (its array of SEQ_MS, Annex C.2.2).
 */
export function sqnOfSeq(seq: number, indBits: number): Buffer {
  const size = 2 ** indBits;
  return sqnFromNumber(seq * size + (seq % size));
}

/** SEQ of an SQN (its IND bits dropped): SEQ_MS of SQN_MS after a synchronisation failure. */
export function seqOfSqn(sqn: Uint8Array, indBits: number): number {
  return Math.floor(sqnToNumber(sqn) / 2 ** indBits);
}
