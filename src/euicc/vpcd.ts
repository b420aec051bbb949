// vsmartcard vpcd protocol (NOTES.md "Virtual smart-card reader"; ISO/IEC 7816-3 8 for the ATR): the eUICC as the card in pcscd's virtual reader.
import { connect, type Socket } from 'node:net';
import { McimError } from '../errors.js';
import { SW } from './apdu.js';
import type { Card } from './card.js';

/** The port pcscd's vpcd driver listens on for its first slot (Debian's /etc/reader.conf.d/vpcd: CHANNELID 0x8C7B). */
export const VPCD_DEFAULT_PORT = 35963;

/**
 * The longest payload accepted: a short command APDU (CLA INS P1 P2 Lc, 255 data bytes, Le), the largest the card parses
 * (apdu.ts). A longer frame is refused with 6700 (wrong length) and its bytes are skipped as they arrive, never buffered.
 */
export const VPCD_MAX_FRAME = 4 + 1 + 255 + 1;

/** The 1-byte control payloads vpcd sends. */
export const VpcdControl = { powerOff: 0, powerOn: 1, reset: 2, getAtr: 4 } as const;

const HEADER = 2;

/**
 * The card's side of one vpcd connection: frames in (2-byte big-endian length, payload), frames out. A 1-byte payload is
 * a control: power off, power on and reset reset the card (closing its logical channels and pending work) and are not
 * answered; get ATR is answered with the card's ATR; an unknown control is reported and ignored. A longer payload is a
 * command APDU answered with the card's response APDU. An empty frame breaks the protocol: the connection must end.
 */
export class VpcdSession {
  readonly #card: Card;
  readonly #maxFrame: number;
  readonly #send: (frame: Buffer) => void;
  readonly #log: (message: string) => void;
  #buffer: Buffer = Buffer.alloc(0);
  /** Bytes of a refused frame still to skip. */
  #skipping = 0;

  constructor(card: Card, send: (frame: Buffer) => void, options: { maxFrame?: number; log?: (message: string) => void } = {}) {
    const maxFrame = options.maxFrame ?? VPCD_MAX_FRAME;
    if (!Number.isInteger(maxFrame) || maxFrame < 4 || maxFrame > 0xffff) throw new McimError('INVALID_ARGUMENT', `maxFrame must be 4 to 65535, got ${maxFrame}`);
    this.#card = card;
    this.#maxFrame = maxFrame;
    this.#send = send;
    this.#log = options.log ?? (() => undefined);
  }

  /** Consumes bytes from vpcd; answers every complete frame in order. Returns false when the peer broke the protocol. */
  receive(chunk: Buffer): boolean {
    let data = chunk;
    while (data.length > 0) {
      if (this.#skipping > 0) {
        const n = Math.min(this.#skipping, data.length);
        this.#skipping -= n;
        data = data.subarray(n);
        if (this.#skipping === 0) this.#send(frame(responseOf(SW.WRONG_LENGTH)));
        continue;
      }
      const buffered = this.#buffer.length === 0 ? data : Buffer.concat([this.#buffer, data]);
      this.#buffer = Buffer.alloc(0);
      if (buffered.length < HEADER) {
        this.#buffer = Buffer.from(buffered);
        return true;
      }
      const length = buffered.readUInt16BE(0);
      if (length === 0) {
        this.#log('vpcd sent an empty frame: closing the connection');
        return false;
      }
      if (length > this.#maxFrame) {
        this.#log(`vpcd sent a ${length}-byte frame, more than the ${this.#maxFrame} accepted: answered 6700`);
        this.#skipping = length;
        data = buffered.subarray(HEADER);
        continue;
      }
      if (buffered.length < HEADER + length) {
        this.#buffer = Buffer.from(buffered);
        return true;
      }
      const answer = this.#handle(buffered.subarray(HEADER, HEADER + length));
      if (answer !== undefined) this.#send(frame(answer));
      data = buffered.subarray(HEADER + length);
    }
    return true;
  }

  #handle(payload: Buffer): Buffer | undefined {
    if (payload.length > 1) return this.#card.transmit(payload);
    const control = payload[0]!;
    switch (control) {
      case VpcdControl.powerOff:
      case VpcdControl.powerOn:
      case VpcdControl.reset:
        this.#card.reset();
        return undefined;
      case VpcdControl.getAtr:
        // vpcd asks for the ATR whenever pcscd checks the reader, also between two APDUs of one transaction: answering
        // must not reset the card (power on and reset already did when the card was powered).
        return this.#card.atr();
      default:
        this.#log(`vpcd sent the unknown control ${control}: ignored`);
        return undefined;
    }
  }
}

function frame(payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(payload.length);
  return Buffer.concat([header, payload]);
}

function responseOf(sw: number): Buffer {
  return Buffer.from([sw >> 8, sw & 0xff]);
}

export interface VpcdClientOptions {
  readonly card: Card;
  readonly host?: string;
  readonly port?: number;
  readonly maxFrame?: number;
  /** First delay before reconnecting, doubled after each failed attempt up to maxDelayMs (defaults 250 ms, 5 s). */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Ends the client: the connection is closed and run() resolves. */
  readonly signal: AbortSignal;
  readonly log?: (message: string) => void;
}

/**
 * Connects to vpcd as its virtual card and serves `card` until `signal` aborts. When vpcd is not there, or the connection
 * ends, it reconnects with a doubling delay (reset once a connection has been established); the card is reset on every
 * new connection, as a card that was pulled out and inserted again.
 */
export async function runVpcdClient(o: VpcdClientOptions): Promise<void> {
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? VPCD_DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new McimError('INVALID_ARGUMENT', `port must be 1 to 65535, got ${port}`);
  const initialDelay = o.initialDelayMs ?? 250;
  const maxDelay = o.maxDelayMs ?? 5000;
  const log = o.log ?? (() => undefined);
  let delay = initialDelay;
  while (!o.signal.aborted) {
    const outcome = await serveOnce(o, host, port, log);
    if (o.signal.aborted) break;
    if (outcome.connected) delay = initialDelay;
    log(`${outcome.reason}; reconnecting to vpcd at ${host}:${port} in ${delay} ms`);
    await sleep(delay, o.signal);
    delay = Math.min(delay * 2, maxDelay);
  }
}

/** One connection, from connect to close: whether it was established and why it ended. */
function serveOnce(o: VpcdClientOptions, host: string, port: number, log: (message: string) => void): Promise<{ connected: boolean; reason: string }> {
  return new Promise((resolve) => {
    let connected = false;
    let reason = 'vpcd closed the connection';
    const socket: Socket = connect({ host, port });
    socket.setNoDelay(true);
    const onAbort = (): void => {
      reason = 'stopped';
      socket.destroy();
    };
    o.signal.addEventListener('abort', onAbort, { once: true });
    const session = new VpcdSession(o.card, (f) => socket.write(f), { maxFrame: o.maxFrame, log });
    socket.on('connect', () => {
      connected = true;
      o.card.reset();
      log(`connected to vpcd at ${host}:${port}`);
    });
    socket.on('data', (chunk: Buffer) => {
      if (!session.receive(chunk)) {
        reason = 'protocol error';
        socket.destroy();
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      reason = connected ? `connection to vpcd failed (${e.code ?? e.message})` : `vpcd is not reachable (${e.code ?? e.message})`;
    });
    socket.on('close', () => {
      o.signal.removeEventListener('abort', onAbort);
      o.card.reset();
      resolve({ connected, reason });
    });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
