// ETSI TS 102 221 11.1.1/11.1.3 and 3GPP TS 31.102 7.1.2 from the device side: the enabled profile's ICCID, IMSI and AKA over the card's APDU transport.
import { decodeImsi, iccidDigitsFromEf } from '../asn1/definitions/saip.js';
import { decodeTlv } from '../asn1/tlv.js';
import { CardStatusError, IpaError } from './errors.js';
import { classByte, type ApduTransport } from './es10Client.js';

/** The 3GPP USIM application's RID and application code (TS 101 220 Annex E): ADF.USIM is selected by this partial AID. */
export const USIM_AID_PREFIX: Buffer = Buffer.from('A0000000871002', 'hex');

export type UsimAuthenticateAnswer =
  | { readonly status: 'success'; readonly res: Buffer; readonly ck: Buffer; readonly ik: Buffer; readonly kc?: Buffer }
  | { readonly status: 'sync_failure'; readonly auts: Buffer }
  | { readonly status: 'mac_failure' };

const INS_SELECT = 0xa4;
const INS_READ_BINARY = 0xb0;
const INS_AUTHENTICATE = 0x88;
const INS_GET_RESPONSE = 0xc0;
const SW_OK = 0x9000;
const SW_MAC_FAILURE = 0x9862;
/** GET RESPONSE rounds for one response (256 bytes each). */
const MAX_GET_RESPONSE_ROUNDS = 256;

function apdu(cla: number, ins: number, p1: number, p2: number, data: Buffer | undefined, le: number | undefined): Buffer {
  const parts: Buffer[] = [Buffer.from([cla, ins, p1, p2])];
  if (data !== undefined && data.length > 0) parts.push(Buffer.from([data.length]), data);
  if (le !== undefined) parts.push(Buffer.from([le & 0xff]));
  return Buffer.concat(parts);
}

/**
 * The USIM of the enabled profile, on one logical channel (default the basic channel): ADF.USIM selected by partial
 * AID, EFs by file ID with their FCP, READ BINARY in 256-byte steps, AUTHENTICATE in the 3G context. Status words
 * other than 9000/61xx (and 9862 for AUTHENTICATE) become CardStatusError.
 */
export class UsimClient {
  readonly #transport: ApduTransport;
  readonly #cla: number;

  constructor(transport: ApduTransport, channel = 0) {
    this.#transport = transport;
    this.#cla = classByte(channel, false);
  }

  /** Sends one command; follows 61xx with GET RESPONSE; returns the data and the final status word. */
  async #exchange(command: Buffer, what: string): Promise<{ data: Buffer; sw: number }> {
    const parts: Buffer[] = [];
    let r = await this.#transport.transmit(command);
    for (let rounds = 0; ; rounds++) {
      if (r.length < 2) throw new IpaError('INVALID_EUICC_RESPONSE', `${what}: a response of ${r.length} bytes has no status word`);
      const sw = r.readUInt16BE(r.length - 2);
      parts.push(r.subarray(0, r.length - 2));
      if (sw >> 8 !== 0x61) return { data: Buffer.concat(parts), sw };
      if (rounds >= MAX_GET_RESPONSE_ROUNDS) throw new IpaError('INVALID_EUICC_RESPONSE', `${what}: GET RESPONSE does not end`);
      r = await this.#transport.transmit(apdu(this.#cla, INS_GET_RESPONSE, 0, 0, undefined, sw & 0xff));
    }
  }

  async #ok(command: Buffer, what: string): Promise<Buffer> {
    const { data, sw } = await this.#exchange(command, what);
    if (sw !== SW_OK) throw new CardStatusError(sw, what);
    return data;
  }

  /** SELECT ADF.USIM by the partial AID (P1 04, P2 04): the FCP. */
  async selectUsim(): Promise<Buffer> {
    return this.#ok(apdu(this.#cla, INS_SELECT, 0x04, 0x04, USIM_AID_PREFIX, 0), 'SELECT ADF.USIM');
  }

  /** SELECT by file ID (P1 00, P2 04) and READ BINARY of the whole transparent EF (its size from the FCP's tag 80). */
  async readTransparent(fid: string): Promise<Buffer> {
    const fcp = decodeTlv(await this.#ok(apdu(this.#cla, INS_SELECT, 0x00, 0x04, Buffer.from(fid, 'hex'), 0), `SELECT ${fid}`));
    const sizeTlv = fcp.tag === 0x62 ? fcp.children?.find((c) => c.tag === 0x80) : undefined;
    if (sizeTlv === undefined || sizeTlv.value.length < 1 || sizeTlv.value.length > 2) {
      throw new IpaError('INVALID_EUICC_RESPONSE', `SELECT ${fid}: the FCP has no file size`);
    }
    const size = sizeTlv.value.readUIntBE(0, sizeTlv.value.length);
    const parts: Buffer[] = [];
    for (let offset = 0; offset < size; ) {
      const n = Math.min(256, size - offset);
      const chunk = await this.#ok(apdu(this.#cla, INS_READ_BINARY, offset >> 8, offset & 0xff, undefined, n), `READ BINARY ${fid} at ${offset}`);
      if (chunk.length !== n) throw new IpaError('INVALID_EUICC_RESPONSE', `READ BINARY ${fid}: ${chunk.length} bytes, not ${n}`);
      parts.push(chunk);
      offset += n;
    }
    return Buffer.concat(parts);
  }

  /** The ICCID digits of EF_ICCID (MF 2FE2). */
  async readIccid(): Promise<string> {
    await this.#ok(apdu(this.#cla, INS_SELECT, 0x00, 0x0c, Buffer.from('3F00', 'hex'), undefined), 'SELECT MF');
    return iccidDigitsFromEf(await this.readTransparent('2FE2'));
  }

  /** The IMSI digits of EF_IMSI (ADF.USIM 6F07). */
  async readImsi(): Promise<string> {
    await this.selectUsim();
    return decodeImsi(await this.readTransparent('6F07'));
  }

  /** AUTHENTICATE (TS 31.102 7.1.2.1, 3G context) in ADF.USIM, which it selects first. */
  async authenticate(rand: Buffer, autn: Buffer): Promise<UsimAuthenticateAnswer> {
    if (rand.length !== 16 || autn.length < 16 || autn.length > 40) {
      throw new IpaError('INVALID_ARGUMENT', `RAND must be 16 bytes and AUTN 16 to 40, got ${rand.length} and ${autn.length}`);
    }
    await this.selectUsim();
    const data = Buffer.concat([Buffer.from([rand.length]), rand, Buffer.from([autn.length]), autn]);
    const { data: answer, sw } = await this.#exchange(apdu(this.#cla, INS_AUTHENTICATE, 0x00, 0x81, data, 0), 'AUTHENTICATE');
    if (sw === SW_MAC_FAILURE) return { status: 'mac_failure' };
    if (sw !== SW_OK) throw new CardStatusError(sw, 'AUTHENTICATE');
    return parseAuthenticateAnswer(answer);
  }
}

/** 'DB' L RES L CK L IK [L Kc] or 'DC' L AUTS (TS 31.102 7.1.2.1). */
function parseAuthenticateAnswer(answer: Buffer): UsimAuthenticateAnswer {
  const values: Buffer[] = [];
  for (let at = 1; at < answer.length; ) {
    const length = answer[at]!;
    if (at + 1 + length > answer.length) throw new IpaError('INVALID_EUICC_RESPONSE', 'AUTHENTICATE: a length beyond the answer');
    values.push(answer.subarray(at + 1, at + 1 + length));
    at += 1 + length;
  }
  if (answer[0] === 0xdc && values.length === 1) return { status: 'sync_failure', auts: values[0]! };
  if (answer[0] === 0xdb && (values.length === 3 || values.length === 4)) {
    const [res, ck, ik, kc] = values as [Buffer, Buffer, Buffer, Buffer | undefined];
    return { status: 'success', res, ck, ik, ...(kc !== undefined ? { kc } : {}) };
  }
  throw new IpaError('INVALID_EUICC_RESPONSE', `AUTHENTICATE: '${answer.toString('hex')}' is neither 'DB' nor 'DC'`);
}
