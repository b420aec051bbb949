// SGP.22 5.7.16 ES10c.EnableProfile: enables a disabled profile (the eUICC queues an enable notification).
import { EnableProfileRequest, EnableProfileResponse } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

const ERRORS: Readonly<Record<number, string>> = {
  1: 'iccidOrAidNotFound',
  2: 'profileNotInDisabledState',
  3: 'disallowedByPolicy',
  4: 'wrongProfileReenabling',
  5: 'catBusy',
  127: 'undefinedError',
};

/** `iccid` in its EF_ICCID coding (10 bytes); refreshFlag false (the device refreshes itself). */
export async function enableProfile(client: Es10Client, iccid: Buffer, refreshFlag = false): Promise<void> {
  const fn = 'EnableProfile';
  const der = await client.command(EnableProfileRequest.encode({ profileIdentifier: { type: 'iccid', value: iccid }, refreshFlag }), fn);
  const result = decodeEs10Response(EnableProfileResponse, der, fn).enableResult;
  if (result !== 0) throw new Es10ResultError(fn, result, ERRORS[result]);
}
