// SGP.32 v1.2 2.11.1.1.3 (PSMO listProfileInfo): the profiles' information as ES10c.GetProfilesInfo gives it, with SGP.32's eCall and fallback fields.
import type { ProfileInfoListRequest } from '../../../asn1/definitions/rsp.js';
import {
  ProfileInfoListError,
  StoreMetadataRequest,
  type EuiccResultData,
  type Sgp32ProfileInfo,
} from '../../../asn1/definitions/sgp32.js';
import { decode } from '../../../asn1/schema.js';
import { FIELD_TAGS, parseTagList, profileInfo, searchProfiles, selectFields } from '../../es10c/getProfilesInfo.js';
import type { PackageDraft } from '../packageDraft.js';

/** The SGP32-ProfileInfo tag of each field. */
const SGP32_FIELD_TAGS: Readonly<Record<keyof Sgp32ProfileInfo, number>> = {
  ...FIELD_TAGS,
  ecallIndication: 0x9f7b,
  fallbackAttribute: 0x9f26,
  fallbackAllowed: 0x9f67,
};

/**
 * profileChangeOngoing (11) after an enable, disable or delete in the same package (the states it would list are not
 * yet those the package leaves); incorrectInputValues (1) for a tagList that is not a list of tags. fallbackAttribute
 * is listed (TRUE) only for the Fallback Profile, its DEFAULT FALSE being left out.
 */
export function listProfileInfo(d: PackageDraft, request: ProfileInfoListRequest): EuiccResultData {
  const error = (value: number): EuiccResultData => ({ type: 'listProfileInfoResult', value: { type: 'profileInfoListError', value } });
  if (d.profileChanged) return error(ProfileInfoListError.profileChangeOngoing);
  const tags = request.tagList === undefined ? undefined : parseTagList(request.tagList);
  if (request.tagList !== undefined && tags === undefined) return error(ProfileInfoListError.incorrectInputValues);
  const list = searchProfiles(d.core, d.profiles, request.searchCriteria).map((p) => {
    const metadata = decode(StoreMetadataRequest, p.metadata);
    const info: Sgp32ProfileInfo = {
      ...profileInfo(d.core, p),
      ...(metadata.ecallIndication !== undefined ? { ecallIndication: metadata.ecallIndication } : {}),
      ...(d.iot.fallbackIccid?.equals(p.iccid) === true ? { fallbackAttribute: true } : {}),
      ...(metadata.fallbackAllowed !== undefined ? { fallbackAllowed: metadata.fallbackAllowed } : {}),
    };
    return selectFields(info, tags, SGP32_FIELD_TAGS);
  });
  return { type: 'listProfileInfoResult', value: { type: 'profileInfoListOk', value: list } };
}
