// SGP.22 v2.5 5.7.20 ES10c.GetEID: the EID (tagList 5C '5A').
import { decode, encode } from '../../asn1/schema.js';
import { GetEuiccDataRequest, GetEuiccDataResponse } from '../../asn1/definitions/rsp.js';
import { CardError } from '../apdu.js';
import type { EuiccCore } from '../core.js';

export function getEid(core: EuiccCore, command: Buffer): Buffer {
  const { tagList } = decode(GetEuiccDataRequest, command);
  if (tagList[0] !== 0x5a) throw new CardError('INCORRECT_DATA', `GetEID tagList ${tagList.toString('hex')}: only 5A is defined`);
  return encode(GetEuiccDataResponse, { eidValue: core.eidBytes });
}
