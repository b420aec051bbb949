// ES2+ operators as tenants of the SM-DP+ (SGP.22 5.3, 2.6.x): each known by its TLS client certificates (pinned by SHA-256), its functionRequesterIdentifier and its callback endpoint.
import type { Kysely } from 'kysely';
import { McimError } from '../errors.js';
import { timeOf, type Database, type McimTables } from './database.js';

interface OperatorsTable {
  operator: string;
  function_requester_identifier: string;
  /** The operator's ES2+ endpoint for HandleDownloadProgressInfo (https URL); null: no callbacks. */
  callback_url: string | null;
  /** PEM trust anchors for the callback endpoint's TLS certificate; null: the system's. */
  callback_ca: string | null;
  /** The notification points the operator asked for, comma-separated ids; null: every point. */
  notification_points: string | null;
  created_at: number | string;
}

interface OperatorCertificatesTable {
  /** SHA-256 of the client certificate's DER, lower-case hex. */
  fingerprint: string;
  operator: string;
  subject: string;
  not_before: number | string;
  not_after: number | string;
  created_at: number | string;
}

type TenantTables = {
  es2_operators: OperatorsTable;
  es2_operator_certificates: OperatorCertificatesTable;
};

export interface Tenant {
  readonly operator: string;
  readonly functionRequesterIdentifier: string;
  readonly callbackUrl: string | undefined;
  readonly callbackCa: string | undefined;
  /** The HandleDownloadProgressInfo points it is called back at; undefined: every point. */
  readonly notificationPoints: readonly number[] | undefined;
}

export interface TenantCertificate {
  readonly fingerprint: string;
  readonly subject: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

export interface NewTenant {
  readonly operator: string;
  readonly functionRequesterIdentifier: string;
  readonly callbackUrl?: string;
  readonly callbackCa?: string;
  readonly notificationPoints?: readonly number[];
}

/** Operator names: those of the profile stock (letters, digits, '.', '_', '-'), at most 64 characters. */
const OPERATOR_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const FINGERPRINT = /^[0-9a-f]{64}$/;
/** Tenants are few; a lookup cache of fingerprints stays far below this. */
const MAX_CACHED_FINGERPRINTS = 4096;
/** How long a fingerprint lookup is trusted before the table is read again (a removed certificate stops working within it). */
const CACHE_TTL_MS = 5_000;

/** The registry of ES2+ operators and their client certificates. */
export class OperatorTenants {
  readonly #db: Kysely<McimTables & TenantTables>;
  readonly #cache = new Map<string, { tenant: Tenant | undefined; notBefore: number; notAfter: number; until: number }>();

  constructor(db: Database) {
    this.#db = db.withTables<TenantTables>();
  }

  async add(t: NewTenant, now: number): Promise<void> {
    if (!OPERATOR_NAME.test(t.operator)) throw new McimError('INVALID_ARGUMENT', `'${t.operator}' is not an operator name (letters, digits, '.', '_', '-', at most 64)`);
    if (t.functionRequesterIdentifier.length === 0 || t.functionRequesterIdentifier.length > 256) {
      throw new McimError('INVALID_ARGUMENT', 'the functionRequesterIdentifier is 1 to 256 characters');
    }
    if (t.callbackUrl !== undefined) checkCallbackUrl(t.callbackUrl);
    if (t.notificationPoints !== undefined && (t.notificationPoints.length === 0 || !t.notificationPoints.every((p) => Number.isInteger(p) && p >= 1 && p <= 999))) {
      throw new McimError('INVALID_ARGUMENT', 'notification points are whole numbers from 1 to 999, at least one');
    }
    const r = await this.#db
      .insertInto('es2_operators')
      .values({
        operator: t.operator,
        function_requester_identifier: t.functionRequesterIdentifier,
        callback_url: t.callbackUrl ?? null,
        callback_ca: t.callbackCa ?? null,
        notification_points: t.notificationPoints === undefined ? null : [...new Set(t.notificationPoints)].sort((a, b) => a - b).join(','),
        created_at: now,
      })
      .onConflict((oc) => oc.column('operator').doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1) throw new McimError('TENANT_EXISTS', `an operator named '${t.operator}' already exists`);
  }

  /** Pins a client certificate (its SHA-256) to the operator; a certificate pinned to another operator is refused. */
  async addCertificate(operator: string, cert: TenantCertificate, now: number): Promise<void> {
    if (!FINGERPRINT.test(cert.fingerprint)) throw new McimError('INVALID_ARGUMENT', 'a certificate fingerprint is 64 lower-case hex digits');
    await this.#db.transaction().execute(async (trx) => {
      const known = await trx.selectFrom('es2_operators').select('operator').where('operator', '=', operator).executeTakeFirst();
      if (known === undefined) throw new McimError('TENANT_NOT_FOUND', `no operator named '${operator}'`);
      const r = await trx
        .insertInto('es2_operator_certificates')
        .values({ fingerprint: cert.fingerprint, operator, subject: cert.subject, not_before: cert.notBefore, not_after: cert.notAfter, created_at: now })
        .onConflict((oc) => oc.column('fingerprint').doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1) throw new McimError('TENANT_EXISTS', 'this certificate is already pinned to an operator');
    });
    this.#cache.delete(cert.fingerprint);
  }

  /** Unpins a certificate: the operator can no longer call with it (within CACHE_TTL_MS in other processes). */
  async removeCertificate(fingerprint: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('es2_operator_certificates').where('fingerprint', '=', fingerprint).executeTakeFirst();
    this.#cache.delete(fingerprint);
    return Number(r.numDeletedRows) === 1;
  }

  async get(operator: string): Promise<Tenant | undefined> {
    const r = await this.#db.selectFrom('es2_operators').selectAll().where('operator', '=', operator).executeTakeFirst();
    return r === undefined ? undefined : tenantOf(r);
  }

  async list(): Promise<Array<Tenant & { certificates: TenantCertificate[] }>> {
    const operators = await this.#db.selectFrom('es2_operators').selectAll().orderBy('operator').execute();
    const certs = await this.#db.selectFrom('es2_operator_certificates').selectAll().orderBy('operator').orderBy('fingerprint').execute();
    return operators.map((o) => ({
      ...tenantOf(o),
      certificates: certs
        .filter((c) => c.operator === o.operator)
        .map((c) => ({ fingerprint: c.fingerprint, subject: c.subject, notBefore: timeOf(c.not_before), notAfter: timeOf(c.not_after) })),
    }));
  }

  /**
   * The operator a client certificate (by fingerprint) belongs to, if it is pinned and valid at `now`. Lookups are
   * cached briefly; the cache holds at most MAX_CACHED_FINGERPRINTS entries (only certificates that completed a TLS
   * handshake reach it).
   */
  async byCertificate(fingerprint: string, now: number): Promise<Tenant | undefined> {
    let hit = this.#cache.get(fingerprint);
    if (hit === undefined || hit.until < now) {
      const r = await this.#db
        .selectFrom('es2_operator_certificates')
        .innerJoin('es2_operators', 'es2_operators.operator', 'es2_operator_certificates.operator')
        .select([
          'es2_operators.operator',
          'es2_operators.function_requester_identifier',
          'es2_operators.callback_url',
          'es2_operators.callback_ca',
          'es2_operators.notification_points',
          'es2_operators.created_at',
          'es2_operator_certificates.not_before',
          'es2_operator_certificates.not_after',
        ])
        .where('es2_operator_certificates.fingerprint', '=', fingerprint)
        .executeTakeFirst();
      if (this.#cache.size >= MAX_CACHED_FINGERPRINTS) this.#cache.clear();
      hit = {
        tenant: r === undefined ? undefined : tenantOf(r),
        notBefore: r === undefined ? 0 : timeOf(r.not_before),
        notAfter: r === undefined ? 0 : timeOf(r.not_after),
        until: now + CACHE_TTL_MS,
      };
      this.#cache.set(fingerprint, hit);
    }
    if (hit.tenant === undefined || now < hit.notBefore || now > hit.notAfter) return undefined;
    return hit.tenant;
  }
}

function tenantOf(r: Omit<OperatorsTable, 'created_at'> & { created_at: number | string }): Tenant {
  return {
    operator: r.operator,
    functionRequesterIdentifier: r.function_requester_identifier,
    callbackUrl: r.callback_url ?? undefined,
    callbackCa: r.callback_ca ?? undefined,
    notificationPoints: r.notification_points === null ? undefined : r.notification_points.split(',').map(Number),
  };
}

/** A callback endpoint is an https URL (the ES2+ binding is HTTPS only), at most 2,048 characters. */
export function checkCallbackUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new McimError('INVALID_ARGUMENT', `'${url}' is not a URL`);
  }
  if (parsed.protocol !== 'https:' || url.length > 2048 || parsed.username !== '' || parsed.password !== '') {
    throw new McimError('INVALID_ARGUMENT', `the callback endpoint '${url}' is not an https URL without credentials`);
  }
}
