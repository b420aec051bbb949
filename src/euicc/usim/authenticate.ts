// 3GPP TS 31.102 7.1.2 AUTHENTICATE (7.1.2.1 3G security context; TS 33.102 6.3.3 on the USIM, 6.8.1.2 c3 for Kc): RES/CK/IK, AUTS, or 9862.
import { encodeTlv } from '../../asn1/tlv.js';
import { usimAuthenticate } from '../../crypto/usimAuthenticate.js';
import { CardError, type CommandApdu } from '../apdu.js';
import type { EuiccCore, StoredProfile } from '../core.js';
import { akaAlgorithmOf, sqnStateOf } from './akaAlgorithm.js';
import type { ProfileFileSystem } from './fileSystem.js';

const CONTEXT_3G = 0x81;
const TAG_SUCCESS = 0xdb;
const TAG_SYNC_FAILURE = 0xdc;
const EF_UST = '6F38';
/** UST service n°27: GSM access (Kc in the 3G context answer). */
const SERVICE_GSM_ACCESS = 27;

/** The length-prefixed values of the command data: exactly `count` of them, filling it (6700 otherwise). */
function lengthValues(data: Buffer, count: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (out.length < count) {
    const length = data[at];
    if (length === undefined || at + 1 + length > data.length) throw new CardError('WRONG_LENGTH', 'AUTHENTICATE data: a length beyond Lc');
    out.push(data.subarray(at + 1, at + 1 + length));
    at += 1 + length;
  }
  if (at !== data.length) throw new CardError('WRONG_LENGTH', `AUTHENTICATE data: ${data.length - at} bytes after AUTN`);
  return out;
}

function serviceAvailable(fs: ProfileFileSystem, service: number): boolean {
  const ust = fs.adfUsim?.children.find((c) => c.fid === EF_UST);
  if (ust?.kind !== 'ef') return false;
  const byte = ust.data[(service - 1) >> 3];
  return byte !== undefined && (byte & (1 << ((service - 1) & 7))) !== 0;
}

/** c3 (TS 33.102 6.8.1.2): Kc = CK1 xor CK2 xor IK1 xor IK2 over the 64-bit halves. */
function c3(ck: Buffer, ik: Buffer): Buffer {
  const kc = Buffer.alloc(8);
  for (let i = 0; i < 8; i++) kc[i] = ck[i]! ^ ck[i + 8]! ^ ik[i]! ^ ik[i + 8]!;
  return kc;
}

/**
 * AUTHENTICATE in the 3G context (P1 00, P2 81): data = L RAND || RAND || L AUTN || AUTN. Success: the new SQN
 * array is sealed first, then 'DB' L RES RES L CK CK L IK IK (and L Kc Kc when UST service 27 is available) is
 * returned; a SQN out of range gives 'DC' L AUTS AUTS and changes nothing; a wrong MAC gives 9862. Other contexts
 * (GSM 80, GBA, MBMS) are not offered (6A86).
 */
export function authenticate(core: EuiccCore, profile: StoredProfile, fs: ProfileFileSystem, command: CommandApdu): Buffer {
  if (command.p1 !== 0x00 || command.p2 !== CONTEXT_3G) {
    throw new CardError('INCORRECT_P1_P2', `AUTHENTICATE P1 ${command.p1.toString(16)} P2 ${command.p2.toString(16)}: only the 3G context (00 81)`);
  }
  const [rand, autn] = lengthValues(command.data, 2) as [Buffer, Buffer];
  const aka = profile.usim.essentials.aka;
  if (aka === undefined) throw new CardError('CONDITIONS_OF_USE_NOT_SATISFIED', 'the USIM has no AKA parameters of its own (mapped from another application)');
  const algorithm = akaAlgorithmOf(aka);
  if (rand.length !== 16 || autn.length !== 8 + algorithm.macLength) {
    throw new CardError('WRONG_LENGTH', `AUTHENTICATE: RAND of ${rand.length} bytes and AUTN of ${autn.length} (16 and ${8 + algorithm.macLength} expected)`);
  }
  const sqn = sqnStateOf(aka, profile.usim.sqn);
  const result = usimAuthenticate(algorithm, sqn, rand, autn);
  if (result.status === 'mac_failure') throw new CardError('AUTHENTICATION_MAC_FAILURE', 'AUTN: MAC-A does not verify');
  if (result.status === 'sync_failure') return encodeTlv(TAG_SYNC_FAILURE, result.auts);
  const state = core.state;
  core.commit({
    ...state,
    profiles: state.profiles.map((p) => (p.isdpAid.equals(profile.isdpAid) ? { ...p, usim: { ...p.usim, sqn: sqn.seqArray } } : p)),
  });
  const parts = [result.res, result.ck, result.ik];
  if (serviceAvailable(fs, SERVICE_GSM_ACCESS) && result.ck.length === 16 && result.ik.length === 16) parts.push(c3(result.ck, result.ik));
  return Buffer.concat([Buffer.from([TAG_SUCCESS]), ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), p]))]);
}
