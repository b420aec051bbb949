// Encryption at rest (DESIGN.md "Secrets are encrypted at rest"): AES-256-GCM under the at-rest key, which comes from
// $MCIM_AT_REST_KEY, a key file outside the data directory, or a key file beside the data (docs/operations.md, Keys at rest).
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { McimError } from '../errors.js';
import { writePrivateFile } from '../pki/privateFiles.js';

const KEY_LENGTH = 32;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const VERSION = 1;

/** Creates `path` with a fresh random key, mode 600, unless it exists (another process may create it at the same time). */
function createKeyFile(path: string): void {
  if (existsSync(path)) return;
  try {
    writePrivateFile(path, randomBytes(KEY_LENGTH));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** Seals and opens secrets with one AES-256-GCM key; the associated data binds a ciphertext to its row. */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_LENGTH) throw new McimError('INVALID_ARGUMENT', `a SecretBox key is ${KEY_LENGTH} bytes, got ${key.length}`);
    this.#key = Buffer.from(key);
  }

  /** Loads the key file (32 bytes: raw, hex or base64), creating it with a random key, mode 600, when it does not exist. */
  static fromKeyFile(path: string): SecretBox {
    createKeyFile(path);
    return new SecretBox(parseKey(readFileSync(path), path));
  }

  /** version (1) || IV (12) || ciphertext || tag (16). */
  seal(plaintext: Uint8Array, associatedData: string): Buffer {
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv).setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, body, cipher.getAuthTag()]);
  }

  open(sealed: Uint8Array, associatedData: string): Buffer {
    const data = Buffer.from(sealed);
    if (data.length < 1 + IV_LENGTH + TAG_LENGTH || data[0] !== VERSION) {
      throw new McimError('TAMPERED', 'sealed data is truncated or of an unknown version');
    }
    const iv = data.subarray(1, 1 + IV_LENGTH);
    const tag = data.subarray(data.length - TAG_LENGTH);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv).setAAD(Buffer.from(associatedData, 'utf8')).setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(data.subarray(1 + IV_LENGTH, data.length - TAG_LENGTH)), decipher.final()]);
    } catch (cause) {
      throw new McimError('TAMPERED', 'sealed data does not authenticate (wrong key or altered data)', { cause });
    }
  }
}

/** The at-rest key itself (hex or base64 of 32 bytes). */
export const AT_REST_KEY_ENV = 'MCIM_AT_REST_KEY';
/** A file holding the at-rest key (32 raw bytes, or their hex or base64 on one line). */
export const AT_REST_KEY_FILE_ENV = 'MCIM_AT_REST_KEY_FILE';

/** Where the at-rest key comes from: at most one of `file` (a command's --at-rest-key-file) and the two variables. */
export interface AtRestKeySource {
  readonly file?: string;
  /** Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** 32 raw bytes, or 64 hex digits, or 44 characters of base64 (a trailing newline allowed). */
function parseKey(data: Buffer, where: string): Buffer {
  if (data.length === KEY_LENGTH) return data;
  const text = data.toString('utf8').trim();
  if (/^[0-9A-Fa-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, 'base64');
  throw new McimError('INVALID_KEY_FILE', `${where} does not hold a ${KEY_LENGTH}-byte key (raw, 64 hex digits or base64)`);
}

/** The key all of a data directory's secrets are encrypted under: sealed values (SecretBox) and private key files. */
export class AtRestKey {
  readonly #key: Buffer;
  /** Where the key came from, for messages: `$MCIM_AT_REST_KEY`, `$MCIM_AT_REST_KEY_FILE (path)` or the file path. Never the key. */
  readonly origin: string;

  private constructor(key: Buffer, origin: string) {
    this.#key = key;
    this.origin = origin;
  }

  /**
   * The key from the source given, else from `defaultFile`. `createDefault`: a missing default file is created with a
   * fresh random key (mode 600); otherwise a missing key is refused. Two sources at once are refused.
   */
  static resolve(defaultFile: string, source: AtRestKeySource = {}, createDefault = false): AtRestKey {
    const env = source.env ?? process.env;
    const fromEnv = env[AT_REST_KEY_ENV] === '' ? undefined : env[AT_REST_KEY_ENV];
    const envFile = env[AT_REST_KEY_FILE_ENV] === '' ? undefined : env[AT_REST_KEY_FILE_ENV];
    const given = [source.file !== undefined && '--at-rest-key-file', fromEnv !== undefined && `$${AT_REST_KEY_ENV}`, envFile !== undefined && `$${AT_REST_KEY_FILE_ENV}`].filter((g) => g !== false);
    if (given.length > 1) throw new McimError('INVALID_ARGUMENT', `the at-rest key comes from one source: ${given.join(' and ')} are both set`);
    if (fromEnv !== undefined) return new AtRestKey(parseKey(Buffer.from(fromEnv, 'utf8'), `$${AT_REST_KEY_ENV}`), `$${AT_REST_KEY_ENV}`);
    const file = source.file ?? envFile;
    if (file !== undefined) {
      if (!existsSync(file)) throw new McimError('NOT_FOUND', `the at-rest key file ${file} does not exist`);
      return new AtRestKey(parseKey(readFileSync(file), file), source.file ?? `$${AT_REST_KEY_FILE_ENV} (${file})`);
    }
    if (!existsSync(defaultFile) && !createDefault) {
      throw new McimError('NOT_FOUND', `no at-rest key: ${defaultFile} does not exist; give it with --at-rest-key-file (mcim serve, mcim device init), $${AT_REST_KEY_FILE_ENV} or $${AT_REST_KEY_ENV}`);
    }
    createKeyFile(defaultFile);
    return new AtRestKey(parseKey(readFileSync(defaultFile), defaultFile), defaultFile);
  }

  box(): SecretBox {
    return new SecretBox(this.#key);
  }

  /** HMAC-SHA-256(key, label) in hex: a passphrase or a check value bound to `label`, from which the key cannot be found. */
  derive(label: string): string {
    return createHmac('sha256', this.#key).update(label).digest('hex');
  }
}
