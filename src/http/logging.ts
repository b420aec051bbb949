// Structured JSON logs (pino, fastify's own logger) with secrets redacted by one rule: keys, codes, package bytes never reach a log line.
import { pino, type DestinationStream, type Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const REDACTED = '[redacted]';

/** Keys whose values are secrets whatever they hold: subscriber keys, private keys, codes, packages, bodies. */
const SECRET_KEY =
  /^(k|ki|opc?|cc|hashcc|cchash|cc_?hash|confirmation_?code|pin|puk|bpp|bound_?profile_?package|profile_?package|package|body|payload|authorization|cookie|set-cookie|passphrase|password|secret|key)$|(key|secret|sealed|password|passphrase)$/i;
/** Keys whose values identify an order to whoever holds them: only a prefix is logged. */
const MATCHING_ID_KEY = /^matching_?id$/i;
const MATCHING_ID_PREFIX = 4;
/** A transaction ID is logged by its prefix: enough to correlate, not to replay. */
const TRANSACTION_ID_KEY = /^transaction_?id$/i;
const TRANSACTION_ID_PREFIX = 8;
/** Free text carries no long hexadecimal run (a key, a transaction ID, a hash): kept to its first 8 digits. */
const LONG_HEX = /[0-9a-f]{20,}/gi;
/** Identifiers that are not secret and are logged in full (an EID is 32 digits, which the free-text rule would cut). */
const VERBATIM_KEY = /^(eid|iccid)$/i;
const MAX_DEPTH = 6;
/** Longest string kept in a log field. */
const MAX_STRING = 1024;

function prefixOf(value: string, n: number): string {
  return value.length <= n ? value : `${value.slice(0, n)}…`;
}

function freeText(value: string): string {
  const cut = value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  return cut.replace(LONG_HEX, (run) => `${run.slice(0, 8)}…`);
}

/**
 * The redaction rule, applied to every object logged: secret keys become '[redacted]', matching IDs and transaction IDs
 * their prefix, bytes (Buffer, typed arrays) their length only, long hex runs in free text their first 8 digits.
 */
function redact(value: unknown, key = '', depth = 0): unknown {
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return value;
  if (key !== '' && SECRET_KEY.test(key)) return REDACTED;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (typeof value === 'string') {
    if (MATCHING_ID_KEY.test(key)) return prefixOf(value, MATCHING_ID_PREFIX);
    if (TRANSACTION_ID_KEY.test(key)) return prefixOf(value, TRANSACTION_ID_PREFIX);
    if (VERBATIM_KEY.test(key) && /^\d{1,32}$/.test(value)) return value;
    return freeText(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return `[${typeof value}]`;
  if (depth >= MAX_DEPTH) return '[nested]';
  if (value instanceof Error) {
    return { type: value.name, message: freeText(value.message), ...('code' in value ? { code: redact(value.code, 'code', depth + 1) } : {}) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, key, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redact(v, k, depth + 1);
  return out;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where JSON lines go (default: standard output). */
  readonly destination?: DestinationStream;
}

/**
 * A pino logger whose every logged object passes through `redact`; errors are logged as type, code and message (no
 * stack: a stack can carry values of the frame that threw). Give it to fastify as its logger instance.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
      },
      serializers: { err: (e: unknown) => redact(e, 'err') },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

export type { Logger } from 'pino';
