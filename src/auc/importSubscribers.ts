// TS 33.102 Annex C: the operator's subscriber export (mcim's JSON Lines, one subscriber record a line) read into the AuC in one transaction.
import type { NewSubscriber } from '../store/aucStore.js';
import type { AucContext } from './context.js';
import { AucError } from './errors.js';
import { parseSubscriberRecord } from './subscriberRecord.js';

export interface ImportLimits {
  /** Longest line in bytes (default 4096). */
  readonly maxLineBytes?: number;
  /** Most subscriber lines in one import (default 1,000,000). */
  readonly maxLines?: number;
  /** Largest export in bytes (default 512 MiB). */
  readonly maxBytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 4096;
export const DEFAULT_MAX_LINES = 1_000_000;
export const DEFAULT_MAX_EXPORT_BYTES = 512 * 1024 * 1024;

/** Parses the export: blank lines are skipped; a bad line is refused by its number, before anything is written. */
export function parseSubscriberExport(data: Buffer | string, limits: ImportLimits = {}): NewSubscriber[] {
  const maxLine = limits.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxLines = limits.maxLines ?? DEFAULT_MAX_LINES;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const maxBytes = Math.min(limits.maxBytes ?? DEFAULT_MAX_EXPORT_BYTES, maxLines * (maxLine + 1));
  if (bytes.length > maxBytes) throw new AucError('INPUT_TOO_LARGE', `the export is larger than ${maxBytes} bytes`);
  const out: NewSubscriber[] = [];
  const lineOf = new Map<string, number>();
  let start = 0;
  for (let number = 1; start < bytes.length; number++) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    const length = end - start;
    if (length > maxLine) throw new AucError('INPUT_TOO_LARGE', `line ${number}: longer than ${maxLine} bytes`);
    const line = bytes.toString('utf8', start, end).trim();
    start = end + 1;
    if (line === '') continue;
    if (out.length >= maxLines) throw new AucError('INPUT_TOO_LARGE', `line ${number}: more than ${maxLines} subscribers`);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new AucError('INVALID_ARGUMENT', `line ${number}: not valid JSON`);
    }
    const subscriber = parseSubscriberRecord(value, `line ${number}`);
    const first = lineOf.get(subscriber.imsi);
    if (first !== undefined) throw new AucError('INVALID_ARGUMENT', `line ${number}: IMSI ${subscriber.imsi} is already on line ${first}`);
    lineOf.set(subscriber.imsi, number);
    out.push(subscriber);
  }
  return out;
}

/** Imports the export: every line is checked, then all subscribers are written in one transaction (or none). */
export async function importSubscribers(ctx: AucContext, data: Buffer | string, limits: ImportLimits = {}): Promise<number> {
  const subscribers = parseSubscriberExport(data, limits);
  await ctx.store.addSubscribers(subscribers, ctx.now());
  return subscribers.length;
}
