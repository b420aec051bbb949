// Queries built and compiled once, run with new parameter values: kysely builds and compiles a query on every execute,
// which costs more than SQLite takes to run the SM-DP+'s session queries (docs/benchmarks.md, download sessions).
import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import { McimError } from '../errors.js';
import { runNow } from './sqliteLocking.js';

/** Marks a value position in a query being prepared; no stored value starts with a NUL character. */
const SLOT_PREFIX = '\u0000mcim-slot:';

/** A named placeholder for `PreparedQuery`: use it where the query builder takes a value. */
export function slot<T>(name: string): T {
  return `${SLOT_PREFIX}${name}` as unknown as T;
}

/** What can run a compiled query: the database or a transaction. */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/**
 * One query compiled for the engine of the database that built it. Values not given as slots (constants such as a
 * state name) stay as compiled; every slot must appear in the query and be given a value at each run.
 */
export class PreparedQuery<Values extends Readonly<Record<string, unknown>>, Row = unknown> {
  readonly #compiled: CompiledQuery<Row>;
  /** For each compiled parameter, the slot it takes its value from (undefined: a constant). */
  readonly #slots: readonly (keyof Values | undefined)[];

  private constructor(query: Compilable<Row>, names: readonly (keyof Values & string)[]) {
    this.#compiled = query.compile();
    this.#slots = this.#compiled.parameters.map((p) =>
      typeof p === 'string' && p.startsWith(SLOT_PREFIX) ? (p.slice(SLOT_PREFIX.length) as keyof Values) : undefined,
    );
    for (const name of names) {
      if (!this.#slots.includes(name)) throw new McimError('INVALID_ARGUMENT', `slot '${name}' does not appear in the query ${this.#compiled.sql}`);
    }
    for (const s of this.#slots) {
      if (s !== undefined && !names.includes(s as keyof Values & string)) {
        throw new McimError('INVALID_ARGUMENT', `the query uses the undeclared slot '${String(s)}'`);
      }
    }
  }

  /** `PreparedQuery.of(builder).slots<{ id: string }>('id')`: the row type comes from the builder, the values' from the call. */
  static of<Row>(query: Compilable<Row>): { slots<Values extends Readonly<Record<string, unknown>>>(...names: (keyof Values & string)[]): PreparedQuery<Values, Row> } {
    return { slots: (...names) => new PreparedQuery(query, names) };
  }

  execute(runner: QueryRunner, values: Values): Promise<QueryResult<Row>> {
    const parameters = this.#compiled.parameters.map((p, i) => {
      const name = this.#slots[i];
      return name === undefined ? p : values[name];
    });
    const query = { ...this.#compiled, parameters };
    // On SQLite with the connection free, at once (src/store/sqliteLocking.ts); else through kysely.
    const result = runNow<Row>(runner, query);
    return result === undefined ? runner.executeQuery<Row>(query) : Promise.resolve(result);
  }

  /** The first row, or undefined. */
  async first(runner: QueryRunner, values: Values): Promise<Row | undefined> {
    return (await this.execute(runner, values)).rows[0];
  }

  /** The number of rows an INSERT, UPDATE or DELETE (without RETURNING) changed. */
  async affected(runner: QueryRunner, values: Values): Promise<number> {
    const n = (await this.execute(runner, values)).numAffectedRows;
    if (n === undefined) throw new McimError('INVALID_ARGUMENT', `the engine reported no row count for ${this.#compiled.sql}`);
    return Number(n);
  }
}
