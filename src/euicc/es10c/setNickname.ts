// SGP.22 v2.5 5.7.21 ES10c.SetNickname: the end user's nickname of a profile.
import { decode, encode } from '../../asn1/schema.js';
import { SetNicknameRequest, SetNicknameResponse } from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';

const OK = 0;
const ICCID_NOT_FOUND = 1;

export function setNickname(core: EuiccCore, command: Buffer): Buffer {
  const { iccid, profileNickname } = decode(SetNicknameRequest, command);
  const state = core.state;
  if (!core.findProfile({ type: 'iccid', value: iccid })) return encode(SetNicknameResponse, { setNicknameResult: ICCID_NOT_FOUND });
  core.commit({
    ...state,
    profiles: state.profiles.map((p) => (p.iccid.equals(iccid) ? { ...p, nickname: profileNickname } : p)),
  });
  return encode(SetNicknameResponse, { setNicknameResult: OK });
}
