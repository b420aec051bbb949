// ISO/IEC 7816-4:2005 5.1 (command-response pairs, 5.1.1 class byte, 5.1.3 status bytes) and GPC 2.3 11.1.4 (class byte): strict short APDUs.
import { McimError } from '../errors.js';

/** The status words the card layer and its ES10 handlers answer with (ISO/IEC 7816-4 5.1.3, GPC 2.3 11.1.3). */
export const SW = {
  OK: 0x9000,
  /** Wrong length: Lc/Le inconsistent with the command, extended length, a data field where none belongs. */
  WRONG_LENGTH: 0x6700,
  /** The logical channel named in CLA (or in P2 of MANAGE CHANNEL close) is not open. */
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  /** Conditions of use not satisfied: GET RESPONSE without pending response data. */
  CONDITIONS_OF_USE_NOT_SATISFIED: 0x6985,
  /** Command not allowed: STORE DATA on a channel where no application is selected. */
  COMMAND_NOT_ALLOWED: 0x6986,
  /** Incorrect data: a STORE DATA command that is not exactly one well-formed BER-TLV. */
  INCORRECT_DATA: 0x6a80,
  /** Function not supported: no free logical channel left to open. */
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  /** SELECT of an AID that no application has. */
  APPLICATION_NOT_FOUND: 0x6a82,
  /** A STORE DATA command larger than the card buffers. */
  NOT_ENOUGH_MEMORY: 0x6a84,
  /** Incorrect P1 or P2, including a STORE DATA block number out of sequence. */
  INCORRECT_P1_P2: 0x6a86,
  /** No handler for the ES10 command's tag on the selected application. */
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  /** SELECT of a file ID, path or AID the enabled profile does not have (TS 102 221 10.2.1.5). */
  FILE_NOT_FOUND: 0x6a82,
  /** READ RECORD of a record the EF does not have. */
  RECORD_NOT_FOUND: 0x6a83,
  /** READ BINARY offset beyond the end of the EF (TS 102 221 10.2.1.4). */
  WRONG_P1_P2: 0x6b00,
  /** A file command on an EF of the wrong structure. */
  COMMAND_INCOMPATIBLE_WITH_FILE: 0x6981,
  /** A file command without a current EF. */
  NO_EF_SELECTED: 0x6986,
  /** AUTHENTICATE: incorrect MAC (TS 31.102 7.1.2.1). */
  AUTHENTICATION_MAC_FAILURE: 0x9862,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  /** An unexpected failure inside the card (a handler bug), never caused by well-formed input. */
  NO_PRECISE_DIAGNOSIS: 0x6f00,
} as const;

export type StatusWordName = Exclude<keyof typeof SW, 'OK'>;

/** A command refused with a status word. ES10 handlers throw it; the card answers SW1 SW2 without data. */
export class CardError extends McimError {
  declare readonly code: StatusWordName;
  /** The status word sent back, SW1 * 256 + SW2. */
  readonly sw: number;
  constructor(code: StatusWordName, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.sw = SW[code];
  }
}

/** The two families of class bytes the card accepts (ISO/IEC 7816-4 5.1.1; GPC 2.3 11.1.4). */
export type ClassFamily = 'interindustry' | 'proprietary';

export interface ClassByte {
  readonly family: ClassFamily;
  /** Logical channel number, 0 (basic) to 19. */
  readonly channel: number;
}

/**
 * Decodes CLA. Accepted: first interindustry 00-03 (channels 0-3), further interindustry 40-4F
 * (channels 4-19), and the GlobalPlatform proprietary equivalents 80-83 and C0-CF. Secure messaging
 * and command chaining bits, RFU classes and FF are not supported: undefined (the card answers 6E00).
 */
export function decodeClass(cla: number): ClassByte | undefined {
  const family: ClassFamily = (cla & 0x80) === 0 ? 'interindustry' : 'proprietary';
  const low = cla & 0x7f;
  if (low <= 0x03) return { family, channel: low };
  if ((low & 0x70) === 0x40) return { family, channel: 4 + (low & 0x0f) };
  return undefined;
}

/** A parsed short command APDU (ISO/IEC 7816-4 5.1, cases 1, 2S, 3S, 4S). */
export interface CommandApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** The command data field (a copy), empty in cases 1 and 2. */
  readonly data: Buffer;
  /** Ne, the maximal number of response bytes expected (1 to 256; Le 00 means 256); undefined without Le (cases 1 and 3). */
  readonly ne: number | undefined;
}

/** The largest short command APDU: header, Lc, 255 data bytes, Le. */
const MAX_SHORT_APDU_LENGTH = 4 + 1 + 255 + 1;

/**
 * Parses a command APDU strictly. Extended-length APDUs (a body starting with 00 and more than one
 * byte long) and any body whose length disagrees with Lc are refused with WRONG_LENGTH (6700).
 */
export function parseCommandApdu(apdu: Uint8Array): CommandApdu {
  if (apdu.length < 4) throw new CardError('WRONG_LENGTH', `a command APDU has at least 4 bytes, got ${apdu.length}`);
  if (apdu.length > MAX_SHORT_APDU_LENGTH) {
    throw new CardError('WRONG_LENGTH', `${apdu.length} bytes exceed the ${MAX_SHORT_APDU_LENGTH} of a short APDU`);
  }
  const header = { cla: apdu[0]!, ins: apdu[1]!, p1: apdu[2]!, p2: apdu[3]! };
  const body = apdu.length - 4;
  if (body === 0) return { ...header, data: Buffer.alloc(0), ne: undefined };
  const b1 = apdu[4]!;
  if (body === 1) return { ...header, data: Buffer.alloc(0), ne: b1 === 0 ? 256 : b1 };
  if (b1 === 0) throw new CardError('WRONG_LENGTH', 'extended length APDUs are not supported');
  const data = Buffer.from(apdu.subarray(5, 5 + b1));
  if (body === 1 + b1) return { ...header, data, ne: undefined };
  if (body === 2 + b1) {
    const le = apdu[apdu.length - 1]!;
    return { ...header, data, ne: le === 0 ? 256 : le };
  }
  throw new CardError('WRONG_LENGTH', `Lc is ${b1} but ${body - 1} bytes follow it`);
}

/** Response APDU: data || SW1 SW2. */
export function responseApdu(data: Uint8Array, sw: number): Buffer {
  return Buffer.concat([data, Buffer.from([sw >> 8, sw & 0xff])]);
}
