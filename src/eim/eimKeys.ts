// SGP.32 v1.2 2.11.1.1 (eimSignature) and 3.5 (eCO updateEim): the eIM's package-signing keys by generation; each device's packages are signed with the generation its eUICC holds, until updateEim moves it to a newer one.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { curveOfKey, type EcCurve } from '../crypto/ecdsa.js';
import { EimError } from './errors.js';

export interface EimKeyEntry {
  readonly generation: number;
  readonly privateKey: KeyObject;
}

/** The public half of a generation, as eUICCs are given it (eimPublicKeyData: a SubjectPublicKeyInfo). */
export interface EimPublicKey {
  readonly generation: number;
  readonly curve: EcCurve;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Buffer;
}

/**
 * The keys one eIM process signs with. Several processes on one database see a generation another one added by
 * `refresh` (the loader reads the store again), so a rotation started anywhere is signed for everywhere.
 */
export class EimKeyring {
  readonly #keys = new Map<number, KeyObject>();
  readonly #load: (() => Promise<readonly EimKeyEntry[]>) | undefined;

  constructor(entries: readonly EimKeyEntry[], load?: () => Promise<readonly EimKeyEntry[]>) {
    for (const e of entries) this.add(e.generation, e.privateKey);
    this.#load = load;
  }

  /** One key, generation 1 (an eIM without rotation). */
  static single(privateKey: KeyObject): EimKeyring {
    return new EimKeyring([{ generation: 1, privateKey }]);
  }

  add(generation: number, privateKey: KeyObject): void {
    if (!Number.isInteger(generation) || generation < 1) throw new EimError('INVALID_ARGUMENT', 'a key generation is a whole number from 1');
    if (privateKey.type !== 'private') throw new EimError('INVALID_ARGUMENT', "the eIM's signing key must be a private key");
    try {
      curveOfKey(privateKey);
    } catch (cause) {
      throw new EimError('INVALID_ARGUMENT', "the eIM's signing key is not ECDSA on P-256 or brainpoolP256r1", { cause });
    }
    this.#keys.set(generation, privateKey);
  }

  /** The newest generation: the one new eUICCs are given and rotations move devices to. */
  get active(): number {
    if (this.#keys.size === 0) throw new EimError('INVALID_ARGUMENT', 'the eIM has no signing key');
    return Math.max(...this.#keys.keys());
  }

  get(generation: number): KeyObject | undefined {
    return this.#keys.get(generation);
  }

  /** Reads the keys again from where they are kept (a generation another eIM process added). */
  async refresh(): Promise<void> {
    if (this.#load === undefined) return;
    for (const e of await this.#load()) if (!this.#keys.has(e.generation)) this.add(e.generation, e.privateKey);
  }

  publicKey(generation: number): EimPublicKey {
    const key = this.#keys.get(generation);
    if (key === undefined) throw new EimError('INVALID_ARGUMENT', `the eIM has no key of generation ${generation}`);
    return { generation, curve: curveOfKey(key), spki: createPublicKey(key).export({ type: 'spki', format: 'der' }) };
  }

  publicKeys(): EimPublicKey[] {
    return [...this.#keys.keys()].sort((a, b) => a - b).map((g) => this.publicKey(g));
  }
}
