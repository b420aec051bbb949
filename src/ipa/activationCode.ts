// SGP.22 4.1 Activation Code: AC_Format '1' $ SM-DP+ Address $ AC_Token [$ SM-DP+ OID [$ Confirmation Code Required Flag]], as the QR code's 'LPA:' content.
import { IpaError } from './errors.js';

export interface ActivationCode {
  /** FQDN of the SM-DP+, with an optional :port (as used in its URL). */
  readonly smdpAddress: string;
  /** AC_Token: the matching ID (may be empty). */
  readonly matchingId: string;
  readonly smdpOid?: string;
  readonly confirmationCodeRequired: boolean;
}

const ADDRESS = /^([^:]{1,253})(?::(\d{1,5}))?$/;
const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;
const TOKEN = /^[0-9A-Za-z-]*$/;

/** True for an SM-DP+ address as an activation code carries it: a host name or IPv4 address, with an optional port. */
export function isSmdpAddress(address: string): boolean {
  const parts = ADDRESS.exec(address);
  const port = parts?.[2] === undefined ? undefined : Number(parts[2]);
  return parts !== null && HOST.test(parts[1]!) && (port === undefined || (port >= 1 && port <= 65535));
}

/** Parses an activation code with or without the 'LPA:' prefix. */
export function parseActivationCode(text: string): ActivationCode {
  const bad = (why: string): IpaError => new IpaError('INVALID_ARGUMENT', `invalid activation code: ${why}`);
  const body = text.trim().replace(/^LPA:/i, '');
  const fields = body.split('$');
  if (fields.length < 3 || fields.length > 5) throw bad('expected 1$<SM-DP+ address>$<matching ID>[$<SM-DP+ OID>[$<1>]]');
  const [format, address, token, oidField, ccField] = fields as [string, string, string, string?, string?];
  if (format !== '1') throw bad(`AC_Format '${format}' is not 1`);
  if (!isSmdpAddress(address)) throw bad(`'${address}' is not an SM-DP+ address`);
  if (!TOKEN.test(token)) throw bad(`the matching ID '${token}' has characters other than 0-9, A-Z, a-z and '-'`);
  if (oidField !== undefined && oidField !== '' && !OID.test(oidField)) throw bad(`'${oidField}' is not an OID`);
  if (ccField !== undefined && ccField !== '' && ccField !== '0' && ccField !== '1') throw bad(`the confirmation code flag '${ccField}' is not 1`);
  return {
    smdpAddress: address,
    matchingId: token,
    ...(oidField ? { smdpOid: oidField } : {}),
    confirmationCodeRequired: ccField === '1',
  };
}
