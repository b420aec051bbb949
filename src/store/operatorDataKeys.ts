// Envelope encryption (issue 9): one random AES-256 data key per operator, sealed under the key-encryption key (KEK) in a
// table of its store, unwrapped once per process. The AuC and the profile stock each keep theirs in their own table.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { SecretBox } from './secretBox.js';

const DATA_KEY_LENGTH = 32;

/** Where a store keeps its wrapped data keys: table (operator key column, wrapped_key, created_at) and the AAD's prefix. */
export interface DataKeyTable {
  readonly table: string;
  readonly operatorColumn: string;
  /** The associated data of a wrapped key is this prefix followed by the operator. */
  readonly aadPrefix: string;
}

export class OperatorDataKeys {
  readonly #kek: SecretBox;
  readonly #where: DataKeyTable;
  /** Keys read as already stored (committed): a key created in a caller's transaction is not kept, it may roll back. */
  readonly #cache = new Map<string, SecretBox>();

  constructor(kek: SecretBox, where: DataKeyTable) {
    this.#kek = kek;
    this.#where = where;
  }

  /**
   * The operator's data key, read in `runner` (the database or a transaction). Without one: created (random, sealed
   * under the KEK; another process creating it first wins, the stored key is the key) when `create`, else undefined.
   * A KEK that does not open the stored key: the SecretBox's TAMPERED.
   */
  async get(runner: Kysely<unknown>, operator: string, now: number, create: boolean): Promise<SecretBox | undefined> {
    const cached = this.#cache.get(operator);
    if (cached !== undefined) return cached;
    const { table, operatorColumn } = this.#where;
    const read = async () =>
      (await sql<{ wrapped_key: Buffer }>`SELECT wrapped_key FROM ${sql.table(table)} WHERE ${sql.ref(operatorColumn)} = ${operator}`.execute(runner)).rows[0];
    let row = await read();
    const existed = row !== undefined;
    if (row === undefined) {
      if (!create) return undefined;
      const key = randomBytes(DATA_KEY_LENGTH);
      const wrapped = this.#kek.seal(key, this.#aad(operator));
      key.fill(0);
      await sql`INSERT INTO ${sql.table(table)} (${sql.ref(operatorColumn)}, wrapped_key, created_at) VALUES (${operator}, ${wrapped}, ${now}) ON CONFLICT (${sql.ref(operatorColumn)}) DO NOTHING`.execute(runner);
      row = await read();
      if (row === undefined) throw new Error(`the data key of operator '${operator}' was not stored`);
    }
    const box = new SecretBox(this.#kek.open(Buffer.from(row.wrapped_key), this.#aad(operator)));
    if (existed) this.#cache.set(operator, box);
    return box;
  }

  #aad(operator: string): string {
    return `${this.#where.aadPrefix}${operator}`;
  }
}
