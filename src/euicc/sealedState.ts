// The eUICC's protected storage in software: AES-256-GCM (NIST SP 800-38D) under an HKDF-SHA-256 key (RFC 5869), written by write-then-rename.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { McimError } from '../errors.js';

/*
 * File layout (all of it is authenticated; the header is the GCM additional data):
 *   'MCIMSEAL' (8) | version 01 (1) | HKDF salt (32) | GCM nonce (12) | ciphertext | GCM tag (16)
 * The key is HKDF-SHA-256(device secret, salt, 'mcim euicc sealed state v1', 32 bytes); salt and
 * nonce are fresh for every write. The plaintext is the JSON {"g": generation, "s": state}.
 *
 * A save writes <file>.tmp-<random>, fsyncs it, renames it over <file> and fsyncs the directory, so
 * a crash at any instant leaves the old file or the new one. A load removes tmp files left by a
 * crash. One process writes a given file.
 *
 * Rollback: every save increments a generation counter sealed inside the file. A caller that keeps
 * the last generation (load(minGeneration)) detects an older file put back or the file deleted;
 * full anti-rollback needs that number in a hardware monotonic counter, which software alone
 * cannot provide.
 */

/** The codes SealedStateError carries (meanings: ERROR_CODES in src/errors.ts). */
export type SealedStateErrorCode =
  | 'TAMPERED'
  | 'ROLLBACK'
  | 'INVALID_STATE'
  | 'NOT_LOADED'
  | 'INVALID_ARGUMENT'
  | 'IO_ERROR';

export class SealedStateError extends McimError {
  declare readonly code: SealedStateErrorCode;
  constructor(code: SealedStateErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export interface LoadedState<T> {
  readonly state: T;
  /** 1 for the first save, +1 for every save after it. */
  readonly generation: number;
}

const MAGIC = Buffer.from('MCIMSEAL', 'ascii');
const VERSION = 1;
const SALT_LENGTH = 32;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER_LENGTH = MAGIC.length + 1 + SALT_LENGTH + NONCE_LENGTH;
const HKDF_INFO = Buffer.from('mcim euicc sealed state v1', 'ascii');
const MIN_SECRET_LENGTH = 32;
/** JSON marker of a byte string: {"$b": base64}. Keys starting with '$' are reserved for such markers. */
const BYTES_KEY = '$b';

/**
 * Where a sealed state lives instead of a file: in this object's memory, in the same sealed format (for simulated
 * fleets: many eUICCs in one process, each a few kilobytes, no file or fsync per save). It lasts as long as the process.
 */
export class SealedMemory {
  /** The sealed bytes of the latest save; undefined before the first. */
  bytes: Buffer | undefined;
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }
}

/**
 * One state object sealed in one file (or in a SealedMemory). The state is JSON data (null, booleans, finite numbers,
 * strings, arrays, plain objects) plus byte strings (Buffer/Uint8Array, loaded back as Buffer).
 * Object properties whose value is undefined are left out, as JSON does.
 */
export class SealedStateFile<T> {
  /** The file's path, or the SealedMemory's name. */
  readonly path: string;
  readonly #memory: SealedMemory | undefined;
  readonly #secret: Buffer;
  #generation: number | undefined;

  constructor(where: string | SealedMemory, deviceSecret: Uint8Array) {
    if (deviceSecret.length < MIN_SECRET_LENGTH) {
      throw new SealedStateError('INVALID_ARGUMENT', `the device secret must have at least ${MIN_SECRET_LENGTH} bytes`);
    }
    this.path = typeof where === 'string' ? where : where.name;
    this.#memory = typeof where === 'string' ? undefined : where;
    this.#secret = Buffer.from(deviceSecret);
  }

  /** Generation of the state last loaded or saved by this object (0 when the file did not exist); undefined before load(). */
  get generation(): number | undefined {
    return this.#generation;
  }

  /**
   * Loads and authenticates the state; undefined when the file does not exist (first start).
   * minGeneration is the last generation the caller knows: an older file, or a missing one when
   * minGeneration > 0, is a ROLLBACK. Tmp files left by an interrupted save are removed first.
   */
  load(minGeneration = 0): LoadedState<T> | undefined {
    let sealed: Buffer | undefined;
    if (this.#memory !== undefined) {
      sealed = this.#memory.bytes;
    } else {
      this.#removeStrayTmpFiles();
      try {
        sealed = readFileSync(this.path);
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw new SealedStateError('IO_ERROR', `cannot read ${this.path}`, { cause: e });
      }
    }
    if (sealed === undefined) {
      if (minGeneration > 0) {
        throw new SealedStateError('ROLLBACK', `${this.path} is missing but generation ${minGeneration} was saved`);
      }
      this.#generation = 0;
      return undefined;
    }
    const { generation, state } = parsePlaintext(this.#unseal(sealed));
    if (generation < minGeneration) {
      throw new SealedStateError('ROLLBACK', `${this.path} holds generation ${generation}, older than ${minGeneration}`);
    }
    this.#generation = generation;
    return { state: state as T, generation };
  }

  /** Seals the state as the next generation and replaces the file atomically; returns the new generation. */
  save(state: T): number {
    if (this.#generation === undefined) throw new SealedStateError('NOT_LOADED', 'load() the sealed state before saving it');
    const generation = this.#generation + 1;
    const plaintext = Buffer.from(JSON.stringify({ g: generation, s: encodeValue(state, '$', new Set()) }), 'utf8');
    if (this.#memory !== undefined) {
      this.#memory.bytes = this.#seal(plaintext);
      this.#generation = generation;
      return generation;
    }
    this.#writeAtomically(this.#seal(plaintext));
    this.#generation = generation;
    this.#syncDirectory();
    return generation;
  }

  #key(salt: Buffer): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#secret, salt, HKDF_INFO, 32));
  }

  #seal(plaintext: Buffer): Buffer {
    const salt = randomBytes(SALT_LENGTH);
    const nonce = randomBytes(NONCE_LENGTH);
    const header = Buffer.concat([MAGIC, Buffer.from([VERSION]), salt, nonce]);
    const cipher = createCipheriv('aes-256-gcm', this.#key(salt), nonce, { authTagLength: TAG_LENGTH });
    cipher.setAAD(header);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, ciphertext, cipher.getAuthTag()]);
  }

  #unseal(sealed: Buffer): Buffer {
    if (sealed.length < HEADER_LENGTH + TAG_LENGTH) {
      throw new SealedStateError('TAMPERED', `${this.path} has ${sealed.length} bytes, fewer than a sealed state's header and tag`);
    }
    if (!sealed.subarray(0, MAGIC.length).equals(MAGIC)) throw new SealedStateError('TAMPERED', `${this.path} is not a sealed state file`);
    const version = sealed[MAGIC.length]!;
    if (version !== VERSION) {
      throw new SealedStateError('TAMPERED', `${this.path} has format version ${version}, not ${VERSION} (a newer writer, or tampering)`);
    }
    const header = sealed.subarray(0, HEADER_LENGTH);
    const salt = sealed.subarray(MAGIC.length + 1, MAGIC.length + 1 + SALT_LENGTH);
    const nonce = sealed.subarray(MAGIC.length + 1 + SALT_LENGTH, HEADER_LENGTH);
    const decipher = createDecipheriv('aes-256-gcm', this.#key(salt), nonce, { authTagLength: TAG_LENGTH });
    decipher.setAAD(header);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
    const ciphertext = sealed.subarray(HEADER_LENGTH, sealed.length - TAG_LENGTH);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch (e) {
      throw new SealedStateError('TAMPERED', `${this.path} does not authenticate (modified, or sealed under another secret)`, { cause: e });
    }
  }

  #writeAtomically(bytes: Buffer): void {
    const tmp = `${this.path}.tmp-${randomBytes(8).toString('hex')}`;
    let fd: number | undefined;
    try {
      fd = openSync(tmp, 'wx', 0o600);
      // 0600 whatever the umask: the file is the eUICC's protected storage.
      fchmodSync(fd, 0o600);
      for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, this.path);
    } catch (e) {
      try {
        if (fd !== undefined) closeSync(fd);
        removeIfPresent(tmp);
      } catch {
        // The write's own failure is the one to report; load() removes a tmp file left here.
      }
      throw new SealedStateError('IO_ERROR', `cannot write ${this.path}`, { cause: e });
    }
  }

  #syncDirectory(): void {
    const dir = dirname(this.path);
    try {
      const fd = openSync(dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw new SealedStateError('IO_ERROR', `cannot sync directory ${dir} after replacing ${this.path}`, { cause: e });
    }
  }

  #removeStrayTmpFiles(): void {
    const dir = dirname(this.path);
    const prefix = `${basename(this.path)}.tmp-`;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      throw new SealedStateError('IO_ERROR', `cannot list ${dir}`, { cause: e });
    }
    for (const name of names) if (name.startsWith(prefix)) removeIfPresent(join(dir, name));
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw new SealedStateError('IO_ERROR', `cannot remove ${path}`, { cause: e });
  }
}

function isErrno(e: unknown, code: string): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === code;
}

function encodeValue(value: unknown, path: string, ancestors: Set<object>): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new SealedStateError('INVALID_STATE', `${path} is ${value}, not a finite number`);
    return value;
  }
  if (typeof value !== 'object') throw new SealedStateError('INVALID_STATE', `${path} is a ${typeof value}, which cannot be sealed`);
  if (value instanceof Uint8Array) return { [BYTES_KEY]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (ancestors.has(value)) throw new SealedStateError('INVALID_STATE', `${path} refers back to itself`);
  ancestors.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    out = Array.from(value, (item: unknown, i) => {
      if (item === undefined) throw new SealedStateError('INVALID_STATE', `${path}[${i}] is undefined`);
      return encodeValue(item, `${path}[${i}]`, ancestors);
    });
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new SealedStateError('INVALID_STATE', `${path} is a ${value.constructor?.name ?? 'class'} instance, not a plain object`);
    }
    const entries: [string, unknown][] = [];
    for (const [key, item] of Object.entries(value)) {
      if (key.startsWith('$')) throw new SealedStateError('INVALID_STATE', `${path}.${key}: keys starting with '$' are reserved`);
      if (item !== undefined) entries.push([key, encodeValue(item, `${path}.${key}`, ancestors)]);
    }
    out = Object.fromEntries(entries);
  }
  ancestors.delete(value);
  return out;
}

function decodeValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decodeValue);
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]![0] === BYTES_KEY && typeof entries[0]![1] === 'string') {
    return Buffer.from(entries[0]![1], 'base64');
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, decodeValue(v)]));
}

function parsePlaintext(plaintext: Buffer): { generation: number; state: unknown } {
  // The content authenticated under the device secret, so it was written by save(); a shape other
  // than save()'s can only come from a writer that shares the secret but not the format.
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext.toString('utf8'));
  } catch (e) {
    throw new SealedStateError('TAMPERED', 'the sealed content is not JSON', { cause: e });
  }
  const record = parsed as { g?: unknown; s?: unknown } | null;
  if (typeof record !== 'object' || record === null || !Number.isSafeInteger(record.g) || (record.g as number) < 1 || !('s' in record)) {
    throw new SealedStateError('TAMPERED', 'the sealed content is not a generation and a state');
  }
  return { generation: record.g as number, state: decodeValue(record.s) };
}
