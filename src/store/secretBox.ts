// Encryption at rest (DESIGN.md "Secrets are encrypted at rest"): AES-256-GCM with a key file kept beside the data.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { McimError } from '../errors.js';

const KEY_LENGTH = 32;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const VERSION = 1;

/** Seals and opens secrets with one AES-256-GCM key; the associated data binds a ciphertext to its row. */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_LENGTH) throw new McimError('INVALID_ARGUMENT', `a SecretBox key is ${KEY_LENGTH} bytes, got ${key.length}`);
    this.#key = Buffer.from(key);
  }

  /** Loads the key file (32 random bytes), creating it with mode 600 when it does not exist. */
  static fromKeyFile(path: string): SecretBox {
    if (!existsSync(path)) {
      const key = randomBytes(KEY_LENGTH);
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o600);
      } catch (e) {
        // Another process created it first: use theirs.
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        return SecretBox.fromKeyFile(path);
      }
      try {
        writeSync(fd, key);
      } finally {
        closeSync(fd);
      }
      return new SecretBox(key);
    }
    const key = readFileSync(path);
    if (key.length !== KEY_LENGTH) throw new McimError('INVALID_KEY_FILE', `${path} does not hold a ${KEY_LENGTH}-byte key`);
    return new SecretBox(key);
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
