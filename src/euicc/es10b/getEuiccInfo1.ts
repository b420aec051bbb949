// SGP.22 v2.5 5.7.8 ES10b.GetEUICCInfo: EUICCInfo1 (SVN and the CI public key identifiers).
import { decode, encode } from '../../asn1/schema.js';
import { EUICCInfo1, GetEuiccInfo1Request } from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';

/** The SGP.22 version the eUICC implements: v2.5.0. */
export const SVN = Buffer.from([2, 5, 0]);

export function euiccInfo1(core: EuiccCore): EUICCInfo1 {
  return {
    svn: SVN,
    euiccCiPKIdListForVerification: [...core.ciKeyIdsForVerification],
    euiccCiPKIdListForSigning: [...core.ciKeyIdsForSigning],
  };
}

export function getEuiccInfo1(core: EuiccCore, command: Buffer): Buffer {
  decode(GetEuiccInfo1Request, command);
  return encode(EUICCInfo1, euiccInfo1(core));
}
