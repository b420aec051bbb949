// The AuC's persistent state: subscribers (K and OPc/TOPc under envelope encryption), SEQ_HE handed out by one atomic UPDATE (TS 33.102 Annex C.3), pending 5G AKA authentications, the home network's SUCI keys.
import type { Kysely, Selectable } from 'kysely';
import { McimError } from '../errors.js';
import { timeOf, type Database, type McimTables } from './database.js';
import { OperatorDataKeys } from './operatorDataKeys.js';
import { SecretBox } from './secretBox.js';

export type AucAlgorithm = 'milenage' | 'tuak';
export type SubscriberState = 'active' | 'suspended';
export type HnKeyProfile = 'A' | 'B';

/** TUAK's operator parameters (TS 35.231 5.1), lengths in bytes. */
export interface TuakParameters {
  readonly macLength: 8 | 16 | 32;
  readonly resLength: 4 | 8 | 16 | 32;
  readonly ckLength: 16 | 32;
  readonly ikLength: 16 | 32;
  readonly keccakIterations: number;
}

/** What the network enforces for the subscriber (returned with every vector). */
export interface ServiceRestrictions {
  /** Packet data only: no circuit-switched or IMS voice. */
  readonly dataOnly: boolean;
  /** Bytes the subscriber may transfer; undefined: no cap. */
  readonly volumeCapBytes: number | undefined;
}

/** The secrets of one subscriber, decrypted: never logged, never listed. */
export interface SubscriberSecrets {
  readonly algorithm: AucAlgorithm;
  readonly k: Buffer;
  /** OPc (Milenage, 16 bytes) or TOPc (TUAK, 32 bytes). */
  readonly opc: Buffer;
  /** TUAK only. */
  readonly tuak: TuakParameters | undefined;
}

export interface NewSubscriber {
  readonly imsi: string;
  readonly iccid?: string;
  readonly operatorId: string;
  readonly secrets: SubscriberSecrets;
  /** 2 bytes. */
  readonly amf: Buffer;
  /** SEQ_HE: the SEQ of the last SQN handed out (the next one is SEQ_HE + 1). */
  readonly seqHe: number;
  /** Length of IND in bits (TS 33.102 C.1.1.2), default 5. */
  readonly indBits?: number;
  readonly state?: SubscriberState;
  readonly restrictions?: ServiceRestrictions;
}

/** A subscriber as listed and shown: no K, no OPc/TOPc. */
export interface SubscriberInfo {
  readonly imsi: string;
  readonly iccid: string | undefined;
  readonly operatorId: string;
  readonly algorithm: AucAlgorithm;
  /** hex */
  readonly amf: string;
  readonly seqHe: number;
  readonly indBits: number;
  readonly state: SubscriberState;
  readonly restrictions: ServiceRestrictions;
  readonly tuak: TuakParameters | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What one authentication vector is made from: the subscriber, its secrets and the SEQ just allocated to it. */
export interface VectorMaterial {
  readonly subscriber: SubscriberInfo;
  readonly secrets: SubscriberSecrets;
  /** The SEQ of this vector: SEQ_HE after the increment. */
  readonly seq: number;
}

export interface PendingAuthentication {
  readonly authCtxId: string;
  readonly imsi: string;
  readonly servingNetworkName: string;
  readonly xresStar: Buffer;
  readonly expiresAt: number;
}

export interface HnKeyInfo {
  readonly profile: HnKeyProfile;
  readonly hnKeyId: number;
  readonly publicKey: Buffer;
}

export type SubscribersTable = {
  imsi: string;
  iccid: string | null;
  operator_id: string;
  algorithm: AucAlgorithm;
  k_sealed: Buffer;
  opc_sealed: Buffer;
  mac_length: number | null;
  res_length: number | null;
  ck_length: number | null;
  ik_length: number | null;
  keccak_iterations: number | null;
  amf: string;
  seq_he: number | string;
  ind_bits: number;
  state: SubscriberState;
  data_only: number;
  volume_cap: number | string | null;
  created_at: number | string;
  updated_at: number | string;
};

export type DataKeysTable = {
  operator_id: string;
  wrapped_key: Buffer;
  created_at: number | string;
};

export type PendingAuthenticationsTable = {
  auth_ctx_id: string;
  imsi: string;
  serving_network_name: string;
  xres_star_sealed: Buffer;
  created_at: number | string;
  expires_at: number | string;
};

export type HnKeysTable = {
  profile: HnKeyProfile;
  hn_key_id: number;
  private_key_sealed: Buffer;
  public_key: Buffer;
  created_at: number | string;
};

export type AucTables = {
  auc_subscribers: SubscribersTable;
  auc_data_keys: DataKeysTable;
  auc_pending_authentications: PendingAuthenticationsTable;
  auc_hn_keys: HnKeysTable;
};

type AucDb = Kysely<McimTables & AucTables>;

export const IMSI_PATTERN = /^\d{6,15}$/;
export const OPERATOR_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const MAX_LIST = 1000;
/** The highest IND length: SEQ keeps at least 32 bits. */
export const MAX_IND_BITS = 16;

function invalid(message: string): never {
  throw new McimError('INVALID_ARGUMENT', message);
}

/** The checks every stored subscriber passes, whoever wrote it (the import parser checks its input before). */
function checkSubscriber(s: NewSubscriber): void {
  if (!IMSI_PATTERN.test(s.imsi)) invalid(`IMSI must be 6 to 15 digits, got "${s.imsi}"`);
  if (s.iccid !== undefined && !/^\d{18,20}F?$/.test(s.iccid)) invalid(`ICCID must be 18 to 20 digits, got "${s.iccid}"`);
  if (!OPERATOR_ID_PATTERN.test(s.operatorId)) invalid(`operator id must be 1 to 64 letters, digits, '.', '_' or '-'`);
  const { algorithm, k, opc, tuak } = s.secrets;
  if (algorithm === 'milenage') {
    if (k.length !== 16 || opc.length !== 16 || tuak !== undefined) invalid(`subscriber ${s.imsi}: Milenage needs a 16-byte K and OPc`);
  } else if (algorithm === 'tuak') {
    if ((k.length !== 16 && k.length !== 32) || opc.length !== 32 || tuak === undefined) invalid(`subscriber ${s.imsi}: TUAK needs a 16- or 32-byte K, a 32-byte TOPc and its parameters`);
  } else {
    invalid(`subscriber ${s.imsi}: unknown algorithm`);
  }
  if (s.amf.length !== 2) invalid(`subscriber ${s.imsi}: AMF must be 2 bytes`);
  const indBits = s.indBits ?? 5;
  if (!Number.isSafeInteger(indBits) || indBits < 0 || indBits > MAX_IND_BITS) invalid(`subscriber ${s.imsi}: IND length must be 0..${MAX_IND_BITS} bits`);
  if (!Number.isSafeInteger(s.seqHe) || s.seqHe < 0 || s.seqHe >= 2 ** (48 - indBits)) invalid(`subscriber ${s.imsi}: SEQ_HE out of range`);
  checkRestrictions(s.restrictions ?? { dataOnly: false, volumeCapBytes: undefined });
}

function checkRestrictions(r: ServiceRestrictions): void {
  if (typeof r.dataOnly !== 'boolean') invalid('dataOnly must be true or false');
  if (r.volumeCapBytes !== undefined && (!Number.isSafeInteger(r.volumeCapBytes) || r.volumeCapBytes < 0)) invalid('the volume cap must be a whole number of bytes');
}

function info(r: Selectable<SubscribersTable>): SubscriberInfo {
  return {
    imsi: r.imsi,
    iccid: r.iccid ?? undefined,
    operatorId: r.operator_id,
    algorithm: r.algorithm,
    amf: r.amf,
    seqHe: Number(r.seq_he),
    indBits: Number(r.ind_bits),
    state: r.state,
    restrictions: { dataOnly: Number(r.data_only) === 1, volumeCapBytes: r.volume_cap === null ? undefined : Number(r.volume_cap) },
    tuak:
      r.algorithm === 'tuak'
        ? {
            macLength: Number(r.mac_length) as TuakParameters['macLength'],
            resLength: Number(r.res_length) as TuakParameters['resLength'],
            ckLength: Number(r.ck_length) as TuakParameters['ckLength'],
            ikLength: Number(r.ik_length) as TuakParameters['ikLength'],
            keccakIterations: Number(r.keccak_iterations),
          }
        : undefined,
    createdAt: timeOf(r.created_at),
    updatedAt: timeOf(r.updated_at),
  };
}

/** Columns of a subscriber row that are not secret. */
const INFO_COLUMNS = [
  'imsi',
  'iccid',
  'operator_id',
  'algorithm',
  'mac_length',
  'res_length',
  'ck_length',
  'ik_length',
  'keccak_iterations',
  'amf',
  'seq_he',
  'ind_bits',
  'state',
  'data_only',
  'volume_cap',
  'created_at',
  'updated_at',
] as const;

/**
 * The AuC tables. K and OPc/TOPc are sealed (AES-256-GCM, associated data naming the IMSI and the field) under their
 * operator's data key, a random AES-256 key itself sealed under the KEK in auc_data_keys; unwrapped data keys are kept
 * in memory. The home network's SUCI private keys and the XRES* of pending authentications are sealed under the KEK.
 */
export class AucStore {
  readonly #db: AucDb;
  readonly #kek: SecretBox;
  readonly #dataKeys: OperatorDataKeys;

  constructor(db: Database, kek: SecretBox) {
    this.#db = db.withTables<AucTables>();
    this.#kek = kek;
    this.#dataKeys = new OperatorDataKeys(kek, { table: 'auc_data_keys', operatorColumn: 'operator_id', aadPrefix: 'auc-data-key:' });
  }

  /** The operator's data key: unwrapped from auc_data_keys, or created there (in `db`, a transaction or not). */
  async #dataKey(db: AucDb, operatorId: string, now: number): Promise<SecretBox> {
    return (await this.#dataKeys.get(db as unknown as Kysely<unknown>, operatorId, now, true))!;
  }

  /** Adds subscribers in one transaction: on any error (an IMSI already there, twice in the list) nothing is written. */
  async addSubscribers(list: readonly NewSubscriber[], now = Date.now()): Promise<void> {
    const seen = new Set<string>();
    for (const s of list) {
      checkSubscriber(s);
      if (seen.has(s.imsi)) throw new McimError('SUBSCRIBER_EXISTS', `subscriber ${s.imsi} is given twice`);
      seen.add(s.imsi);
    }
    const created = new Map<string, SecretBox>();
    await this.#db
      .transaction()
      .execute(async (trx) => {
      const imsis = [...seen];
      for (let i = 0; i < imsis.length; i += 500) {
        const found = await trx.selectFrom('auc_subscribers').select('imsi').where('imsi', 'in', imsis.slice(i, i + 500)).executeTakeFirst();
        if (found !== undefined) throw new McimError('SUBSCRIBER_EXISTS', `subscriber ${found.imsi} already exists`);
      }
      const rows = [];
      for (const s of list) {
        let box = created.get(s.operatorId);
        if (box === undefined) {
          box = await this.#dataKey(trx, s.operatorId, now);
          created.set(s.operatorId, box);
        }
        const r = s.restrictions ?? { dataOnly: false, volumeCapBytes: undefined };
        const t = s.secrets.tuak;
        rows.push({
          imsi: s.imsi,
          iccid: s.iccid ?? null,
          operator_id: s.operatorId,
          algorithm: s.secrets.algorithm,
          k_sealed: box.seal(s.secrets.k, `auc:k:${s.imsi}`),
          opc_sealed: box.seal(s.secrets.opc, `auc:opc:${s.imsi}`),
          mac_length: t?.macLength ?? null,
          res_length: t?.resLength ?? null,
          ck_length: t?.ckLength ?? null,
          ik_length: t?.ikLength ?? null,
          keccak_iterations: t?.keccakIterations ?? null,
          amf: s.amf.toString('hex'),
          seq_he: s.seqHe,
          ind_bits: s.indBits ?? 5,
          state: s.state ?? 'active',
          data_only: r.dataOnly ? 1 : 0,
          volume_cap: r.volumeCapBytes ?? null,
          created_at: now,
          updated_at: now,
        });
      }
      for (let i = 0; i < rows.length; i += 200) await trx.insertInto('auc_subscribers').values(rows.slice(i, i + 200)).execute();
      })
      .catch((e: unknown) => {
        // Another process added one of the IMSIs after the check above: its primary key refuses ours.
        const code = (e as { code?: unknown }).code;
        if (code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new McimError('SUBSCRIBER_EXISTS', 'a subscriber of the list was added meanwhile', { cause: e });
        throw e;
      });
  }

  async getSubscriber(imsi: string): Promise<SubscriberInfo> {
    const row = await this.#db.selectFrom('auc_subscribers').select(INFO_COLUMNS).where('imsi', '=', imsi).executeTakeFirst();
    if (row === undefined) throw new McimError('SUBSCRIBER_NOT_FOUND', `no subscriber ${imsi}`);
    return info(row as Selectable<SubscribersTable>);
  }

  /** Subscribers in IMSI order after `after`, at most `limit` (1..MAX_LIST). */
  async listSubscribers(options: { after?: string; limit?: number } = {}): Promise<SubscriberInfo[]> {
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST) invalid(`limit must be 1..${MAX_LIST}`);
    const rows = await this.#db
      .selectFrom('auc_subscribers')
      .select(INFO_COLUMNS)
      .$if(options.after !== undefined, (q) => q.where('imsi', '>', options.after!))
      .orderBy('imsi')
      .limit(limit)
      .execute();
    return rows.map((r) => info(r as Selectable<SubscribersTable>));
  }

  async setState(imsi: string, state: SubscriberState, now = Date.now()): Promise<SubscriberInfo> {
    if (state !== 'active' && state !== 'suspended') invalid(`unknown subscriber state "${String(state)}"`);
    await this.#update(imsi, { state, updated_at: now });
    return this.getSubscriber(imsi);
  }

  async setRestrictions(imsi: string, restrictions: ServiceRestrictions, now = Date.now()): Promise<SubscriberInfo> {
    checkRestrictions(restrictions);
    await this.#update(imsi, { data_only: restrictions.dataOnly ? 1 : 0, volume_cap: restrictions.volumeCapBytes ?? null, updated_at: now });
    return this.getSubscriber(imsi);
  }

  async #update(imsi: string, values: Partial<SubscribersTable>): Promise<void> {
    const r = await this.#db.updateTable('auc_subscribers').set(values).where('imsi', '=', imsi).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new McimError('SUBSCRIBER_NOT_FOUND', `no subscriber ${imsi}`);
  }

  /** Deletes the subscriber and its pending authentications. */
  async deleteSubscriber(imsi: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const r = await trx.deleteFrom('auc_subscribers').where('imsi', '=', imsi).executeTakeFirst();
      if (Number(r.numDeletedRows) !== 1) throw new McimError('SUBSCRIBER_NOT_FOUND', `no subscriber ${imsi}`);
      await trx.deleteFrom('auc_pending_authentications').where('imsi', '=', imsi).execute();
    });
  }

  async #secrets(row: Selectable<SubscribersTable>, now: number): Promise<SubscriberSecrets> {
    const box = await this.#dataKey(this.#db, row.operator_id, now);
    const subscriber = info(row);
    return {
      algorithm: row.algorithm,
      k: box.open(row.k_sealed, `auc:k:${row.imsi}`),
      opc: box.open(row.opc_sealed, `auc:opc:${row.imsi}`),
      tuak: subscriber.tuak,
    };
  }

  async #refusal(imsi: string): Promise<never> {
    const row = await this.#db.selectFrom('auc_subscribers').select('state').where('imsi', '=', imsi).executeTakeFirst();
    if (row === undefined) throw new McimError('SUBSCRIBER_NOT_FOUND', `no subscriber ${imsi}`);
    throw new McimError('SUBSCRIBER_SUSPENDED', `subscriber ${imsi} is suspended`);
  }

  /**
   * Allocates the next SEQ of an active subscriber: SEQ_HE := SEQ_HE + 1 in one UPDATE ... RETURNING, so concurrent
   * AuC processes on one database never get the same SEQ. A suspended subscriber is refused (SUBSCRIBER_SUSPENDED).
   */
  async nextVectorMaterial(imsi: string, now = Date.now()): Promise<VectorMaterial> {
    const row = await this.#db
      .updateTable('auc_subscribers')
      .set((eb) => ({ seq_he: eb('seq_he', '+', 1) }))
      .where('imsi', '=', imsi)
      .where('state', '=', 'active')
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) return this.#refusal(imsi);
    const subscriber = info(row);
    if (subscriber.seqHe >= 2 ** (48 - subscriber.indBits)) invalid(`subscriber ${imsi}: SEQ space exhausted`);
    return { subscriber, secrets: await this.#secrets(row, now), seq: subscriber.seqHe };
  }

  /** An active subscriber's secrets without allocating a SEQ (to verify AUTS). */
  async activeSubscriberSecrets(imsi: string, now = Date.now()): Promise<{ subscriber: SubscriberInfo; secrets: SubscriberSecrets }> {
    const row = await this.#db.selectFrom('auc_subscribers').selectAll().where('imsi', '=', imsi).where('state', '=', 'active').executeTakeFirst();
    if (row === undefined) return this.#refusal(imsi);
    return { subscriber: info(row), secrets: await this.#secrets(row, now) };
  }

  /** SEQ_HE := seq when it is lower (TS 33.102 6.3.5 after a synchronisation failure); it never goes back. */
  async raiseSeqHe(imsi: string, seq: number, now = Date.now()): Promise<void> {
    await this.#db.updateTable('auc_subscribers').set({ seq_he: seq, updated_at: now }).where('imsi', '=', imsi).where('seq_he', '<', seq).execute();
  }

  /**
   * Records a 5G AKA authentication waiting for RES*; drops the subscriber's expired ones and keeps at most
   * `maxPerSubscriber` (the newest).
   */
  async addPendingAuthentication(p: PendingAuthentication, maxPerSubscriber: number, now = Date.now()): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('auc_pending_authentications').where('expires_at', '<=', now).execute();
      await trx
        .insertInto('auc_pending_authentications')
        .values({
          auth_ctx_id: p.authCtxId,
          imsi: p.imsi,
          serving_network_name: p.servingNetworkName,
          xres_star_sealed: this.#kek.seal(p.xresStar, `auc-xres-star:${p.authCtxId}`),
          created_at: now,
          expires_at: p.expiresAt,
        })
        .execute();
      const keep = await trx
        .selectFrom('auc_pending_authentications')
        .select('auth_ctx_id')
        .where('imsi', '=', p.imsi)
        .orderBy('created_at', 'desc')
        .orderBy('auth_ctx_id')
        .limit(maxPerSubscriber)
        .execute();
      await trx
        .deleteFrom('auc_pending_authentications')
        .where('imsi', '=', p.imsi)
        .where(
          'auth_ctx_id',
          'not in',
          keep.map((k) => k.auth_ctx_id),
        )
        .execute();
    });
  }

  /** Takes (deletes and returns) a pending authentication: each one is confirmed at most once; expired ones are gone. */
  async takePendingAuthentication(authCtxId: string, now = Date.now()): Promise<PendingAuthentication | undefined> {
    const row = await this.#db.deleteFrom('auc_pending_authentications').where('auth_ctx_id', '=', authCtxId).returningAll().executeTakeFirst();
    if (row === undefined || timeOf(row.expires_at) <= now) return undefined;
    return {
      authCtxId: row.auth_ctx_id,
      imsi: row.imsi,
      servingNetworkName: row.serving_network_name,
      xresStar: this.#kek.open(row.xres_star_sealed, `auc-xres-star:${row.auth_ctx_id}`),
      expiresAt: timeOf(row.expires_at),
    };
  }

  /** How many authentications wait for RES* (expired ones included until purged). */
  async pendingCount(): Promise<number> {
    const r = await this.#db.selectFrom('auc_pending_authentications').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Stores (or replaces) a home network private key for SUCI de-concealment, sealed under the KEK. */
  async putHnKey(profile: HnKeyProfile, hnKeyId: number, privateKey: Buffer, publicKey: Buffer, now = Date.now()): Promise<void> {
    if (profile !== 'A' && profile !== 'B') invalid(`SUCI protection profile must be A or B, got "${String(profile)}"`);
    if (!Number.isSafeInteger(hnKeyId) || hnKeyId < 0 || hnKeyId > 255) invalid('the home network key id must be 0..255');
    const sealed = this.#kek.seal(privateKey, `auc-hn-key:${profile}:${hnKeyId}`);
    await this.#db
      .insertInto('auc_hn_keys')
      .values({ profile, hn_key_id: hnKeyId, private_key_sealed: sealed, public_key: publicKey, created_at: now })
      .onConflict((oc) => oc.columns(['profile', 'hn_key_id']).doUpdateSet({ private_key_sealed: sealed, public_key: publicKey, created_at: now }))
      .execute();
  }

  /** The home network private key of (profile, id): NOT_FOUND when none is configured. */
  async hnPrivateKey(profile: HnKeyProfile, hnKeyId: number): Promise<Buffer> {
    const row = await this.#db.selectFrom('auc_hn_keys').select('private_key_sealed').where('profile', '=', profile).where('hn_key_id', '=', hnKeyId).executeTakeFirst();
    if (row === undefined) throw new McimError('NOT_FOUND', `no home network key ${hnKeyId} for SUCI profile ${profile}`);
    return this.#kek.open(row.private_key_sealed, `auc-hn-key:${profile}:${hnKeyId}`);
  }

  async listHnKeys(): Promise<HnKeyInfo[]> {
    const rows = await this.#db.selectFrom('auc_hn_keys').select(['profile', 'hn_key_id', 'public_key']).orderBy('profile').orderBy('hn_key_id').execute();
    return rows.map((r) => ({ profile: r.profile, hnKeyId: Number(r.hn_key_id), publicKey: Buffer.from(r.public_key) }));
  }
}
