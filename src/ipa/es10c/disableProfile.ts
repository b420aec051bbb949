// SGP.22 5.7.17 ES10c.DisableProfile: disables the enabled profile (the eUICC queues a disable notification).
import { DisableProfileRequest, DisableProfileResponse } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

const ERRORS: Readonly<Record<number, string>> = {
  1: 'iccidOrAidNotFound',
  2: 'profileNotInEnabledState',
  3: 'disallowedByPolicy',
  5: 'catBusy',
  127: 'undefinedError',
};

/** `iccid` in its EF_ICCID coding (10 bytes). */
export async function disableProfile(client: Es10Client, iccid: Buffer, refreshFlag = false): Promise<void> {
  const fn = 'DisableProfile';
  const der = await client.command(DisableProfileRequest.encode({ profileIdentifier: { type: 'iccid', value: iccid }, refreshFlag }), fn);
  const result = decodeEs10Response(DisableProfileResponse, der, fn).disableResult;
  if (result !== 0) throw new Es10ResultError(fn, result, ERRORS[result]);
}
