// SGP.22 5.7 (ES10 over STORE DATA, 2.5.5/5.7.6 segmented BoundProfilePackage) with ISO/IEC 7816-4 MANAGE CHANNEL, SELECT, GET RESPONSE: the LPA's side of the card interface.
import { Asn1Error } from '../asn1/errors.js';
import { decode, type Codec } from '../asn1/schema.js';
import { decodeTlv, peekTlvHeader, tagHex, type Tlv } from '../asn1/tlv.js';
import { CardStatusError, IpaError } from './errors.js';

/** Moves APDU bytes to the eUICC and back (in process, over the stdio bridge, over PC/SC). */
export interface ApduTransport {
  transmit(apdu: Buffer): Promise<Buffer> | Buffer;
}

/** AID of the ISD-R (SGP.22 2.2.1). */
export const ISD_R_AID = Buffer.from('A0000005591010FFFFFFFF8900000100', 'hex');

export const MIN_SEGMENT_SIZE = 120;
export const MAX_SEGMENT_SIZE = 255;

export interface Es10ClientOptions {
  /** Largest STORE DATA block, 120 to 255 bytes (default 255). */
  readonly segmentSize?: number;
}

export interface OpenOptions extends Es10ClientOptions {
  /** 'logical' (default): MANAGE CHANNEL open then SELECT on the new channel; 'basic': SELECT on channel 0. */
  readonly channel?: 'logical' | 'basic';
  /** The application to select (default the ISD-R). */
  readonly aid?: Buffer;
}

const INS_MANAGE_CHANNEL = 0x70;
const INS_SELECT = 0xa4;
const INS_GET_RESPONSE = 0xc0;
const INS_STORE_DATA = 0xe2;
const P1_MORE_BLOCKS = 0x11;
const P1_LAST_BLOCK = 0x91;
const SW_OK = 0x9000;
/** GET RESPONSE rounds for one response: 256 bytes each, far more than any ES10 response. */
const MAX_GET_RESPONSE_ROUNDS = 4096;
/** Highest logical channel ISO/IEC 7816-4 can address. */
const MAX_CHANNEL = 19;

/** CLA of a logical channel (ISO/IEC 7816-4 5.1.1): 00-03 first interindustry, 40-4F further; proprietary sets b8. */
export function classByte(channel: number, proprietary: boolean): number {
  const base = channel < 4 ? channel : 0x40 | (channel - 4);
  return proprietary ? base | 0x80 : base;
}

function shortApdu(cla: number, ins: number, p1: number, p2: number, data?: Buffer, le?: number): Buffer {
  const parts: Buffer[] = [Buffer.from([cla, ins, p1, p2])];
  if (data && data.length > 0) parts.push(Buffer.from([data.length]), data);
  if (le !== undefined) parts.push(Buffer.from([le & 0xff]));
  return Buffer.concat(parts);
}

interface Response {
  readonly data: Buffer;
  readonly sw: number;
}

function splitResponse(r: Buffer, what: string): Response {
  if (r.length < 2) throw new IpaError('INVALID_EUICC_RESPONSE', `${what}: a response APDU of ${r.length} bytes has no status word`);
  return { data: r.subarray(0, r.length - 2), sw: r.readUInt16BE(r.length - 2) };
}

/**
 * An ES10 session with the ISD-R on one channel: every ES10 command goes out as STORE DATA blocks
 * (P1 11 while more follow, 91 for the last; P2 the block number), responses come back directly
 * with 9000 or over 61xx and GET RESPONSE. Status words other than 9000/61xx become CardStatusError.
 */
export class Es10Client {
  readonly #transport: ApduTransport;
  readonly #channel: number;
  readonly #segmentSize: number;
  #closed = false;

  /** Binds to a channel on which the ISD-R is already selected (e.g. opened by the stdio bridge). */
  constructor(transport: ApduTransport, channel: number, options: Es10ClientOptions = {}) {
    const segmentSize = options.segmentSize ?? MAX_SEGMENT_SIZE;
    if (!Number.isInteger(segmentSize) || segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
      throw new IpaError('INVALID_ARGUMENT', `the STORE DATA segment size is ${MIN_SEGMENT_SIZE} to ${MAX_SEGMENT_SIZE}, got ${segmentSize}`);
    }
    if (!Number.isInteger(channel) || channel < 0 || channel > MAX_CHANNEL) {
      throw new IpaError('INVALID_ARGUMENT', `logical channel ${channel} is not 0 to ${MAX_CHANNEL}`);
    }
    this.#transport = transport;
    this.#channel = channel;
    this.#segmentSize = segmentSize;
  }

  /** Opens a channel (logical by default) and selects the ISD-R on it. */
  static async open(transport: ApduTransport, options: OpenOptions = {}): Promise<Es10Client> {
    const aid = options.aid ?? ISD_R_AID;
    let channel = 0;
    if ((options.channel ?? 'logical') === 'logical') {
      channel = await openLogicalChannel(transport);
    }
    try {
      await selectApplication(transport, channel, aid);
    } catch (e) {
      if (channel !== 0) await closeLogicalChannel(transport, channel).catch(() => undefined);
      throw e;
    }
    return new Es10Client(transport, channel, options);
  }

  get channel(): number {
    return this.#channel;
  }

  /** Closes the logical channel (nothing to do on the basic channel). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#channel !== 0) await closeLogicalChannel(this.#transport, this.#channel);
  }

  /**
   * Sends one ES10 command (one BER-TLV) and returns its response data (empty for a bare 9000).
   * `what` names the function in errors.
   */
  async command(command: Buffer, what = describe(command)): Promise<Buffer> {
    if (this.#closed) throw new IpaError('INVALID_ARGUMENT', `${what}: the ES10 channel is closed`);
    const last = Math.max(0, Math.ceil(command.length / this.#segmentSize) - 1);
    if (last > 0xff) throw new IpaError('INVALID_ARGUMENT', `${what}: ${command.length} bytes need more than 256 STORE DATA blocks`);
    const cla = classByte(this.#channel, true);
    for (let block = 0; block < last; block++) {
      const chunk = command.subarray(block * this.#segmentSize, (block + 1) * this.#segmentSize);
      const r = await this.#exchange(shortApdu(cla, INS_STORE_DATA, P1_MORE_BLOCKS, block, chunk), what);
      if (r.sw !== SW_OK) throw new CardStatusError(r.sw, `${what} (STORE DATA block ${block})`);
      if (r.data.length > 0) throw new IpaError('INVALID_EUICC_RESPONSE', `${what}: response data before the last STORE DATA block`);
    }
    const chunk = command.subarray(last * this.#segmentSize);
    const first = await this.#exchange(shortApdu(cla, INS_STORE_DATA, P1_LAST_BLOCK, last, chunk), what);
    return this.#collect(first, what);
  }

  /**
   * Sends the commands in order and stops at the first one answered with data (SGP.22 5.7.6: the
   * eUICC answers the BPP's STORE DATA commands with a bare 9000 until it returns the
   * ProfileInstallationResult, at the end or early after an error). Returns that data, or an empty
   * buffer when every command was answered without data.
   */
  async commandsUntilData(commands: readonly Buffer[], what: string): Promise<Buffer> {
    for (const [i, c] of commands.entries()) {
      const data = await this.command(c, `${what} (command ${i + 1} of ${commands.length})`);
      if (data.length > 0) return data;
    }
    return Buffer.alloc(0);
  }

  async #exchange(apdu: Buffer, what: string): Promise<Response> {
    return splitResponse(await this.#transport.transmit(apdu), what);
  }

  /** Follows 61xx with GET RESPONSE (and 6Cxx with the exact Le) until 9000. */
  async #collect(first: Response, what: string): Promise<Buffer> {
    const parts = [first.data];
    let sw = first.sw;
    for (let rounds = 0; sw !== SW_OK; rounds++) {
      const sw1 = sw >> 8;
      if (sw1 !== 0x61 && sw1 !== 0x6c) throw new CardStatusError(sw, what);
      if (rounds >= MAX_GET_RESPONSE_ROUNDS) throw new IpaError('INVALID_EUICC_RESPONSE', `${what}: GET RESPONSE does not end`);
      const r = await this.#exchange(shortApdu(classByte(this.#channel, false), INS_GET_RESPONSE, 0, 0, undefined, sw & 0xff), what);
      parts.push(r.data);
      sw = r.sw;
    }
    return Buffer.concat(parts);
  }
}

/** MANAGE CHANNEL open (ISO/IEC 7816-4 7.1.2): the card assigns the channel and returns its number. */
export async function openLogicalChannel(transport: ApduTransport): Promise<number> {
  const r = splitResponse(await transport.transmit(shortApdu(0x00, INS_MANAGE_CHANNEL, 0x00, 0x00, undefined, 1)), 'MANAGE CHANNEL open');
  if (r.sw !== SW_OK) throw new CardStatusError(r.sw, 'MANAGE CHANNEL open');
  const channel = r.data[0];
  if (r.data.length !== 1 || channel === undefined || channel < 1 || channel > MAX_CHANNEL) {
    throw new IpaError('INVALID_EUICC_RESPONSE', `MANAGE CHANNEL open returned '${r.data.toString('hex')}', not a channel number`);
  }
  return channel;
}

/** MANAGE CHANNEL close of a logical channel (ISO/IEC 7816-4 7.1.2). */
export async function closeLogicalChannel(transport: ApduTransport, channel: number): Promise<void> {
  const r = splitResponse(await transport.transmit(shortApdu(0x00, INS_MANAGE_CHANNEL, 0x80, channel)), 'MANAGE CHANNEL close');
  if (r.sw !== SW_OK) throw new CardStatusError(r.sw, `MANAGE CHANNEL close of channel ${channel}`);
}

/** SELECT by DF name (ISO/IEC 7816-4 7.1.1, P1 04, P2 00 with the FCI returned and discarded). */
export async function selectApplication(transport: ApduTransport, channel: number, aid: Buffer): Promise<void> {
  const what = `SELECT ${aid.toString('hex').toUpperCase()}`;
  let r = splitResponse(await transport.transmit(shortApdu(classByte(channel, false), INS_SELECT, 0x04, 0x00, aid, 0)), what);
  for (let rounds = 0; r.sw >> 8 === 0x61; rounds++) {
    if (rounds >= MAX_GET_RESPONSE_ROUNDS) throw new IpaError('INVALID_EUICC_RESPONSE', `${what}: GET RESPONSE does not end`);
    r = splitResponse(await transport.transmit(shortApdu(classByte(channel, false), INS_GET_RESPONSE, 0, 0, undefined, r.sw & 0xff)), what);
  }
  if (r.sw !== SW_OK) throw new CardStatusError(r.sw, what);
}

function describe(command: Buffer): string {
  try {
    const header = peekTlvHeader(command);
    return header ? `ES10 ${tagHex(header.tag)}` : 'ES10 command';
  } catch {
    return 'ES10 command';
  }
}

/** One command container of a BoundProfilePackage (A0, A1, A2, A3) with its segments. */
export interface BppContainer {
  readonly tag: number;
  /** The container's own tag and length. */
  readonly header: Buffer;
  /** Its segments (87, 88 or 86 TLVs), in order. */
  readonly segments: readonly Tlv[];
}

/** The parts of a BoundProfilePackage (BF36): its header, InitialiseSecureChannelRequest (BF23) and command containers. */
export interface BppStructure {
  readonly header: Buffer;
  readonly initialiseSecureChannel: Tlv;
  readonly containers: readonly BppContainer[];
}

/** Each container of SGP.22 2.5.4 in order, with the only tag its segments may carry. */
const BPP_CONTAINERS = [
  { tag: 0xa0, segment: 0x87, optional: false },
  { tag: 0xa1, segment: 0x88, optional: false },
  { tag: 0xa2, segment: 0x87, optional: true },
  { tag: 0xa3, segment: 0x86, optional: false },
];

/**
 * Splits a BoundProfilePackage into its parts, refusing one that does not have the layout of SGP.22 2.5.4:
 * BF36 { BF23, A0 { 87... }, A1 { 88... }, [A2 { 87... }], A3 { 86... } }.
 */
export function parseBoundProfilePackage(bpp: Buffer): BppStructure {
  let outer: Tlv;
  try {
    outer = decodeTlv(bpp);
  } catch (e) {
    if (e instanceof Asn1Error) throw new IpaError('INVALID_SERVER_RESPONSE', `the BoundProfilePackage is not one BER-TLV: ${e.message}`, { cause: e });
    throw e;
  }
  const header = (t: Tlv): Buffer => t.raw.subarray(0, t.raw.length - t.value.length);
  const bad = (why: string): IpaError =>
    new IpaError('INVALID_SERVER_RESPONSE', `malformed BoundProfilePackage: ${why} (SGP.22 2.5.4: BF36 holds BF23, A0 of 87, A1 of 88, optionally A2 of 87, A3 of 86, in this order)`);
  if (outer.tag !== 0xbf36) throw bad(`outer tag ${tagHex(outer.tag)} instead of BF36`);
  const [init, ...rest] = outer.children ?? [];
  if (!init || init.tag !== 0xbf23) throw bad('it does not start with InitialiseSecureChannelRequest (BF23)');
  const containers: BppContainer[] = [];
  let i = 0;
  for (const e of BPP_CONTAINERS) {
    const part = rest[i];
    if (!part || part.tag !== e.tag) {
      if (e.optional) continue;
      throw bad(part ? `${tagHex(part.tag)} where ${tagHex(e.tag)} is due` : `${tagHex(e.tag)} is missing`);
    }
    i++;
    const segments = part.children ?? [];
    const stray = segments.find((t) => t.tag !== e.segment);
    if (stray) throw bad(`${tagHex(e.tag)} holds a ${tagHex(stray.tag)} segment where only ${tagHex(e.segment)} is allowed`);
    containers.push({ tag: e.tag, header: header(part), segments });
  }
  if (i !== rest.length) throw bad(`unexpected element ${tagHex(rest[i]!.tag)} after A3`);
  return { header: header(outer), initialiseSecureChannel: init, containers };
}

/**
 * Cuts a BoundProfilePackage (BF36) into the STORE DATA commands of SGP.22 2.5.5: BF36 header with
 * BF23; A0 header with its first 87 (further 87s alone); A1 header; each 88; A2 header with its
 * first 87 (further 87s alone), when present; A3 header; each 86.
 */
export function segmentBoundProfilePackage(bpp: Buffer): Buffer[] {
  const { header, initialiseSecureChannel, containers } = parseBoundProfilePackage(bpp);
  const out: Buffer[] = [Buffer.concat([header, initialiseSecureChannel.raw])];
  for (const c of containers) {
    const [first, ...more] = c.segments;
    if ((c.tag === 0xa0 || c.tag === 0xa2) && first) out.push(Buffer.concat([c.header, first.raw]), ...more.map((t) => t.raw));
    else out.push(c.header, ...c.segments.map((t) => t.raw));
  }
  return out;
}

/** Decodes an ES10 response, turning malformed bytes into INVALID_EUICC_RESPONSE. */
export function decodeEs10Response<T>(codec: Codec<T>, data: Buffer, fn: string): T {
  try {
    return decode(codec, data);
  } catch (e) {
    if (e instanceof Asn1Error) throw new IpaError('INVALID_EUICC_RESPONSE', `${fn}: malformed response: ${e.message}`, { cause: e });
    throw e;
  }
}

/** The meaning of a result code from a table of named values, for error messages. */
export function resultName(table: Readonly<Record<string, number>>, code: number): string | undefined {
  return Object.entries(table).find(([, v]) => v === code)?.[0];
}
