// The eIM's registry and package queue (SGP.32 v1.2 2.11.1.1 counters and association tokens, 3.1.1 eIM package retrieval): devices, tags, packages per EID, results and notifications stored.
import { CompiledQuery, PostgresAdapter, type Generated, type Kysely, type Selectable, type Transaction } from 'kysely';
import { McimError } from '../errors.js';
import { timeOf, type Database, type McimTables } from './database.js';

interface DevicesTable {
  eid: string;
  eim_id: string;
  euicc_certificate: Buffer;
  eum_certificate: Buffer;
  ci_key_id: string;
  association_token: number;
  /** The counterValue of the last EuiccPackageRequest issued to the device (0: none yet). */
  counter: Generated<number | string>;
  /** The profiles as last reported (JSON of StoredProfile[]); null: never reported. */
  profiles: string | null;
  profiles_reported_at: number | string | null;
  last_contact_at: number | string | null;
  /** The stateChangeCause of the last GetEimPackage with notifyStateChange (127 when none was given). */
  state_change_cause: number | null;
  created_at: number | string;
  /** The generation of the eIM key the device's eUICC holds (migration 0014; updateEim moves it). */
  key_generation: Generated<number>;
  /** Where the eIM pushes packages (TransferEimPackage, migration 0016); null: retrieve mode only. */
  push_address: Generated<string | null>;
}

interface DeviceTagsTable {
  eid: string;
  tag: string;
}

interface PackagesTable {
  id: Generated<number | string>;
  eim_transaction_id: string;
  eid: string;
  kind: PackageKind;
  counter: number | string | null;
  request: Buffer;
  state: PackageState;
  attempts: Generated<number>;
  result: Buffer | null;
  outcome: string | null;
  created_at: number | string;
  sent_at: number | string | null;
  done_at: number | string | null;
}

interface ReceivedTable {
  eid: string;
  seq_number: number | string;
  kind: 'packageResult' | 'notification';
  eim_transaction_id: string | null;
  received_at: number | string;
}

type EimTables = {
  eim_devices: DevicesTable;
  eim_device_tags: DeviceTagsTable;
  eim_packages: PackagesTable;
  eim_received: ReceivedTable;
};

type EimDb = Kysely<McimTables & EimTables>;

/** The eIM packages of SGP.32 2.11: EuiccPackageRequest (BF51), IpaEuiccDataRequest (BF52), ProfileDownloadTriggerRequest (BF54). */
export type PackageKind = 'euiccPackage' | 'ipaEuiccData' | 'profileDownloadTrigger';
/** pending: queued; sent: handed out by GetEimPackage, no result yet; done / failed: its result stored. */
export type PackageState = 'pending' | 'sent' | 'done' | 'failed';

/** The highest counterValue an eUICC must accept (SGP.32 2.11.1.1: at least 0x7FFFFF); the eIM never issues beyond it. */
export const MAX_EIM_COUNTER = 0x7fffff;
/** Tags per device and characters per tag: fleet selections, not data. */
export const MAX_TAGS = 32;
const TAG = /^[A-Za-z0-9._:-]{1,64}$/;
const EID = /^[0-9]{32}$/;

/** A profile as the device last reported it (listProfileInfo, notifications, installation results). */
export interface StoredProfile {
  readonly iccid: string;
  readonly state: 'enabled' | 'disabled';
  readonly profileName?: string;
  readonly serviceProviderName?: string;
  readonly profileClass?: number;
  readonly fallbackAttribute?: boolean;
}

export interface NewDevice {
  readonly eid: string;
  readonly eimId: string;
  /** DER of CERT.EUICC.ECDSA and CERT.EUM.ECDSA, validated by the caller against the configured CIs. */
  readonly euiccCertificate: Buffer;
  readonly eumCertificate: Buffer;
  /** The CI the chain ends at (subject key identifier, hex). */
  readonly ciKeyId: string;
  /** The association token the eUICC assigned to this eIM (AddInitialEim or addEim). */
  readonly associationToken: number;
  /** The eIM's counter on the eUICC when registered (the counterValue of its configuration data; default 0). */
  readonly counter?: number;
  readonly tags?: readonly string[];
  /** The generation of the eIM signing key the eUICC was given (default 1). */
  readonly keyGeneration?: number;
}

export interface Device {
  readonly eid: string;
  readonly eimId: string;
  readonly euiccCertificate: Buffer;
  readonly eumCertificate: Buffer;
  readonly ciKeyId: string;
  readonly associationToken: number;
  readonly counter: number;
  readonly tags: readonly string[];
  readonly profiles: readonly StoredProfile[] | undefined;
  readonly profilesReportedAt: number | undefined;
  readonly lastContactAt: number | undefined;
  readonly stateChangeCause: number | undefined;
  readonly createdAt: number;
  /** The generation of the eIM signing key the eUICC holds. */
  readonly keyGeneration: number;
  /** The IPAd's push address (`https://host[:port]`) for TransferEimPackage; undefined: retrieve mode only. */
  readonly pushAddress: string | undefined;
}

export interface StoredPackage {
  readonly eimTransactionId: string;
  readonly eid: string;
  readonly kind: PackageKind;
  readonly counter: number | undefined;
  /** The package's DER exactly as issued (and signed). */
  readonly request: Buffer;
  readonly state: PackageState;
  readonly attempts: number;
  readonly result: Buffer | undefined;
  /** What the result said (JSON written by the eIM when it stored the result). */
  readonly outcome: unknown;
  readonly createdAt: number;
}

/** What a counted package is signed with: the counter just allocated and the association it is signed under. */
export interface CounterGrant {
  readonly eid: string;
  readonly eimId: string;
  readonly counter: number;
  readonly associationToken: number;
  /** The generation of the eIM key the package must be signed with (the one the eUICC holds). */
  readonly keyGeneration: number;
}

/** A package's result as the eIM stores it, with what it changes in the registry, all in one transaction. */
export interface PackageCompletion {
  readonly state: 'done' | 'failed';
  readonly result: Buffer;
  readonly outcome: unknown;
  /** The profiles after the result (undefined: unchanged). */
  readonly profiles?: (current: readonly StoredProfile[] | undefined) => readonly StoredProfile[] | undefined;
  /** Sequence numbers of the eUICC the result carried (package result, notifications): acknowledged. */
  readonly received?: readonly { readonly seqNumber: number; readonly kind: 'packageResult' | 'notification' }[];
}

export type CompletionOutcome =
  | { readonly status: 'completed'; readonly package: StoredPackage }
  /** Completed before with the same result bytes: nothing changed (the IPA resends what it has not seen acknowledged). */
  | { readonly status: 'duplicate'; readonly package: StoredPackage }
  /** Completed before with another result. */
  | { readonly status: 'replayed'; readonly package: StoredPackage };

function invalid(message: string): never {
  throw new McimError('INVALID_ARGUMENT', message);
}

function checkTags(tags: readonly string[]): void {
  if (tags.length > MAX_TAGS) invalid(`a device has at most ${MAX_TAGS} tags`);
  for (const t of tags) if (!TAG.test(t)) invalid(`'${t}' is not a tag (letters, digits, '.', '_', ':', '-', at most 64)`);
}

function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

function packageOf(r: Selectable<PackagesTable>): StoredPackage {
  return {
    eimTransactionId: r.eim_transaction_id,
    eid: r.eid,
    kind: r.kind,
    counter: r.counter === null ? undefined : num(r.counter),
    request: r.request,
    state: r.state,
    attempts: r.attempts,
    result: r.result ?? undefined,
    outcome: r.outcome === null ? undefined : (JSON.parse(r.outcome) as unknown),
    createdAt: timeOf(r.created_at),
  };
}

/** The eIM's store: one instance per process; several processes may share one database. */
export class EimStore {
  readonly #db: EimDb;
  readonly #postgres: boolean;

  constructor(db: Database) {
    this.#db = db.withTables<EimTables>();
    this.#postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  /** Adds a device; DEVICE_EXISTS if its EID is registered already (also when another process adds it at once). */
  async registerDevice(d: NewDevice, now: number): Promise<void> {
    if (!EID.test(d.eid)) invalid(`'${d.eid}' is not an EID (32 digits)`);
    const counter = d.counter ?? 0;
    if (!Number.isInteger(counter) || counter < 0 || counter > MAX_EIM_COUNTER) invalid(`a counter is 0 to ${MAX_EIM_COUNTER}`);
    if (!Number.isInteger(d.associationToken) || d.associationToken < 0) invalid('an association token is a whole number');
    const keyGeneration = d.keyGeneration ?? 1;
    if (!Number.isInteger(keyGeneration) || keyGeneration < 1) invalid('a key generation is a whole number from 1');
    const tags = [...new Set(d.tags ?? [])];
    checkTags(tags);
    await this.#db.transaction().execute(async (trx) => {
      const r = await trx
        .insertInto('eim_devices')
        .values({
          eid: d.eid,
          eim_id: d.eimId,
          euicc_certificate: d.euiccCertificate,
          eum_certificate: d.eumCertificate,
          ci_key_id: d.ciKeyId,
          association_token: d.associationToken,
          counter,
          profiles: null,
          profiles_reported_at: null,
          last_contact_at: null,
          state_change_cause: null,
          created_at: now,
          key_generation: keyGeneration,
        })
        .onConflict((oc) => oc.column('eid').doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1) throw new McimError('DEVICE_EXISTS', `the device ${d.eid} is already registered`);
      if (tags.length > 0) await trx.insertInto('eim_device_tags').values(tags.map((tag) => ({ eid: d.eid, tag }))).execute();
    });
  }

  async getDevice(eid: string): Promise<Device | undefined> {
    const row = await this.#db.selectFrom('eim_devices').selectAll().where('eid', '=', eid).executeTakeFirst();
    if (row === undefined) return undefined;
    const tags = await this.#db.selectFrom('eim_device_tags').select('tag').where('eid', '=', eid).orderBy('tag').execute();
    return deviceOf(row, tags.map((t) => t.tag));
  }

  /** Devices in EID order, all or those with `tag`; `after` and `limit` page through them. */
  async listDevices(o: { tag?: string; after?: string; limit?: number } = {}): Promise<Device[]> {
    let q = this.#db.selectFrom('eim_devices').selectAll('eim_devices');
    if (o.tag !== undefined) {
      const tag = o.tag;
      q = q.where((eb) => eb.exists(eb.selectFrom('eim_device_tags').select('eim_device_tags.eid').whereRef('eim_device_tags.eid', '=', 'eim_devices.eid').where('eim_device_tags.tag', '=', tag)));
    }
    if (o.after !== undefined) q = q.where('eim_devices.eid', '>', o.after);
    const rows = await q.orderBy('eim_devices.eid').limit(Math.min(o.limit ?? 1000, 10_000)).execute();
    if (rows.length === 0) return [];
    const tags = await this.#db.selectFrom('eim_device_tags').selectAll().where('eid', 'in', rows.map((r) => r.eid)).orderBy('tag').execute();
    const byEid = new Map<string, string[]>();
    for (const t of tags) {
      const list = byEid.get(t.eid);
      if (list === undefined) byEid.set(t.eid, [t.tag]);
      else list.push(t.tag);
    }
    return rows.map((r) => deviceOf(r, byEid.get(r.eid) ?? []));
  }

  /** Replaces the device's tags. */
  async setTags(eid: string, tags: readonly string[]): Promise<void> {
    const unique = [...new Set(tags)];
    checkTags(unique);
    await this.#db.transaction().execute(async (trx) => {
      await this.#requireDevice(trx, eid);
      await trx.deleteFrom('eim_device_tags').where('eid', '=', eid).execute();
      if (unique.length > 0) await trx.insertInto('eim_device_tags').values(unique.map((tag) => ({ eid, tag }))).execute();
    });
  }

  /**
   * Records that the device's eUICC now holds eIM key `generation` (its updateEim result said ok). Only ever forward:
   * a result stored twice, or an older rotation finishing late, never moves a device back to a key it no longer holds.
   */
  async setKeyGeneration(eid: string, generation: number): Promise<void> {
    await this.#db.updateTable('eim_devices').set({ key_generation: generation }).where('eid', '=', eid).where('key_generation', '<', generation).execute();
  }

  /**
   * Sets the device's push address (an `https://host[:port]` origin, at most 256 characters) or, with undefined, clears
   * it (the device is back to retrieve mode only). DEVICE_NOT_FOUND for an unknown EID.
   */
  async setPushAddress(eid: string, address: string | undefined): Promise<void> {
    if (address !== undefined) checkPushAddress(address);
    const r = await this.#db.updateTable('eim_devices').set({ push_address: address ?? null }).where('eid', '=', eid).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new McimError('DEVICE_NOT_FOUND', `no device ${eid} in the registry`);
  }

  async #requireDevice(trx: Transaction<McimTables & EimTables>, eid: string): Promise<void> {
    const row = await trx.selectFrom('eim_devices').select('eid').where('eid', '=', eid).executeTakeFirst();
    if (row === undefined) throw new McimError('DEVICE_NOT_FOUND', `no device ${eid} in the registry`);
  }

  /**
   * Issues a counted package: allocates the device's next counter in one UPDATE ... RETURNING (several eIM processes on
   * one database never get the same value; the row stays locked until the package is queued, so queue order is counter
   * order), lets `sign` build the package under it, and queues it, in one transaction. A failure leaves no gap but the
   * counter value allocated (the eUICC needs increasing counters, not consecutive ones).
   */
  async enqueueCounted(eid: string, eimTransactionId: string, sign: (grant: CounterGrant) => Buffer, now: number): Promise<CounterGrant> {
    return this.#db.transaction().execute((trx) => this.#enqueueCountedIn(trx, eid, eimTransactionId, sign, now));
  }

  /**
   * enqueueCounted for many devices in one transaction (a fleet operation: one commit for the lot instead of one per
   * package), all or nothing: DEVICE_NOT_FOUND or COUNTER_EXHAUSTED for one device queues none. The counters are
   * allocated by one statement (a device listed n times gets its next n, in list order), then `sign` gets every grant
   * and answers the packages in chunks, in grant order; each chunk is queued as soon as it is ready (the rest may be
   * signed elsewhere meanwhile). The devices' rows stay locked until the commit, so queue order is counter order; run
   * batches of a bounded size.
   */
  async enqueueCountedMany(
    items: readonly { readonly eid: string; readonly eimTransactionId: string }[],
    sign: (grants: readonly CounterGrant[]) => readonly Promise<readonly Buffer[]>[],
    now: number,
  ): Promise<CounterGrant[]> {
    if (items.length === 0) return [];
    return this.#db.transaction().execute(async (trx) => {
      const grants = await this.#allocateCounters(trx, items.map((i) => i.eid));
      const chunks = sign(grants);
      // Each chunk is awaited in turn below; once one fails the transaction ends and the later ones are not waited for.
      for (const c of chunks) c.then(undefined, () => undefined);
      let at = 0;
      for (const chunk of chunks) {
        const requests = await chunk;
        if (at + requests.length > items.length) invalid('more packages than grants');
        await this.#insertCounted(trx, items, grants, requests, at, now);
        at += requests.length;
      }
      if (at !== items.length) invalid(`${at} packages for ${items.length} grants`);
      return grants;
    });
  }

  /** The next counters of `eids` (in order; an EID listed n times gets n), by one UPDATE ... RETURNING, the rows locked in EID order. */
  async #allocateCounters(trx: Transaction<McimTables & EimTables>, eids: readonly string[]): Promise<CounterGrant[]> {
    const wanted = new Map<string, number>();
    for (const eid of eids) wanted.set(eid, (wanted.get(eid) ?? 0) + 1);
    const distinct = [...wanted.keys()];
    type Row = { eid: string; eim_id: string; counter: number | string; association_token: number; key_generation: number };
    let rows: Row[];
    if (this.#postgres) {
      // Locked in EID order first: two processes allocating for overlapping devices wait for each other, never deadlock.
      await trx.executeQuery(CompiledQuery.raw('SELECT eid FROM eim_devices WHERE eid = ANY($1::text[]) ORDER BY eid FOR UPDATE', [distinct]));
      rows = (
        await trx.executeQuery<Row>(
          CompiledQuery.raw(
            `UPDATE eim_devices AS d SET counter = d.counter + v.n FROM unnest($1::text[], $2::int[]) AS v(eid, n) WHERE d.eid = v.eid AND d.counter + v.n <= ${MAX_EIM_COUNTER} ` +
              'RETURNING d.eid, d.eim_id, d.counter, d.association_token, d.key_generation',
            [distinct, distinct.map((e) => wanted.get(e)!)],
          ),
        )
      ).rows;
    } else {
      rows = (
        await trx.executeQuery<Row>(
          CompiledQuery.raw(
            `UPDATE eim_devices SET counter = eim_devices.counter + j.value FROM json_each(?) AS j WHERE eim_devices.eid = j.key AND eim_devices.counter + j.value <= ${MAX_EIM_COUNTER} ` +
              'RETURNING eid, eim_id, counter, association_token, key_generation',
            [JSON.stringify(Object.fromEntries(wanted))],
          ),
        )
      ).rows;
    }
    const byEid = new Map(rows.map((r) => [r.eid, r]));
    if (byEid.size !== distinct.length) {
      const eid = distinct.find((e) => !byEid.has(e))!;
      await this.#requireDevice(trx, eid);
      throw new McimError('COUNTER_EXHAUSTED', `the device ${eid} has used every counter value up to ${MAX_EIM_COUNTER}`);
    }
    const next = new Map(rows.map((r) => [r.eid, num(r.counter) - wanted.get(r.eid)! + 1]));
    return eids.map((eid) => {
      const r = byEid.get(eid)!;
      const counter = next.get(eid)!;
      next.set(eid, counter + 1);
      return { eid, eimId: r.eim_id, counter, associationToken: r.association_token, keyGeneration: r.key_generation };
    });
  }

  /** Queues `requests` as the packages of items[from...], by multi-row INSERTs of a few fixed sizes (a few statement texts to cache). */
  async #insertCounted(
    trx: Transaction<McimTables & EimTables>,
    items: readonly { readonly eid: string; readonly eimTransactionId: string }[],
    grants: readonly CounterGrant[],
    requests: readonly Buffer[],
    from: number,
    now: number,
  ): Promise<void> {
    let done = 0;
    while (done < requests.length) {
      let rows = INSERT_ROWS;
      while (rows > requests.length - done) rows >>= 1;
      const params: unknown[] = [];
      for (let i = 0; i < rows; i++) {
        const k = from + done + i;
        params.push(items[k]!.eimTransactionId, items[k]!.eid, grants[k]!.counter, requests[done + i]!, now);
      }
      await trx.executeQuery(CompiledQuery.raw(insertCountedSql(this.#postgres, rows), params));
      done += rows;
    }
  }

  async #enqueueCountedIn(trx: Transaction<McimTables & EimTables>, eid: string, eimTransactionId: string, sign: (grant: CounterGrant) => Buffer, now: number): Promise<CounterGrant> {
    const row = await trx
      .updateTable('eim_devices')
      .set((eb) => ({ counter: eb('counter', '+', 1) }))
      .where('eid', '=', eid)
      .where('counter', '<', MAX_EIM_COUNTER)
      .returning(['eid', 'eim_id', 'counter', 'association_token', 'key_generation'])
      .executeTakeFirst();
    if (row === undefined) {
      await this.#requireDevice(trx, eid);
      throw new McimError('COUNTER_EXHAUSTED', `the device ${eid} has used every counter value up to ${MAX_EIM_COUNTER}`);
    }
    const grant: CounterGrant = { eid, eimId: row.eim_id, counter: num(row.counter), associationToken: row.association_token, keyGeneration: row.key_generation };
    const request = sign(grant);
    await trx
      .insertInto('eim_packages')
      .values({ eim_transaction_id: eimTransactionId, eid, kind: 'euiccPackage', counter: grant.counter, request, state: 'pending', created_at: now })
      .execute();
    return grant;
  }

  /** Queues a package without a counter (IpaEuiccDataRequest, ProfileDownloadTriggerRequest). */
  async enqueue(eid: string, kind: Exclude<PackageKind, 'euiccPackage'>, eimTransactionId: string, request: Buffer, now: number): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await this.#requireDevice(trx, eid);
      await trx.insertInto('eim_packages').values({ eim_transaction_id: eimTransactionId, eid, kind, counter: null, request, state: 'pending', created_at: now }).execute();
    });
  }

  /**
   * Records a contact (GetEimPackage) and, with notifyStateChange, its cause. A contact without a cause is written only
   * when the last one recorded is `intervalMs` old or more (one conditional UPDATE: polls in between change no row,
   * whichever eIM process they reach). Returns whether the row was written.
   */
  async touch(eid: string, now: number, intervalMs: number, stateChangeCause?: number): Promise<boolean> {
    let q = this.#db
      .updateTable('eim_devices')
      .set({ last_contact_at: now, ...(stateChangeCause === undefined ? {} : { state_change_cause: stateChangeCause }) })
      .where('eid', '=', eid);
    if (stateChangeCause === undefined) q = q.where((eb) => eb.or([eb('last_contact_at', 'is', null), eb('last_contact_at', '<=', now - intervalMs)]));
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * The device's oldest open package (pending, or sent without a result: the same bytes again), marked sent. Several
   * polls at once may get the same package; its result is stored once.
   */
  async nextPackage(eid: string, now: number): Promise<StoredPackage | undefined> {
    const row = await this.#db
      .selectFrom('eim_packages')
      .selectAll()
      .where('eid', '=', eid)
      .where('state', 'in', ['pending', 'sent'])
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const updated = await this.#db
      .updateTable('eim_packages')
      .set((eb) => ({ state: 'sent', attempts: eb('attempts', '+', 1), sent_at: now }))
      .where('eim_transaction_id', '=', row.eim_transaction_id)
      .where('state', 'in', ['pending', 'sent'])
      .returningAll()
      .executeTakeFirst();
    return packageOf(updated ?? row);
  }

  async openPackageCount(eid: string): Promise<number> {
    const r = await this.#db
      .selectFrom('eim_packages')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('eid', '=', eid)
      .where('state', 'in', ['pending', 'sent'])
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async getPackage(eimTransactionId: string): Promise<StoredPackage | undefined> {
    const row = await this.#db.selectFrom('eim_packages').selectAll().where('eim_transaction_id', '=', eimTransactionId).executeTakeFirst();
    return row === undefined ? undefined : packageOf(row);
  }

  /** The device's package with this counter (a result without eimTransactionId). */
  async packageByCounter(eid: string, counter: number): Promise<StoredPackage | undefined> {
    const row = await this.#db.selectFrom('eim_packages').selectAll().where('eid', '=', eid).where('counter', '=', counter).executeTakeFirst();
    return row === undefined ? undefined : packageOf(row);
  }

  async listPackages(eid: string): Promise<StoredPackage[]> {
    return (await this.#db.selectFrom('eim_packages').selectAll().where('eid', '=', eid).orderBy('id').execute()).map(packageOf);
  }

  /**
   * Stores a package's result and what it changes, in one transaction: the package leaves pending/sent by a conditional
   * UPDATE (two processes storing one result: one completes it, the other sees it completed), the device's profiles
   * change, the eUICC sequence numbers are recorded. A package completed before is a duplicate (same result bytes:
   * nothing changes) or a replay (another result: nothing changes).
   */
  async completePackage(eimTransactionId: string, c: PackageCompletion, now: number): Promise<CompletionOutcome> {
    return this.#db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('eim_packages')
        .set({ state: c.state, result: c.result, outcome: JSON.stringify(c.outcome), done_at: now })
        .where('eim_transaction_id', '=', eimTransactionId)
        .where('state', 'in', ['pending', 'sent'])
        .returningAll()
        .executeTakeFirst();
      if (updated === undefined) {
        const row = await trx.selectFrom('eim_packages').selectAll().where('eim_transaction_id', '=', eimTransactionId).executeTakeFirst();
        if (row === undefined) throw new McimError('UNKNOWN_TRANSACTION', `no package with eimTransactionId ${eimTransactionId}`);
        const stored = packageOf(row);
        return { status: row.result !== null && row.result.equals(c.result) ? 'duplicate' : 'replayed', package: stored };
      }
      const eid = updated.eid;
      if (c.profiles !== undefined) await this.#updateProfiles(trx, eid, c.profiles, now);
      await this.#received(trx, eid, c.received ?? [], eimTransactionId, now);
      return { status: 'completed', package: packageOf(updated) };
    });
  }

  /** Records notifications received outside a package result (HandleNotification) and their change to the profiles. */
  async recordNotifications(
    eid: string,
    seqNumbers: readonly number[],
    profiles: ((current: readonly StoredProfile[] | undefined) => readonly StoredProfile[] | undefined) | undefined,
    now: number,
  ): Promise<{ readonly fresh: readonly number[] }> {
    return this.#db.transaction().execute(async (trx) => {
      const fresh = await this.#received(trx, eid, seqNumbers.map((seqNumber) => ({ seqNumber, kind: 'notification' as const })), null, now);
      if (profiles !== undefined && fresh.length > 0) await this.#updateProfiles(trx, eid, profiles, now);
      return { fresh };
    });
  }

  /** Whether the eIM has stored this eUICC sequence number (a result or notification it may acknowledge). */
  async hasReceived(eid: string, seqNumber: number): Promise<boolean> {
    const row = await this.#db.selectFrom('eim_received').select('seq_number').where('eid', '=', eid).where('seq_number', '=', seqNumber).executeTakeFirst();
    return row !== undefined;
  }

  async #received(
    trx: Transaction<McimTables & EimTables>,
    eid: string,
    items: readonly { readonly seqNumber: number; readonly kind: 'packageResult' | 'notification' }[],
    eimTransactionId: string | null,
    now: number,
  ): Promise<number[]> {
    const fresh: number[] = [];
    for (const item of items) {
      const r = await trx
        .insertInto('eim_received')
        .values({ eid, seq_number: item.seqNumber, kind: item.kind, eim_transaction_id: eimTransactionId, received_at: now })
        .onConflict((oc) => oc.columns(['eid', 'seq_number']).doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 1) fresh.push(item.seqNumber);
    }
    return fresh;
  }

  async #updateProfiles(
    trx: Transaction<McimTables & EimTables>,
    eid: string,
    change: (current: readonly StoredProfile[] | undefined) => readonly StoredProfile[] | undefined,
    now: number,
  ): Promise<void> {
    // Read through an UPDATE: it locks the row (PostgreSQL) until the transaction ends, so two results stored at once
    // never lose each other's change; SQLite transactions here are exclusive already.
    const row = await trx.updateTable('eim_devices').set({ profiles_reported_at: now }).where('eid', '=', eid).returning('profiles').executeTakeFirst();
    if (row === undefined) return;
    const current = row.profiles === null ? undefined : (JSON.parse(row.profiles) as StoredProfile[]);
    const next = change(current);
    if (next === undefined) return;
    await trx.updateTable('eim_devices').set({ profiles: JSON.stringify(next), profiles_reported_at: now }).where('eid', '=', eid).execute();
  }
}

/** Characters of a push address at most. */
export const MAX_PUSH_ADDRESS = 256;

function checkPushAddress(address: string): void {
  let url: URL | undefined;
  try {
    url = address.length <= MAX_PUSH_ADDRESS ? new URL(address) : undefined;
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '' || address.endsWith('/')) {
    invalid(`'${address.slice(0, 64)}' is not a push address (https://host[:port], at most ${MAX_PUSH_ADDRESS} characters)`);
  }
}

/** Rows of the largest multi-row INSERT of counted packages (a power of two: the smaller ones are its halves). */
const INSERT_ROWS = 64;
const insertTexts = new Map<string, string>();

function insertCountedSql(postgres: boolean, rows: number): string {
  const key = `${postgres ? 'pg' : 'sqlite'}:${rows}`;
  let text = insertTexts.get(key);
  if (text === undefined) {
    const p = (n: number): string => (postgres ? `$${n}` : '?');
    const values = Array.from({ length: rows }, (_, i) => `(${p(5 * i + 1)}, ${p(5 * i + 2)}, 'euiccPackage', ${p(5 * i + 3)}, ${p(5 * i + 4)}, 'pending', ${p(5 * i + 5)})`);
    text = `INSERT INTO eim_packages (eim_transaction_id, eid, kind, counter, request, state, created_at) VALUES ${values.join(', ')}`;
    insertTexts.set(key, text);
  }
  return text;
}

function deviceOf(r: Selectable<DevicesTable>, tags: string[]): Device {
  return {
    eid: r.eid,
    eimId: r.eim_id,
    euiccCertificate: r.euicc_certificate,
    eumCertificate: r.eum_certificate,
    ciKeyId: r.ci_key_id,
    associationToken: r.association_token,
    counter: num(r.counter),
    tags,
    profiles: r.profiles === null ? undefined : (JSON.parse(r.profiles) as StoredProfile[]),
    profilesReportedAt: r.profiles_reported_at === null ? undefined : timeOf(r.profiles_reported_at),
    lastContactAt: r.last_contact_at === null ? undefined : timeOf(r.last_contact_at),
    stateChangeCause: r.state_change_cause ?? undefined,
    createdAt: timeOf(r.created_at),
    keyGeneration: r.key_generation,
    pushAddress: r.push_address ?? undefined,
  };
}
