// SGP.22 5.7.18 ES10c.DeleteProfile: deletes a disabled profile (the eUICC queues a delete notification).
import { DeleteProfileRequest, DeleteProfileResponse } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

const ERRORS: Readonly<Record<number, string>> = {
  1: 'iccidOrAidNotFound',
  2: 'profileNotInDisabledState',
  3: 'disallowedByPolicy',
  127: 'undefinedError',
};

/** `iccid` in its EF_ICCID coding (10 bytes). */
export async function deleteProfile(client: Es10Client, iccid: Buffer): Promise<void> {
  const fn = 'DeleteProfile';
  const der = await client.command(DeleteProfileRequest.encode({ type: 'iccid', value: iccid }), fn);
  const result = decodeEs10Response(DeleteProfileResponse, der, fn).deleteResult;
  if (result !== 0) throw new Es10ResultError(fn, result, ERRORS[result]);
}
