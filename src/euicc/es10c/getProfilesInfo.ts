// SGP.22 v2.5 5.7.15 ES10c.GetProfilesInfo: the installed profiles' information, by search criteria, with the fields of tagList.
import { decode, encode } from '../../asn1/schema.js';
import { ProfileClass, ProfileInfoListRequest, ProfileInfoListResponse, ProfileState, type ProfileInfo } from '../../asn1/definitions/rsp.js';
import type { EuiccCore, StoredProfile } from '../core.js';

const INCORRECT_INPUT_VALUES = 1;

/** The ProfileInfo tag of each field (RSPDefinitions ProfileInfo). */
export const FIELD_TAGS: Readonly<Record<keyof ProfileInfo, number>> = {
  iccid: 0x5a,
  isdpAid: 0x4f,
  profileState: 0x9f70,
  profileNickname: 0x90,
  serviceProviderName: 0x91,
  profileName: 0x92,
  iconType: 0x93,
  icon: 0x94,
  profileClass: 0x95,
  notificationConfigurationInfo: 0xb6,
  profileOwner: 0xb7,
  dpProprietaryData: 0xb8,
  profilePolicyRules: 0x99,
  serviceSpecificDataStoredInEuicc: 0xbf22,
};

/** Longest tag the RSP data objects use (BF22, 9F70): three bytes at most (X.690 8.1.2.4). */
const MAX_TAG_LENGTH = 3;

/** The tags of a tagList (concatenated BER tags, X.690 8.1.2); undefined when it is not one. */
export function parseTagList(tagList: Buffer): Set<number> | undefined {
  const tags = new Set<number>();
  for (let i = 0; i < tagList.length; ) {
    let tag = tagList[i]!;
    let length = 1;
    if ((tag & 0x1f) === 0x1f) {
      for (;;) {
        const next = tagList[i + length];
        if (next === undefined || length === MAX_TAG_LENGTH) return undefined;
        tag = tag * 256 + next;
        length++;
        if ((next & 0x80) === 0) break;
      }
    }
    tags.add(tag);
    i += length;
  }
  return tags;
}

export function profileInfo(core: EuiccCore, profile: StoredProfile): ProfileInfo {
  const m = core.metadataOf(profile);
  const info: ProfileInfo = {
    iccid: profile.iccid,
    isdpAid: profile.isdpAid,
    profileState: profile.state === 'enabled' ? ProfileState.enabled : ProfileState.disabled,
    ...(profile.nickname !== undefined ? { profileNickname: profile.nickname } : {}),
    serviceProviderName: m.serviceProviderName,
    profileName: m.profileName,
    ...(m.iconType !== undefined ? { iconType: m.iconType } : {}),
    ...(m.icon !== undefined ? { icon: m.icon } : {}),
    profileClass: m.profileClass ?? ProfileClass.operational,
    ...(m.notificationConfigurationInfo !== undefined ? { notificationConfigurationInfo: m.notificationConfigurationInfo } : {}),
    ...(m.profileOwner !== undefined ? { profileOwner: m.profileOwner } : {}),
    ...(profile.dpOid !== undefined ? { dpProprietaryData: { dpOid: profile.dpOid } } : {}),
    ...(m.profilePolicyRules !== undefined ? { profilePolicyRules: m.profilePolicyRules } : {}),
    ...(m.serviceSpecificDataStoredInEuicc !== undefined ? { serviceSpecificDataStoredInEuicc: m.serviceSpecificDataStoredInEuicc } : {}),
  };
  return info;
}

/** The profiles of `profiles` that match the request's searchCriteria (all without one). */
export function searchProfiles(core: EuiccCore, profiles: readonly StoredProfile[], searchCriteria: ProfileInfoListRequest['searchCriteria']): StoredProfile[] {
  return profiles.filter((p) => {
    if (searchCriteria === undefined) return true;
    if (searchCriteria.type === 'profileClass') return (core.metadataOf(p).profileClass ?? ProfileClass.operational) === searchCriteria.value;
    return (searchCriteria.type === 'iccid' ? p.iccid : p.isdpAid).equals(searchCriteria.value);
  });
}

/** The fields of `info` whose tags `tags` lists (all fields without a tagList). */
export function selectFields<T extends object>(info: T, tags: ReadonlySet<number> | undefined, fieldTags: Readonly<Record<keyof T, number>>): T {
  if (tags === undefined) return info;
  const selected = {} as T;
  for (const key of Object.keys(info) as (keyof T)[]) {
    if (tags.has(fieldTags[key])) selected[key] = info[key];
  }
  return selected;
}

export function getProfilesInfo(core: EuiccCore, command: Buffer): Buffer {
  const { searchCriteria, tagList } = decode(ProfileInfoListRequest, command);
  const tags = tagList === undefined ? undefined : parseTagList(tagList);
  if (tagList !== undefined && tags === undefined) {
    return encode(ProfileInfoListResponse, { type: 'profileInfoListError', value: INCORRECT_INPUT_VALUES });
  }
  const list = searchProfiles(core, core.state.profiles, searchCriteria).map((p) => selectFields(profileInfo(core, p), tags, FIELD_TAGS));
  return encode(ProfileInfoListResponse, { type: 'profileInfoListOk', value: list });
}
