// Bulk registration (SGP.32 v1.2 2.5; issue 10 "register devices in bulk from the file an EUM delivers"): the file's records (EID, eUICC and EUM certificates, association token, tags) read as JSON Lines or CSV, each line checked and named by its number.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { EimError } from '../errors.js';

/** One device of the file, its certificates as DER. */
export interface RegistrationRecord {
  readonly line: number;
  readonly eid?: string;
  readonly euiccCertificate: Buffer;
  readonly eumCertificate: Buffer;
  readonly associationToken?: number;
  readonly counter?: number;
  readonly keyGeneration?: number;
  readonly tags?: readonly string[];
}

export type RegistrationFormat = 'jsonl' | 'csv';

/** Bytes of one line (a record holds two certificates of about 1 KiB each in base64 or PEM). */
export const MAX_REGISTRATION_LINE = 16 * 1024;
/** Records in one file. */
export const MAX_REGISTRATION_RECORDS = 1_000_000;
/** Bytes of a certificate. */
const MAX_CERTIFICATE = 4096;

const CSV_COLUMNS = ['eid', 'euiccCertificate', 'eumCertificate', 'associationToken', 'counter', 'keyGeneration', 'tags'] as const;
const REQUIRED = ['euiccCertificate', 'eumCertificate'] as const;

function bad(line: number, message: string): EimError {
  return new EimError('INVALID_ARGUMENT', `line ${line}: ${message}`);
}

/** A certificate as base64 DER or PEM (one CERTIFICATE block). */
function certificate(value: unknown, line: number, name: string): Buffer {
  if (typeof value !== 'string' || value.length === 0) throw bad(line, `${name} is missing`);
  const pem = /^-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----\s*$/.exec(value.trim());
  const b64 = (pem === null ? value : pem[1]!).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw bad(line, `${name} is not base64 DER or PEM`);
  const der = Buffer.from(b64, 'base64');
  if (der.length === 0 || der.length > MAX_CERTIFICATE || der[0] !== 0x30) throw bad(line, `${name} is not a DER certificate of at most ${MAX_CERTIFICATE} bytes`);
  return der;
}

function wholeNumber(value: unknown, line: number, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'string' && /^[0-9]{1,10}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw bad(line, `${name} is a whole number ${min}..${max}`);
  return n;
}

function tagsOf(value: unknown, line: number): string[] | undefined {
  if (value === undefined || value === '') return undefined;
  const list = typeof value === 'string' ? value.split(/[;\s]+/).filter((t) => t !== '') : value;
  if (!Array.isArray(list) || list.length > 32 || !list.every((t) => typeof t === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(t))) {
    throw bad(line, "tags are at most 32 of letters, digits, '.', '_', ':', '-' (CSV: separated by ';')");
  }
  return list as string[];
}

function recordOf(fields: Record<string, unknown>, line: number): RegistrationRecord {
  const eid = fields['eid'];
  if (eid !== undefined && eid !== '' && (typeof eid !== 'string' || !/^[0-9]{32}$/.test(eid))) throw bad(line, 'eid is 32 digits');
  const associationToken = wholeNumber(fields['associationToken'], line, 'associationToken', 0, 2 ** 31 - 1);
  const counter = wholeNumber(fields['counter'], line, 'counter', 0, 0x7fffff);
  const keyGeneration = wholeNumber(fields['keyGeneration'], line, 'keyGeneration', 1, 2 ** 31 - 1);
  const tags = tagsOf(fields['tags'], line);
  return {
    line,
    ...(typeof eid === 'string' && eid !== '' ? { eid } : {}),
    euiccCertificate: certificate(fields['euiccCertificate'], line, 'euiccCertificate'),
    eumCertificate: certificate(fields['eumCertificate'], line, 'eumCertificate'),
    ...(associationToken === undefined ? {} : { associationToken }),
    ...(counter === undefined ? {} : { counter }),
    ...(keyGeneration === undefined ? {} : { keyGeneration }),
    ...(tags === undefined ? {} : { tags }),
  };
}

/**
 * Parses a registration file's lines. JSON Lines: one object per line with the fields eid, euiccCertificate,
 * eumCertificate (base64 DER or PEM), associationToken, counter, keyGeneration, tags (a list); unknown fields refused.
 * CSV: a header line naming the columns (euiccCertificate and eumCertificate required, the others optional, in any
 * order), base64 DER certificates, tags separated by ';'. Blank lines are skipped; a bad line names its number.
 */
export class RegistrationParser {
  readonly format: RegistrationFormat;
  #columns: string[] | undefined;
  #line = 0;
  #records = 0;

  constructor(format: RegistrationFormat) {
    this.format = format;
  }

  /** The record on this line, or undefined for a blank line or the CSV header. */
  push(text: string): RegistrationRecord | undefined {
    const line = ++this.#line;
    if (Buffer.byteLength(text, 'utf8') > MAX_REGISTRATION_LINE) throw bad(line, `longer than ${MAX_REGISTRATION_LINE} bytes`);
    const trimmed = text.trim();
    if (trimmed === '') return undefined;
    if (this.format === 'csv' && this.#columns === undefined) {
      const columns = trimmed.split(',').map((c) => c.trim());
      for (const c of columns) if (!(CSV_COLUMNS as readonly string[]).includes(c)) throw bad(line, `unknown column '${c.slice(0, 40)}' (columns: ${CSV_COLUMNS.join(', ')})`);
      for (const r of REQUIRED) if (!columns.includes(r)) throw bad(line, `the header names no ${r} column`);
      if (new Set(columns).size !== columns.length) throw bad(line, 'a column is named twice');
      this.#columns = columns;
      return undefined;
    }
    if (++this.#records > MAX_REGISTRATION_RECORDS) throw bad(line, `more than ${MAX_REGISTRATION_RECORDS} records`);
    let fields: Record<string, unknown>;
    if (this.format === 'csv') {
      const values = trimmed.split(',').map((v) => v.trim());
      if (values.length !== this.#columns!.length) throw bad(line, `${values.length} values for ${this.#columns!.length} columns`);
      fields = Object.fromEntries(this.#columns!.map((c, i) => [c, values[i]]));
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(trimmed);
      } catch {
        throw bad(line, 'not JSON');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad(line, 'not a JSON object');
      for (const k of Object.keys(parsed)) if (!(CSV_COLUMNS as readonly string[]).includes(k)) throw bad(line, `unknown field '${k.slice(0, 40)}'`);
      fields = parsed as Record<string, unknown>;
    }
    return recordOf(fields, line);
  }
}

/** The format of a file: by its name (.csv, .jsonl, .ndjson), else by its first character ('{': JSON Lines). */
export function registrationFormat(path: string, firstLine: string): RegistrationFormat {
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(path)) return 'jsonl';
  return firstLine.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

/** Reads a registration file in batches of `batch` records (every line checked before its batch is handed out). */
export async function* readRegistrationFile(path: string, batch = 1000): AsyncGenerator<RegistrationRecord[]> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let parser: RegistrationParser | undefined;
  let pending: RegistrationRecord[] = [];
  for await (const text of lines) {
    if (parser === undefined) {
      if (text.trim() === '') continue;
      parser = new RegistrationParser(registrationFormat(path, text));
    }
    const r = parser.push(text);
    if (r === undefined) continue;
    pending.push(r);
    if (pending.length >= batch) {
      yield pending;
      pending = [];
    }
  }
  if (pending.length > 0) yield pending;
}
