// GPC 2.3 11.11 STORE DATA and SGP.22 5.7 (ES10 over STORE DATA; 2.5.5/5.7.6 segmented BPP): block reassembly and ES10 dispatch.
import { Asn1Error } from '../asn1/errors.js';
import { decodeTlv, peekTlvHeader, tagHex } from '../asn1/tlv.js';
import { CardError } from './apdu.js';

/*
 * Design.
 *
 * One StoreDataReceiver per open logical channel reassembles STORE DATA blocks into commands.
 * P1 is '11' (more blocks) or '91' (last block): GPC 11.11.2.1 b8 = last block, b5-b4 = '10'
 * BER-TLV structure, the coding SGP.22 5.7 prescribes for ES10. P2 is the block number
 * (GPC 11.11.2.2): '00' for the first block of a command, then +1 modulo 256 per block. A block
 * whose number does not continue the sequence (a first block other than '00', a skipped or
 * repeated block, a block after the last) has an incorrect P2: 6A86. Blocks of 1 to 255 bytes are
 * accepted; the concatenated command is limited to maxCommandLength bytes (6A84 beyond).
 *
 * At the last block the command's outer tag (peekTlvHeader) picks the handler of the selected
 * application:
 * - an ordinary handler gets the command when it is exactly one well-formed BER-TLV (decodeTlv;
 *   6A80 otherwise) and answers with response data;
 * - a streaming handler (BF36 BoundProfilePackage) opens a stream over the element the command
 *   starts (that command holds at least the element's tag and length). SGP.22 2.5.5 has the LPA
 *   send a BPP as a sequence of STORE DATA commands (BF36 header + BF23, A0 + 87, A1 header, each
 *   88, A2 + 87, A3 header, each 86), each answered before the next is sent. Every command's data on that channel, in order, goes to the handler
 *   with its offset in the element, until the element's declared length is reached or the handler
 *   says it is done (the ProfileInstallationResult after an error). The handler parses the inner
 *   structure itself (peekTlvHeader over its own buffer), so any split of the element into
 *   commands is handled alike. A command reaching beyond the declared length is refused (6A80).
 *
 * No handler for the tag: 6A88 (referenced data not found; the INS itself is supported).
 * Any STORE DATA refused with an error discards the command being reassembled and ends an open
 * stream. A stream that ends other than by the handler's own return (an error, SELECT, MANAGE
 * CHANNEL close, reset, or the handler throwing) is reported to the handler's onAbort.
 */

/** P1 of a STORE DATA block that more blocks of the same command follow. */
export const P1_MORE_BLOCKS = 0x11;
/** P1 of the last (or only) STORE DATA block of a command. */
export const P1_LAST_BLOCK = 0x91;

/** Where an ES10 command arrived. */
export interface CommandContext {
  /** The logical channel, 0 (basic) to 19. */
  readonly channel: number;
  /** AID of the application selected on that channel. */
  readonly aid: Buffer;
}

/**
 * Handles one complete ES10 command (one BER-TLV, exactly as received) and returns the response
 * data (empty for a bare 9000), or throws CardError for a status word.
 */
export type CommandHandler = (command: Buffer, ctx: CommandContext) => Buffer;

/** Where a chunk sits in a streamed element. */
export interface StreamPosition {
  /** Offset of the chunk's first byte within the element (0 for the command that starts it, which holds the element's tag and length). */
  readonly offset: number;
  /** Length of the whole element, tag and length fields included. The chunk ending there is the last one. */
  readonly totalLength: number;
}

export interface StreamStep {
  /** Response data of this STORE DATA command (empty for a bare 9000). */
  readonly response: Buffer;
  /** True when the handler has finished with the element before its end (e.g. after an error result). */
  readonly done: boolean;
}

/**
 * Consumes an element that arrives over several STORE DATA commands (SGP.22 5.7.6
 * LoadBoundProfilePackage). The first chunk (offset 0) carries the declared totalLength, which the
 * handler judges (a CardError refuses the element); a thrown error ends the stream.
 */
export interface StreamingHandler {
  onData(chunk: Buffer, position: StreamPosition, ctx: CommandContext): StreamStep;
  /** The stream ended before the element was complete and without the handler saying done. */
  onAbort(ctx: CommandContext): void;
}

/** An application (ISD-R, ECASD): its ES10 handlers by the command's outer tag (0xBF2E, ...). */
export interface CardApplication {
  readonly handlers?: ReadonlyMap<number, CommandHandler>;
  readonly streamingHandlers?: ReadonlyMap<number, StreamingHandler>;
}

interface OpenStream {
  readonly handler: StreamingHandler;
  readonly ctx: CommandContext;
  readonly totalLength: number;
  received: number;
}

const NO_DATA = Buffer.alloc(0);

export class StoreDataReceiver {
  readonly #maxCommandLength: number;
  /** Block number the next block must carry; undefined when no command is being reassembled. */
  #nextBlock: number | undefined;
  #blocks: Buffer[] = [];
  #length = 0;
  #stream: OpenStream | undefined;

  constructor(maxCommandLength: number) {
    this.#maxCommandLength = maxCommandLength;
  }

  /** Takes one STORE DATA block; returns the response data of the command (empty until its last block). */
  receive(p1: number, p2: number, data: Buffer, app: CardApplication, ctx: CommandContext): Buffer {
    try {
      return this.#receive(p1, p2, data, app, ctx);
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** Discards the command being reassembled and aborts an open stream. */
  abort(): void {
    this.#nextBlock = undefined;
    this.#blocks = [];
    this.#length = 0;
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.handler.onAbort(stream.ctx);
  }

  #receive(p1: number, p2: number, data: Buffer, app: CardApplication, ctx: CommandContext): Buffer {
    if (p1 !== P1_MORE_BLOCKS && p1 !== P1_LAST_BLOCK) {
      throw new CardError('INCORRECT_P1_P2', `STORE DATA P1 must be 11 or 91, got ${hexByte(p1)}`);
    }
    if (data.length === 0) throw new CardError('WRONG_LENGTH', 'STORE DATA without data');
    const expected = this.#nextBlock ?? 0;
    if (p2 !== expected) {
      throw new CardError(
        'INCORRECT_P1_P2',
        this.#nextBlock === undefined
          ? `STORE DATA block ${hexByte(p2)} without a command in progress: the first block is 00`
          : `STORE DATA block ${hexByte(p2)} where block ${hexByte(expected)} is due`,
      );
    }
    if (this.#length + data.length > this.#maxCommandLength) {
      throw new CardError('NOT_ENOUGH_MEMORY', `oversized STORE DATA: the command exceeds ${this.#maxCommandLength} bytes`);
    }
    this.#blocks.push(data);
    this.#length += data.length;
    this.#nextBlock = (p2 + 1) & 0xff;
    if (p1 === P1_MORE_BLOCKS) return NO_DATA;

    const command = this.#blocks.length === 1 ? data : Buffer.concat(this.#blocks, this.#length);
    this.#nextBlock = undefined;
    this.#blocks = [];
    this.#length = 0;
    return this.#stream ? this.#feed(this.#stream, command) : this.#dispatch(command, app, ctx);
  }

  #dispatch(command: Buffer, app: CardApplication, ctx: CommandContext): Buffer {
    let header: ReturnType<typeof peekTlvHeader>;
    try {
      header = peekTlvHeader(command);
    } catch (e) {
      throw incorrectData(e);
    }
    if (header === undefined) throw new CardError('INCORRECT_DATA', 'the ES10 command ends inside its tag or length');
    const streamingHandler = app.streamingHandlers?.get(header.tag);
    if (streamingHandler) {
      if (command.length > header.totalLength) {
        throw new CardError('INCORRECT_DATA', `${command.length - header.totalLength} bytes after the ${tagHex(header.tag)} element`);
      }
      const stream: OpenStream = { handler: streamingHandler, ctx, totalLength: header.totalLength, received: 0 };
      this.#stream = stream;
      return this.#feed(stream, command);
    }
    const handler = app.handlers?.get(header.tag);
    if (!handler) throw new CardError('REFERENCED_DATA_NOT_FOUND', `no ES10 function with tag ${tagHex(header.tag)}`);
    try {
      decodeTlv(command, { maxSize: this.#maxCommandLength });
    } catch (e) {
      throw incorrectData(e);
    }
    return handler(command, ctx);
  }

  #feed(stream: OpenStream, chunk: Buffer): Buffer {
    const remaining = stream.totalLength - stream.received;
    if (chunk.length > remaining) {
      throw new CardError('INCORRECT_DATA', `STORE DATA of ${chunk.length} bytes where the streamed element has ${remaining} left`);
    }
    const offset = stream.received;
    stream.received += chunk.length;
    const step = stream.handler.onData(chunk, { offset, totalLength: stream.totalLength }, stream.ctx);
    if (step.done || stream.received === stream.totalLength) this.#stream = undefined;
    return step.response;
  }
}

function incorrectData(e: unknown): unknown {
  if (!(e instanceof Asn1Error)) return e;
  return new CardError('INCORRECT_DATA', `malformed ES10 command: ${e.message}`, { cause: e });
}

function hexByte(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}
