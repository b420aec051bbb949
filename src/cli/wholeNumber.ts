// Whole-number command-line values (ports, counts, limits, timeouts): digits only, within a range, one message form.
import { McimError } from '../errors.js';

/** The largest value a flag takes unless it says otherwise (ten digits are read, no more). */
const MAX = 999_999_999;

/** The whole number `text` given to `flag`, from `min` to `max`; INVALID_ARGUMENT naming the flag and the range otherwise. */
export function parseWholeNumber(text: string, flag: string, min = 0, max = MAX): number {
  const n = Number(text);
  if (!/^\d{1,10}$/.test(text) || n < min || n > max) {
    const range = max !== MAX ? `a whole number from ${min} to ${max}` : min > 0 ? `a whole number of at least ${min}` : 'a whole number';
    throw new McimError('INVALID_ARGUMENT', `${flag} takes ${range}, got '${text}'`);
  }
  return n;
}
