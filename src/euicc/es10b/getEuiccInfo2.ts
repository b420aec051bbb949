// SGP.22 v2.5 5.7.8 ES10b.GetEUICCInfo: EUICCInfo2 (versions, resources, capabilities, CI key identifiers).
import { decode, encode } from '../../asn1/schema.js';
import { EUICCInfo2, GetEuiccInfo2Request, RspCapability, namedBitString } from '../../asn1/definitions/rsp.js';
import { encodeTlv } from '../../asn1/tlv.js';
import type { EuiccCore } from '../core.js';
import { SVN } from './getEuiccInfo1.js';

/** SAIP (TCA eUICC Profile Package) version supported: 2.3.1. */
const PROFILE_VERSION = Buffer.from([2, 3, 1]);
/** mcim's eUICC firmware version. */
const FIRMWARE_VERSION = Buffer.from([0, 1, 0]);
/** GlobalPlatform Card Specification 2.3. */
const GLOBALPLATFORM_VERSION = Buffer.from([2, 3, 0]);
/** ETSI TS 102 241 version 9.2.0. */
const TS102241_VERSION = Buffer.from([9, 2, 0]);
/** Protection Profile version: none evaluated. */
const PP_VERSION = Buffer.from([0, 0, 0]);
/** UICCCapability (TCA PEDefinitions): usimSupport(1), akaMilenage(4), akaTuak128(6), akaTuak256(7), usimTestAlgorithm(8). */
const UICC_CAPABILITY = [1, 4, 6, 7, 8];
/** A software eUICC has no SAS accreditation. */
const SAS_ACCREDITATION_NUMBER = 'mcim software eUICC';

export function euiccInfo2(core: EuiccCore): EUICCInfo2 {
  const state = core.state;
  const free = state.settings.maxProfileSize;
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(Math.min(n, 0xffffffff));
    return b;
  };
  // SGP.22 4.3 extCardResource: 81 installed applications, 82 free non-volatile memory, 83 free volatile memory.
  const extCardResource = Buffer.concat([
    encodeTlv(0x81, Buffer.from([Math.min(state.profiles.length, 255)])),
    encodeTlv(0x82, u32(free)),
    encodeTlv(0x83, u32(free)),
  ]);
  return {
    profileVersion: PROFILE_VERSION,
    svn: SVN,
    euiccFirmwareVer: FIRMWARE_VERSION,
    extCardResource,
    uiccCapability: namedBitString(UICC_CAPABILITY),
    ts102241Version: TS102241_VERSION,
    globalplatformVersion: GLOBALPLATFORM_VERSION,
    rspCapability: namedBitString([RspCapability.additionalProfile, RspCapability.crlSupport, RspCapability.testProfileSupport]),
    euiccCiPKIdListForVerification: [...core.ciKeyIdsForVerification],
    euiccCiPKIdListForSigning: [...core.ciKeyIdsForSigning],
    ppVersion: PP_VERSION,
    sasAcreditationNumber: SAS_ACCREDITATION_NUMBER,
  };
}

export function getEuiccInfo2(core: EuiccCore, command: Buffer): Buffer {
  decode(GetEuiccInfo2Request, command);
  return encode(EUICCInfo2, euiccInfo2(core));
}
