// The stdio APDU/HTTP bridge of LPA tools (docs/lpa-bridge.md): a child LPA's newline-delimited JSON requests answered with an eUICC's APDUs (ISO/IEC 7816-4) and HTTPS.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { constants as osConstants } from 'node:os';
import type { Writable } from 'node:stream';
import { closeLogicalChannel, openLogicalChannel, selectApplication, type ApduTransport } from './es10Client.js';
import { IpaError } from './errors.js';
import { HttpsClient, type HttpsClientOptions } from './httpsClient.js';

/** A card reached through APDUs; reset (a warm reset, answering the ATR) is done on 'connect' when offered. */
export interface BridgeCard extends ApduTransport {
  reset?(): unknown;
}

export interface StdioBridgeOptions {
  /** The LPA program and its arguments. */
  readonly command: string;
  readonly args: readonly string[];
  readonly card: BridgeCard;
  /** For the LPA's HTTP requests (trust anchors, connect override). */
  readonly http?: HttpsClientOptions;
  /** Receives the LPA's own output lines (progress, results), each with its newline. */
  readonly output: Writable;
  /** Called after every answered APDU request, e.g. to persist the eUICC. */
  readonly afterApdu?: () => void | Promise<void>;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

type ApduFunc = 'connect' | 'disconnect' | 'logic_channel_open' | 'logic_channel_close' | 'transmit';

interface ApduAnswer {
  ecode: number;
  data?: string;
}

interface HttpAnswer {
  rcode: number;
  rx: string;
}

const HEX = /^(?:[0-9A-Fa-f]{2})*$/;
/** Longest request line accepted from the LPA (a short APDU is 261 bytes; an HTTP body may be large). */
const MAX_LINE_LENGTH = 32 * 1024 * 1024;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hexParam(param: unknown, what: string): Buffer {
  if (typeof param !== 'string' || param.length === 0 || !HEX.test(param)) throw new IpaError('INVALID_ARGUMENT', `${what}: param is not hex`);
  return Buffer.from(param, 'hex');
}

/**
 * Logical channels a card behind the bridge offers, the basic channel included: all that ISO/IEC 7816-4 can
 * address (0-3 in the first interindustry class byte, 4-19 in the further one).
 */
export const BRIDGE_LOGICAL_CHANNELS = 20;

/** Channel number of logic_channel_close: one byte in hex, as lpac writes it (channel 16 is "10"), or a JSON number. */
function channelParam(param: unknown): number {
  const n = typeof param === 'number' ? param : typeof param === 'string' && /^[0-9A-Fa-f]{2}$/.test(param) ? parseInt(param, 16) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > BRIDGE_LOGICAL_CHANNELS - 1) {
    throw new IpaError('INVALID_ARGUMENT', `logic_channel_close: '${String(param)}' is not a channel 01 to ${(BRIDGE_LOGICAL_CHANNELS - 1).toString(16)} (hex)`);
  }
  return n;
}

/**
 * Answers one APDU request. Failures (a bad param, a status word other than 9000 on channel
 * management) give ecode -1; transmit passes any status word through, as a reader does.
 */
export async function answerApdu(card: BridgeCard, func: unknown, param: unknown): Promise<ApduAnswer> {
  try {
    switch (func as ApduFunc) {
      case 'connect':
        card.reset?.();
        return { ecode: 0 };
      case 'disconnect':
        return { ecode: 0 };
      case 'logic_channel_open': {
        const aid = hexParam(param, 'logic_channel_open');
        const channel = await openLogicalChannel(card);
        try {
          await selectApplication(card, channel, aid);
        } catch (e) {
          await closeLogicalChannel(card, channel).catch(() => undefined);
          throw e;
        }
        return { ecode: channel };
      }
      case 'logic_channel_close':
        await closeLogicalChannel(card, channelParam(param));
        return { ecode: 0 };
      case 'transmit': {
        const response = await card.transmit(hexParam(param, 'transmit'));
        return { ecode: 0, data: Buffer.from(response).toString('hex').toUpperCase() };
      }
      default:
        return { ecode: -1 };
    }
  } catch {
    return { ecode: -1 };
  }
}

/** Carries one HTTP request: payload {url, tx: hex body, headers: ["Name: value", ...]}; rcode -1 when it cannot be sent. */
export async function answerHttp(http: HttpsClient, payload: Record<string, unknown>): Promise<HttpAnswer> {
  const { url, tx, headers } = payload;
  if (typeof url !== 'string' || (tx !== undefined && (typeof tx !== 'string' || !HEX.test(tx)))) return { rcode: -1, rx: '' };
  const headerMap: Record<string, string> = {};
  for (const h of Array.isArray(headers) ? headers : []) {
    if (typeof h !== 'string') continue;
    const colon = h.indexOf(':');
    if (colon > 0) headerMap[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  try {
    const r = await http.post(url, headerMap, Buffer.from(tx ?? '', 'hex'));
    return { rcode: r.status, rx: r.body.toString('hex') };
  } catch {
    return { rcode: -1, rx: '' };
  }
}

/** The LPA gets APDU access only: the secret that unseals the eUICC's state never reaches its environment. */
function withoutDeviceSecret(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy['MCIM_DEVICE_SECRET'];
  return copy;
}

/**
 * Runs the LPA as a child process and serves its requests, one at a time in the order sent, until
 * it exits. Resolves with its exit code (128 + signal number when a signal ended it).
 */
export async function runStdioBridge(options: StdioBridgeOptions): Promise<number> {
  const child = spawn(options.command, [...options.args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: withoutDeviceSecret(options.env ?? process.env),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const http = new HttpsClient(options.http);
  const exited = new Promise<number>((resolveExit, reject) => {
    child.on('error', (e) => reject(new IpaError('TRANSPORT_ERROR', `cannot run ${options.command}: ${e.message}`, { cause: e })));
    child.on('close', (code, signal) => {
      const signo = signal ? (osConstants.signals as Record<string, number>)[signal] : undefined;
      resolveExit(code ?? 128 + (signo ?? 0));
    });
  });
  // A child that exits while an answer is being written closes its stdin: not an error of the bridge.
  child.stdin.on('error', () => undefined);

  const reply = (message: unknown): void => {
    if (!child.stdin.destroyed && child.stdin.writable) child.stdin.write(`${JSON.stringify(message)}\n`);
  };
  const serve = async (line: string): Promise<void> => {
    let message: unknown;
    try {
      message = line.length > MAX_LINE_LENGTH ? undefined : JSON.parse(line);
    } catch {
      message = undefined;
    }
    const type = isObject(message) ? message['type'] : undefined;
    const payload = isObject(message) && isObject(message['payload']) ? message['payload'] : undefined;
    if (type === 'apdu' && payload) {
      reply({ type: 'apdu', payload: await answerApdu(options.card, payload['func'], payload['param']) });
      await options.afterApdu?.();
    } else if (type === 'http' && payload) {
      reply({ type: 'http', payload: await answerHttp(http, payload) });
    } else {
      options.output.write(`${line}\n`);
    }
  };

  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  let queue: Promise<void> = Promise.resolve();
  let failure: unknown;
  lines.on('line', (line) => {
    queue = queue.then(() => serve(line)).catch((e: unknown) => {
      failure ??= e;
      child.kill('SIGTERM');
    });
  });
  try {
    const code = await exited;
    await queue;
    if (failure !== undefined) throw failure;
    return code;
  } finally {
    http.close();
  }
}
