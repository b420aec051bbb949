// ISO/IEC 7816-4:2005 7.1.1 SELECT, 7.1.2 MANAGE CHANNEL, 7.6.1 GET RESPONSE, with GPC 2.3 11.11 STORE DATA for ES10 (SGP.22 5.7): the eUICC's card interface.
import { Asn1Error } from '../asn1/errors.js';
import { encodeTlv, tagHex } from '../asn1/tlv.js';
import { McimError } from '../errors.js';
import { CardError, SW, decodeClass, parseCommandApdu, responseApdu, type CommandApdu } from './apdu.js';
import { StoreDataReceiver, type CardApplication } from './storeData.js';

/** AID of the ISD-R (SGP.22 2.2). */
export const ISD_R_AID = 'A0000005591010FFFFFFFF8900000100';
/** AID of the ECASD (SGP.22 2.2). */
export const ECASD_AID = 'A0000005591010FFFFFFFF8900000200';

/**
 * How response data leaves the card.
 * - 'getResponse' (default, T=0 style, ISO/IEC 7816-4 5.1.3): data comes with 9000 directly only
 *   when the command carried an Le that covers it; otherwise the card answers 61xx (xx = bytes
 *   available, 00 for 256 or more) and the terminal fetches the data with GET RESPONSE, again with
 *   61xx while more remains.
 * - 'direct': all response data with 9000 at once, whatever Le says and however long, since the
 *   card's transports (in-process, stdio bridge, vpcd) are not limited to 256 bytes.
 */
export type ResponseMode = 'getResponse' | 'direct';

export interface CardOptions {
  responseMode?: ResponseMode;
  /** Logical channels including the basic channel, 1 to 20 (default 4). */
  logicalChannels?: number;
  /** Longest ES10 command (all STORE DATA blocks of one command) the card buffers; default 64 KiB. */
  maxCommandLength?: number;
  /** Receives errors thrown by handlers that are neither CardError nor Asn1Error (the card answers 6F00). */
  onInternalError?: (error: unknown) => void;
}

const INS_MANAGE_CHANNEL = 0x70;
const INS_SELECT = 0xa4;
const INS_GET_RESPONSE = 0xc0;
const INS_STORE_DATA = 0xe2;

/** Highest logical channel number ISO/IEC 7816-4 can address. */
const MAX_CHANNEL_NUMBER = 19;
const MIN_AID_LENGTH = 5;
const MAX_AID_LENGTH = 16;
const NO_DATA = Buffer.alloc(0);
/** Ne of a short APDU whose Le byte is 00 (ISO/IEC 7816-4 5.1); a case-1 command's T=0 P3 = 00 parses as this. */
const LE_00 = 256;

/**
 * ATR (ISO/IEC 7816-3 clause 8): direct convention, T=0 then T=1 offered, historical bytes 'mcim'
 * (category indicator outside 00/10/80: proprietary), TCK since T=1 is indicated.
 */
const ATR: Buffer = (() => {
  const historical = Buffer.from('mcim', 'ascii');
  const body = Buffer.concat([Buffer.from([0x80 | historical.length, 0x80, 0x01]), historical]);
  const tck = body.reduce((x, b) => x ^ b, 0);
  return Buffer.concat([Buffer.from([0x3b]), body, Buffer.from([tck])]);
})();

/**
 * The UICC file system behind the card (ETSI TS 102 221): SELECT other than of a registered application's full AID,
 * and the file and authentication commands. Its per-channel selection is opaque to the card.
 */
export interface CardFileSystem {
  /** SELECT (any P1): the channel's new selection and the response data; throws CardError leaving the selection as it was. */
  select(current: unknown, command: CommandApdu): { selection: unknown; response: Buffer };
  /** The interindustry INS values it executes besides SELECT. */
  readonly instructions: ReadonlySet<number>;
  /** One of `instructions`: the channel's selection afterwards and the response data. */
  execute(current: unknown, command: CommandApdu): { selection: unknown; response: Buffer };
}

interface RegisteredApplication {
  readonly aid: Buffer;
  readonly app: CardApplication;
}

interface Channel {
  readonly number: number;
  selected: RegisteredApplication | undefined;
  readonly storeData: StoreDataReceiver;
  /** Response data waiting for GET RESPONSE. */
  pending: Buffer | undefined;
  /** The file system's selection (current DF, EF, application) when the channel is in the file system. */
  files: unknown;
}

/**
 * A card that speaks ISO/IEC 7816-4 APDUs: logical channels, SELECT by AID with a per-channel
 * selection, ES10 commands over STORE DATA dispatched to the selected application's handlers
 * (see storeData.ts), long responses over GET RESPONSE. Synchronous, like the node:crypto work
 * behind it. The order of checks: APDU size and CLA (6700, 6E00), framing (6700), channel open
 * (6881), INS for the class (6D00), then the command's own checks.
 */
export class Card {
  readonly #responseMode: ResponseMode;
  readonly #maxCommandLength: number;
  readonly #onInternalError: ((error: unknown) => void) | undefined;
  readonly #applications = new Map<string, RegisteredApplication>();
  #fileSystem: CardFileSystem | undefined;
  /** Index = channel number; undefined = closed. Channel 0 is always open. */
  readonly #channels: (Channel | undefined)[];

  constructor(options: CardOptions = {}) {
    const logicalChannels = options.logicalChannels ?? 4;
    if (!Number.isInteger(logicalChannels) || logicalChannels < 1 || logicalChannels > MAX_CHANNEL_NUMBER + 1) {
      throw new McimError('INVALID_ARGUMENT', `logicalChannels must be 1 to ${MAX_CHANNEL_NUMBER + 1}, got ${logicalChannels}`);
    }
    const maxCommandLength = options.maxCommandLength ?? 64 * 1024;
    if (!Number.isInteger(maxCommandLength) || maxCommandLength < 1) {
      throw new McimError('INVALID_ARGUMENT', `maxCommandLength must be a positive integer, got ${maxCommandLength}`);
    }
    this.#responseMode = options.responseMode ?? 'getResponse';
    this.#maxCommandLength = maxCommandLength;
    this.#onInternalError = options.onInternalError;
    this.#channels = new Array<Channel | undefined>(logicalChannels).fill(undefined);
    this.#channels[0] = this.#newChannel(0, undefined);
  }

  /** Installs an application under its AID (5 to 16 bytes), selectable on any channel. */
  registerApplication(aid: Uint8Array, app: CardApplication): void {
    if (aid.length < MIN_AID_LENGTH || aid.length > MAX_AID_LENGTH) {
      throw new McimError('INVALID_ARGUMENT', `an AID has ${MIN_AID_LENGTH} to ${MAX_AID_LENGTH} bytes, got ${aid.length}`);
    }
    const key = Buffer.from(aid).toString('hex');
    if (this.#applications.has(key)) throw new McimError('INVALID_ARGUMENT', `AID ${key.toUpperCase()} is already registered`);
    for (const tag of app.streamingHandlers?.keys() ?? []) {
      if (app.handlers?.has(tag)) {
        throw new McimError('INVALID_ARGUMENT', `tag ${tagHex(tag)} has both an ordinary and a streaming handler`);
      }
    }
    this.#applications.set(key, { aid: Buffer.from(aid), app });
  }

  /** Puts the UICC file system behind the card (one; a second replaces it). */
  attachFileSystem(fileSystem: CardFileSystem): void {
    this.#fileSystem = fileSystem;
  }

  /** The card's ATR, without touching its state (a reader may ask for it at any time). */
  atr(): Buffer {
    return Buffer.from(ATR);
  }

  /**
   * Warm reset: closes the logical channels, clears selections, pending data and STORE DATA work;
   * returns the ATR. Never throws: a streaming handler's failing onAbort goes to onInternalError.
   */
  reset(): Buffer {
    const open = this.#channels.filter((c): c is Channel => c !== undefined);
    this.#channels.fill(undefined);
    this.#channels[0] = this.#newChannel(0, undefined);
    for (const channel of open) {
      try {
        channel.storeData.abort();
      } catch (e) {
        this.#onInternalError?.(e);
      }
    }
    return Buffer.from(ATR);
  }

  /** Processes one command APDU and returns the response APDU (data || SW1 SW2). Never throws for any input bytes. */
  transmit(apdu: Uint8Array): Buffer {
    try {
      return this.#process(apdu);
    } catch (e) {
      return responseApdu(NO_DATA, this.#statusWordOf(e));
    }
  }

  #statusWordOf(e: unknown): number {
    if (e instanceof CardError) return e.sw;
    if (e instanceof Asn1Error) return SW.INCORRECT_DATA;
    this.#onInternalError?.(e);
    return SW.NO_PRECISE_DIAGNOSIS;
  }

  #newChannel(number: number, selected: RegisteredApplication | undefined, files?: unknown): Channel {
    return { number, selected, storeData: new StoreDataReceiver(this.#maxCommandLength), pending: undefined, files };
  }

  #process(apdu: Uint8Array): Buffer {
    if (apdu.length < 4) throw new CardError('WRONG_LENGTH', `a command APDU has at least 4 bytes, got ${apdu.length}`);
    const cls = decodeClass(apdu[0]!);
    if (!cls) throw new CardError('CLA_NOT_SUPPORTED', `class byte ${hexByte(apdu[0]!)} is not supported`);
    const command = parseCommandApdu(apdu);
    const channel = this.#channels[cls.channel];
    if (!channel) throw new CardError('LOGICAL_CHANNEL_NOT_SUPPORTED', `logical channel ${cls.channel} is not open`);
    if (command.ins === INS_GET_RESPONSE) return this.#getResponse(channel, command);
    channel.pending = undefined;
    let data: Buffer;
    if (cls.family === 'interindustry' && command.ins === INS_MANAGE_CHANNEL) data = this.#manageChannel(channel, command);
    else if (cls.family === 'interindustry' && command.ins === INS_SELECT) data = this.#select(channel, command);
    else if (cls.family === 'proprietary' && command.ins === INS_STORE_DATA) data = this.#storeData(channel, command);
    else if (cls.family === 'interindustry' && this.#fileSystem?.instructions.has(command.ins) === true) {
      const result = this.#fileSystem.execute(channel.files, command);
      channel.files = result.selection;
      data = result.response;
    } else throw new CardError('INS_NOT_SUPPORTED', `INS ${hexByte(command.ins)} is not supported in the ${cls.family} class`);
    return this.#respond(channel, data, command.ne);
  }

  #respond(channel: Channel, data: Buffer, ne: number | undefined): Buffer {
    if (data.length === 0) return responseApdu(NO_DATA, SW.OK);
    if (this.#responseMode === 'direct' || (ne !== undefined && data.length <= ne)) return responseApdu(data, SW.OK);
    channel.pending = Buffer.from(data);
    return responseApdu(NO_DATA, bytesAvailable(data.length));
  }

  /**
   * GET RESPONSE (00 C0 00 00 Le; accepted in either class family because T=0 readers reissue it
   * with the CLA of the command). Returns up to Ne bytes of the pending data, with 61xx while more
   * remains; an Le larger than what remains returns what remains with 9000 (no 6Cxx).
   */
  #getResponse(channel: Channel, command: CommandApdu): Buffer {
    if (command.p1 !== 0 || command.p2 !== 0) throw new CardError('INCORRECT_P1_P2', 'GET RESPONSE takes P1 = P2 = 00');
    if (command.data.length > 0 || command.ne === undefined) throw new CardError('WRONG_LENGTH', 'GET RESPONSE is case 2: Le and no data');
    const pending = channel.pending;
    if (!pending) throw new CardError('CONDITIONS_OF_USE_NOT_SATISFIED', 'no response data pending');
    const chunk = pending.subarray(0, command.ne);
    const rest = pending.subarray(chunk.length);
    channel.pending = rest.length > 0 ? rest : undefined;
    return responseApdu(chunk, rest.length > 0 ? bytesAvailable(rest.length) : SW.OK);
  }

  /**
   * MANAGE CHANNEL: open (P1 00, P2 00, Le present) assigns the lowest free channel and returns its
   * number; opened from a non-basic channel, the new channel inherits that channel's selection.
   * Close (P1 80, P2 = channel 01-13, no data; Le absent or 00): a channel that is not open gives 6881; P2 00 gives
   * 6A86, the basic channel cannot be closed. Opening a specific channel (P2 non-zero) is not offered.
   * Close is case 1, whose T=0 transmission carries P3 = 00 (ISO/IEC 7816-3 12.2.2): a T=0 card cannot tell
   * `00 70 80 0n 00` from case 1, and PC/SC applications on T=0 (lpac's pcsc driver) send exactly that, so it closes too.
   */
  #manageChannel(channel: Channel, command: CommandApdu): Buffer {
    if (command.p1 === 0x00) {
      if (command.p2 !== 0) throw new CardError('INCORRECT_P1_P2', 'MANAGE CHANNEL open takes P2 = 00 (card-assigned channel)');
      if (command.data.length > 0 || command.ne === undefined) {
        throw new CardError('WRONG_LENGTH', 'MANAGE CHANNEL open is case 2: Le and no data');
      }
      const free = this.#channels.findIndex((c, i) => i > 0 && c === undefined);
      if (free < 0) throw new CardError('FUNCTION_NOT_SUPPORTED', 'no logical channel available');
      const inherit = channel.number !== 0;
      this.#channels[free] = this.#newChannel(free, inherit ? channel.selected : undefined, inherit ? channel.files : undefined);
      return Buffer.from([free]);
    }
    if (command.p1 === 0x80) {
      if (command.p2 === 0 || command.p2 > MAX_CHANNEL_NUMBER) {
        throw new CardError('INCORRECT_P1_P2', `MANAGE CHANNEL close of channel ${command.p2}: P2 is 01 to 13`);
      }
      if (command.data.length > 0 || (command.ne !== undefined && command.ne !== LE_00)) {
        throw new CardError('WRONG_LENGTH', 'MANAGE CHANNEL close is case 1: no data, and no Le other than 00 (T=0 P3)');
      }
      const target = this.#channels[command.p2];
      if (!target) throw new CardError('LOGICAL_CHANNEL_NOT_SUPPORTED', `logical channel ${command.p2} is not open`);
      target.storeData.abort();
      this.#channels[command.p2] = undefined;
      return NO_DATA;
    }
    throw new CardError('INCORRECT_P1_P2', 'MANAGE CHANNEL takes P1 = 00 (open) or 80 (close)');
  }

  /**
   * SELECT by DF name (P1 04) with the full AID of a registered application; P2 00 returns the FCI (6F { 84 AID }),
   * P2 0C no data, any other P2 6A86. Any other SELECT goes to the file system when one is attached. A successful SELECT ends any
   * STORE DATA work on the channel; an unknown AID or file (6A82) leaves the selection as it was.
   */
  #select(channel: Channel, command: CommandApdu): Buffer {
    const registered = command.p1 === 0x04 && this.#applications.has(command.data.toString('hex'));
    if (!registered && this.#fileSystem !== undefined) {
      const result = this.#fileSystem.select(channel.files, command);
      channel.storeData.abort();
      channel.selected = undefined;
      channel.files = result.selection;
      return result.response;
    }
    if (command.p1 !== 0x04 || (command.p2 !== 0x00 && command.p2 !== 0x0c)) {
      throw new CardError('INCORRECT_P1_P2', 'SELECT supports only P1 04 (by AID) with P2 00 or 0C');
    }
    if (command.data.length === 0) throw new CardError('WRONG_LENGTH', 'SELECT by AID needs the AID as data');
    const target = this.#applications.get(command.data.toString('hex'));
    if (!target) throw new CardError('APPLICATION_NOT_FOUND', `no application with AID ${command.data.toString('hex').toUpperCase()}`);
    channel.storeData.abort();
    channel.selected = target;
    channel.files = undefined;
    return command.p2 === 0x0c ? NO_DATA : encodeTlv(0x6f, encodeTlv(0x84, target.aid));
  }

  #storeData(channel: Channel, command: CommandApdu): Buffer {
    const selected = channel.selected;
    if (!selected) throw new CardError('COMMAND_NOT_ALLOWED', `no application selected on logical channel ${channel.number}`);
    return channel.storeData.receive(command.p1, command.p2, command.data, selected.app, {
      channel: channel.number,
      aid: Buffer.from(selected.aid),
    });
  }
}

function hexByte(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

/** 61xx: xx bytes of response data available, 00 for 256 or more. */
function bytesAvailable(length: number): number {
  return 0x6100 | (length >= 256 ? 0 : length);
}
