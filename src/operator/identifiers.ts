// The data types of ES2+ an operator sends and checks (SGP.22 5.2.1 Table 21, 4.1.1): EID, ICCID, MatchingID, FQDN, SM-DP+ address.
import { OperatorError } from './errors.js';

/** EID: 32 decimal digits. */
export const EID = /^[0-9]{32}$/;
/** ICCID: 19 digits, or 20 with the last one a digit or the padding F; 19 digits and 19 + F name the same profile. */
export const ICCID = /^[0-9]{19}[0-9F]?$/;
/** MatchingID: upper-case letters, digits and '-' (SGP.22 4.1.1), at most 255 characters (the activation code's bound); may be empty. */
export const MATCHING_ID = /^[0-9A-Z-]{0,255}$/;
/** An FQDN: dot-separated labels of letters, digits and '-' (SGP.22 5.2.1). */
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
export const FQDN = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);

/** The ICCID without its padding F: the form two ICCIDs are compared in. */
export function unpaddedIccid(iccid: string): string {
  return iccid.endsWith('F') ? iccid.slice(0, -1) : iccid;
}

/** Refuses a value that does not match `pattern` (an argument the operator gave: INVALID_ARGUMENT). */
export function checkArgument(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new OperatorError('INVALID_ARGUMENT', `'${value}' is not ${what}`);
  return value;
}

/** True for an SM-DP+ address as activation codes carry it: an FQDN (or IPv4 address) with an optional :port of 1 to 65535. */
export function isSmdpAddress(address: string): boolean {
  const colon = address.indexOf(':');
  const host = colon < 0 ? address : address.slice(0, colon);
  const port = colon < 0 ? undefined : address.slice(colon + 1);
  return FQDN.test(host) && (port === undefined || (/^[1-9][0-9]{0,4}$/.test(port) && Number(port) <= 65535));
}
