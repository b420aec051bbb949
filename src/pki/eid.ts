// EID check digits (GSMA SGP.29 EID structure; ISO/IEC 7064 MOD 97-10 over the 32 decimal digits, as for IBAN).

const EID_LENGTH = 32;
const EID_BODY_LENGTH = EID_LENGTH - 2;

/**
 * The two check digits of an EID: given its first 30 digits (or all 32, whose last two are ignored),
 * `98 - (digits || "00") mod 97`, two digits with a leading zero when needed.
 */
export function eidCheckDigits(eid: string): string {
  if (!/^\d+$/.test(eid) || (eid.length !== EID_BODY_LENGTH && eid.length !== EID_LENGTH)) {
    throw new RangeError(`an EID body is ${EID_BODY_LENGTH} decimal digits (or ${EID_LENGTH} with check digits), got '${eid}'`);
  }
  const body = eid.slice(0, EID_BODY_LENGTH);
  const check = 98n - (BigInt(`${body}00`) % 97n);
  return check.toString().padStart(2, '0');
}

/** True for 32 decimal digits whose value mod 97 is 1 (the check digits are right). */
export function isValidEid(eid: string): boolean {
  return /^\d{32}$/.test(eid) && BigInt(eid) % 97n === 1n;
}

/**
 * A valid EID starting with `prefix` (the EUM's permitted digits): the prefix, then the digits of `filler`
 * up to 30 digits, then the check digits. The default filler reproduces SGP.26's test EID for prefix 89049032.
 */
export function makeEid(prefix: string, filler = '1234512345123456789012345678'): string {
  if (!/^\d{1,30}$/.test(prefix)) throw new RangeError(`an EID prefix is 1 to 30 decimal digits, got '${prefix}'`);
  if (!/^\d*$/.test(filler) || prefix.length + filler.length < EID_BODY_LENGTH) {
    throw new RangeError(`the filler must be decimal digits completing the prefix to ${EID_BODY_LENGTH} digits`);
  }
  const body = (prefix + filler).slice(0, EID_BODY_LENGTH);
  return body + eidCheckDigits(body);
}
