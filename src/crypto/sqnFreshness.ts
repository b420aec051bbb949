// TS 33.102 Annex C.1-C.2: SQN = SEQ || IND and the USIM's freshness check over an array indexed by IND.
import { CryptoError, requireLength } from './errors.js';

export interface SqnFreshnessOptions {
  /** length of IND in bits, default 5; the array has 2^indBits entries */
  indBits?: number;
  /** Annex C.2.1: if set, SQN is accepted only if SEQ - SEQ_MS <= delta */
  delta?: number;
  /** Annex C.2.2: if set, SQN is accepted only if SEQ_MS - SEQ < ageLimit (the limit L) */
  ageLimit?: number;
}

export type SqnRejectReason = 'NOT_FRESH' | 'DELTA_EXCEEDED' | 'AGE_LIMIT_EXCEEDED';

export type SqnCheckResult =
  | { accepted: true; seq: number; ind: number }
  /** synchronisation failure: `sqnMs` is the SQN_MS to put into AUTS */
  | { accepted: false; reason: SqnRejectReason; sqnMs: Buffer };

const SQN_SPACE = 2 ** 48;
const MAX_IND_BITS = 16;

/** SQN (6 bytes) as a number below 2^48. */
export function sqnToNumber(sqn: Uint8Array): number {
  requireLength('SQN', sqn, 6);
  return Buffer.from(sqn.buffer, sqn.byteOffset, 6).readUIntBE(0, 6);
}

/** A number below 2^48 as SQN (6 bytes). */
export function sqnFromNumber(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0 || value >= SQN_SPACE) {
    throw new CryptoError('INVALID_ARGUMENT', `SQN must be an integer in [0, 2^48), got ${value}`);
  }
  const sqn = Buffer.allocUnsafe(6);
  sqn.writeUIntBE(value, 0, 6);
  return sqn;
}

function positiveOption(name: string, value: number | undefined, max: number): number | undefined {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1 || value > max)) {
    throw new CryptoError('INVALID_ARGUMENT', `SQN freshness: ${name} must be an integer in [1, ${max}], got ${value}`);
  }
  return value;
}

/**
 * The USIM's sequence number state: SEQ_MS(i) for every IND value i, all zero initially (Annex C.2.2).
 * `verify` accepts a fresh SQN and records it, or reports a synchronisation failure with SQN_MS.
 */
export class SqnFreshnessState {
  readonly indBits: number;
  readonly delta: number | undefined;
  readonly ageLimit: number | undefined;
  readonly #seqMs: number[];

  /** `seqMs` restores a saved array (see {@link seqArray}); its length must be 2^indBits. */
  constructor(options: SqnFreshnessOptions = {}, seqMs?: readonly number[]) {
    const indBits = options.indBits ?? 5;
    if (!Number.isSafeInteger(indBits) || indBits < 0 || indBits > MAX_IND_BITS) {
      const message = `SQN freshness: IND length must be 0..${MAX_IND_BITS} bits, got ${indBits}`;
      throw new CryptoError('INVALID_ARGUMENT', message);
    }
    const seqSpace = 2 ** (48 - indBits);
    this.indBits = indBits;
    this.delta = positiveOption('delta', options.delta, seqSpace - 1);
    this.ageLimit = positiveOption('age limit L', options.ageLimit, seqSpace);
    const size = 2 ** indBits;
    if (seqMs === undefined) {
      this.#seqMs = new Array<number>(size).fill(0);
    } else {
      if (seqMs.length !== size || !seqMs.every((s) => Number.isSafeInteger(s) && s >= 0 && s < seqSpace)) {
        const message = `SQN freshness: saved array must hold ${size} SEQ values in [0, 2^${48 - indBits})`;
        throw new CryptoError('INVALID_ARGUMENT', message);
      }
      this.#seqMs = [...seqMs];
    }
  }

  /** A copy of SEQ_MS(0..2^indBits - 1), for persisting the state. */
  get seqArray(): number[] {
    return [...this.#seqMs];
  }

  /** SQN_MS = SEQ_MS || IND of the highest previously accepted sequence number anywhere in the array. */
  get sqnMs(): Buffer {
    const ind = this.#highest();
    return sqnFromNumber(this.#seqMs[ind]! * 2 ** this.indBits + ind);
  }

  /**
   * The IND of SEQ_MS, the highest SEQ in the array; on a tie the highest IND (the highest SQN). 0 while
   * nothing has been accepted (every accepted SEQ is at least 1).
   */
  #highest(): number {
    let ind = 0;
    for (let i = 1; i < this.#seqMs.length; i++) if (this.#seqMs[i]! >= this.#seqMs[ind]!) ind = i;
    return this.#seqMs[ind] === 0 ? 0 : ind;
  }

  /** Splits SQN into SEQ and IND. */
  split(sqn: Uint8Array): { seq: number; ind: number } {
    const value = sqnToNumber(sqn);
    const size = 2 ** this.indBits;
    return { seq: Math.floor(value / size), ind: value % size };
  }

  /** Annex C.2.1/C.2.2: accepts SQN (and records SEQ in SEQ_MS(IND)) or reports a synchronisation failure. */
  verify(sqn: Uint8Array): SqnCheckResult {
    const { seq, ind } = this.split(sqn);
    const seqMs = this.#seqMs[this.#highest()]!;
    let reason: SqnRejectReason | undefined;
    if (this.delta !== undefined && seq - seqMs > this.delta) reason = 'DELTA_EXCEEDED';
    else if (this.ageLimit !== undefined && seqMs - seq >= this.ageLimit) reason = 'AGE_LIMIT_EXCEEDED';
    else if (seq <= this.#seqMs[ind]!) reason = 'NOT_FRESH';
    if (reason !== undefined) return { accepted: false, reason, sqnMs: this.sqnMs };
    this.#seqMs[ind] = seq;
    return { accepted: true, seq, ind };
  }
}
