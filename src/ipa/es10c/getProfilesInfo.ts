// SGP.22 5.7.15 ES10c.GetProfilesInfo: the installed profiles with their state and metadata.
import { ProfileInfoListRequest, ProfileInfoListResponse, type ProfileInfo, type ProfileInfoListRequest as Request } from '../../asn1/definitions/rsp.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

const ERRORS: Readonly<Record<number, string>> = { 1: 'incorrectInputValues', 127: 'undefinedError' };

export async function getProfilesInfo(client: Es10Client, request: Request = {}): Promise<ProfileInfo[]> {
  const fn = 'GetProfilesInfo';
  const der = await client.command(ProfileInfoListRequest.encode(request), fn);
  const response = decodeEs10Response(ProfileInfoListResponse, der, fn);
  if (response.type === 'profileInfoListError') throw new Es10ResultError(fn, response.value, ERRORS[response.value]);
  return response.value;
}
