// The eIM's fleet operations and signing keys (issue 10, SGP.32 v1.2 2.11.1.1 / 3.5 updateEim): operations with one row per target device (step, awaited package, attempts, backoff, lease), and the eIM keys by generation, sealed at rest.
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { McimError } from '../errors.js';
import { timeOf, type Database, type McimTables } from './database.js';
import type { SecretBox } from './secretBox.js';

interface KeysTable {
  generation: number;
  curve: string;
  public_key: Buffer;
  private_key_sealed: Buffer;
  created_at: number | string;
}

interface OperationsTable {
  id: string;
  kind: string;
  params: string;
  targets: number;
  created_at: number | string;
}

interface TargetsTable {
  operation_id: string;
  eid: string;
  state: TargetState;
  step: number;
  data: string;
  eim_transaction_id: string | null;
  attempts: number;
  next_at: number | string;
  lease_token: string | null;
  lease_until: number | string;
  reason: string | null;
  updated_at: number | string;
}

type FleetTables = {
  eim_keys: KeysTable;
  eim_fleet_operations: OperationsTable;
  eim_fleet_targets: TargetsTable;
  eim_devices: { eid: string };
  eim_device_tags: { eid: string; tag: string };
};

/** pending: not started; running: between steps or waiting for the device; done / failed: final. */
export type TargetState = 'pending' | 'running' | 'done' | 'failed';

/** Devices one operation may target (a fleet operation of more is several operations). */
export const MAX_OPERATION_TARGETS = 1_000_000;
/** Characters of a failure reason kept. */
const MAX_REASON = 500;
const OPERATION_ID = /^[0-9a-f]{32}$/;

export interface FleetOperation {
  readonly id: string;
  readonly kind: string;
  readonly params: unknown;
  readonly targets: number;
  readonly createdAt: number;
}

export interface FleetTarget {
  readonly operationId: string;
  readonly eid: string;
  readonly state: TargetState;
  /** Index of the operation's current step. */
  readonly step: number;
  /** What the steps learned so far (JSON object). */
  readonly data: Record<string, unknown>;
  /** The package the current step issued (or is about to issue) and waits for. */
  readonly eimTransactionId: string | undefined;
  /** Failed attempts of the current step. */
  readonly attempts: number;
  readonly nextAt: number;
  readonly reason: string | undefined;
  readonly updatedAt: number;
}

/** A target leased by one eIM process: its lease token must come back with the change. */
export interface LeasedTarget extends FleetTarget {
  readonly leaseToken: string;
}

/** A target's new state, written only while its lease holds. */
export interface TargetChange {
  readonly state: TargetState;
  readonly step: number;
  readonly data: Record<string, unknown>;
  readonly eimTransactionId: string | undefined;
  readonly attempts: number;
  readonly nextAt: number;
  readonly reason?: string;
  /** Keep the lease (the caller continues with the target); default: released. */
  readonly keepLease?: boolean;
}

export interface OperationCounts {
  readonly pending: number;
  readonly running: number;
  readonly done: number;
  readonly failed: number;
}

function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

function targetOf(r: Selectable<TargetsTable>): FleetTarget {
  return {
    operationId: r.operation_id,
    eid: r.eid,
    state: r.state,
    step: r.step,
    data: JSON.parse(r.data) as Record<string, unknown>,
    eimTransactionId: r.eim_transaction_id ?? undefined,
    attempts: r.attempts,
    nextAt: timeOf(r.next_at),
    reason: r.reason ?? undefined,
    updatedAt: timeOf(r.updated_at),
  };
}

function operationOf(r: Selectable<OperationsTable>): FleetOperation {
  return { id: r.id, kind: r.kind, params: JSON.parse(r.params) as unknown, targets: r.targets, createdAt: timeOf(r.created_at) };
}

/** The fleet store: one instance per eIM process; several processes may share one database. */
export class EimFleetStore {
  readonly #db: Kysely<McimTables & FleetTables>;
  readonly #box: SecretBox;
  readonly #postgres: boolean;

  constructor(db: Database, box: SecretBox, engine: 'sqlite' | 'postgres') {
    this.#db = db.withTables<FleetTables>();
    this.#box = box;
    this.#postgres = engine === 'postgres';
  }

  // ---- keys ----

  /** Stores the next generation of the eIM key (sealed; associated data: its generation) and returns its number. */
  async addKey(privateKey: KeyObject, curve: string, now: number): Promise<number> {
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
    const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    for (;;) {
      const last = await this.#db.selectFrom('eim_keys').select((eb) => eb.fn.max<number | null>('generation').as('g')).executeTakeFirstOrThrow();
      const generation = (last.g === null ? 0 : num(last.g)) + 1;
      const r = await this.#db
        .insertInto('eim_keys')
        .values({ generation, curve, public_key: spki, private_key_sealed: this.#box.seal(pkcs8, `eim-key:${generation}`), created_at: now })
        .onConflict((oc) => oc.column('generation').doNothing())
        .executeTakeFirst();
      pkcs8.fill(0);
      // Another process took this generation at the same time: the next one.
      if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 1) return generation;
    }
  }

  /**
   * Stores `privateKey` as generation 1 unless there is one: several eIM processes starting at once on a new database
   * make one first key between them (the others' are dropped). Returns whether this one was stored.
   */
  async addFirstKey(privateKey: KeyObject, curve: string, now: number): Promise<boolean> {
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
    const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    try {
      const r = await this.#db
        .insertInto('eim_keys')
        .values({ generation: 1, curve, public_key: spki, private_key_sealed: this.#box.seal(pkcs8, 'eim-key:1'), created_at: now })
        .onConflict((oc) => oc.column('generation').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
    } finally {
      pkcs8.fill(0);
    }
  }

  /** Every generation's private key, opened (TAMPERED under another at-rest key). */
  async keys(): Promise<{ generation: number; privateKey: KeyObject }[]> {
    const rows = await this.#db.selectFrom('eim_keys').selectAll().orderBy('generation').execute();
    return rows.map((r) => {
      const der = this.#box.open(r.private_key_sealed, `eim-key:${r.generation}`);
      try {
        return { generation: r.generation, privateKey: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }) };
      } finally {
        der.fill(0);
      }
    });
  }

  // ---- operations ----

  /**
   * Creates an operation and one pending target per EID, in one transaction. Every EID must be registered
   * (DEVICE_NOT_FOUND names the first that is not); an EID listed twice is one target.
   */
  async createOperation(kind: string, params: unknown, eids: readonly string[], now: number): Promise<FleetOperation> {
    const unique = [...new Set(eids)];
    if (unique.length === 0) throw new McimError('INVALID_ARGUMENT', 'the selection holds no device');
    if (unique.length > MAX_OPERATION_TARGETS) throw new McimError('INVALID_ARGUMENT', `an operation targets at most ${MAX_OPERATION_TARGETS} devices`);
    const id = randomBytes(16).toString('hex');
    await this.#db.transaction().execute(async (trx) => {
      for (let i = 0; i < unique.length; i += 500) {
        const chunk = unique.slice(i, i + 500);
        const known = await trx.selectFrom('eim_devices').select('eid').where('eid', 'in', chunk).execute();
        if (known.length !== chunk.length) {
          const set = new Set(known.map((k) => k.eid));
          throw new McimError('DEVICE_NOT_FOUND', `no device ${chunk.find((e) => !set.has(e))} in the registry`);
        }
      }
      await trx.insertInto('eim_fleet_operations').values({ id, kind, params: JSON.stringify(params), targets: unique.length, created_at: now }).execute();
      for (let i = 0; i < unique.length; i += 500) {
        await trx
          .insertInto('eim_fleet_targets')
          .values(unique.slice(i, i + 500).map((eid) => ({ operation_id: id, eid, state: 'pending' as const, step: 0, data: '{}', attempts: 0, next_at: now, lease_until: 0, updated_at: now })))
          .execute();
      }
    });
    return { id, kind, params, targets: unique.length, createdAt: now };
  }

  /** The EIDs with `tag`, in EID order. */
  async eidsWithTag(tag: string): Promise<string[]> {
    return (await this.#db.selectFrom('eim_device_tags').select('eid').where('tag', '=', tag).orderBy('eid').execute()).map((r) => r.eid);
  }

  async getOperation(id: string): Promise<FleetOperation | undefined> {
    if (!OPERATION_ID.test(id)) return undefined;
    const row = await this.#db.selectFrom('eim_fleet_operations').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : operationOf(row);
  }

  /** Operations, newest first. */
  async listOperations(limit: number): Promise<FleetOperation[]> {
    return (await this.#db.selectFrom('eim_fleet_operations').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).execute()).map(operationOf);
  }

  async counts(operationId: string): Promise<OperationCounts> {
    const rows = await this.#db
      .selectFrom('eim_fleet_targets')
      .select((eb) => ['state', eb.fn.countAll<number | string>().as('n')])
      .where('operation_id', '=', operationId)
      .groupBy('state')
      .execute();
    const count = (s: TargetState): number => num(rows.find((r) => r.state === s)?.n ?? 0);
    return { pending: count('pending'), running: count('running'), done: count('done'), failed: count('failed') };
  }

  /** The operation's targets in EID order; `after` and `limit` page through them. */
  async targets(operationId: string, o: { after?: string; limit?: number; state?: TargetState } = {}): Promise<FleetTarget[]> {
    let q = this.#db.selectFrom('eim_fleet_targets').selectAll().where('operation_id', '=', operationId);
    if (o.after !== undefined) q = q.where('eid', '>', o.after);
    if (o.state !== undefined) q = q.where('state', '=', o.state);
    return (await q.orderBy('eid').limit(Math.min(o.limit ?? 1000, 10_000)).execute()).map(targetOf);
  }

  /**
   * Leases up to `limit` due targets (pending or running, next_at reached, lease free) for `leaseMs`. Two processes never
   * lease the same target: the update is conditional on the lease being free (PostgreSQL skips rows another claimer has
   * locked). One operation per device at a time: a pending target does not start while another operation's target of
   * its device is running.
   */
  async claimDue(now: number, limit: number, leaseMs: number): Promise<LeasedTarget[]> {
    const token = randomBytes(12).toString('hex');
    const lock = this.#postgres ? sql` FOR UPDATE SKIP LOCKED` : sql``;
    // Row values, not a concatenated key: the outer UPDATE finds each chosen target by its primary key (a concatenation
    // matched every pending and running target of every operation: one scan per round, quadratic over an operation).
    const due = sql<string>`(SELECT t.operation_id, t.eid FROM eim_fleet_targets t WHERE t.state IN ('pending', 'running') AND t.next_at <= ${now} AND t.lease_until <= ${now}
      AND (t.state = 'running' OR NOT EXISTS (SELECT 1 FROM eim_fleet_targets u WHERE u.eid = t.eid AND u.state = 'running' AND u.operation_id <> t.operation_id))
      ORDER BY t.next_at LIMIT ${limit}${lock})`;
    const rows = await this.#db
      .updateTable('eim_fleet_targets')
      .set({ lease_token: token, lease_until: now + leaseMs })
      .where(sql<boolean>`(operation_id, eid) IN ${due}`)
      .where('state', 'in', ['pending', 'running'])
      .where('lease_until', '<=', now)
      .returningAll()
      .execute();
    return rows.map((r) => ({ ...targetOf(r), leaseToken: token }));
  }

  /** Writes a leased target's new state; false when the lease was lost (another process holds the target now). */
  async saveTarget(t: LeasedTarget, c: TargetChange, now: number, leaseMs: number): Promise<boolean> {
    const r = await this.#db
      .updateTable('eim_fleet_targets')
      .set({
        state: c.state,
        step: c.step,
        data: JSON.stringify(c.data),
        eim_transaction_id: c.eimTransactionId ?? null,
        attempts: c.attempts,
        next_at: c.nextAt,
        reason: c.reason === undefined ? null : c.reason.slice(0, MAX_REASON),
        updated_at: now,
        ...(c.keepLease === true ? { lease_until: now + leaseMs } : { lease_token: null, lease_until: 0 }),
      })
      .where('operation_id', '=', t.operationId)
      .where('eid', '=', t.eid)
      .where('lease_token', '=', t.leaseToken)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The device's targets waiting for a package become due now (its result has arrived). */
  async wake(eid: string, now: number): Promise<void> {
    await this.#db
      .updateTable('eim_fleet_targets')
      .set({ next_at: now })
      .where('eid', '=', eid)
      .where('state', '=', 'running')
      .where('eim_transaction_id', 'is not', null)
      .where('next_at', '>', now)
      .execute();
  }
}
