// What the ES2+ functions (SGP.22 5.3) work with: the tenants, the profile life cycle, the order limits, the clock; and how a caller is identified (SGP.22 6.1: by its TLS certificate).
import { createHash } from 'node:crypto';
import type { ClientInfo } from '../../http/server.js';
import { FunctionFailure } from '../../http/jsonBinding.js';
import { isValidEid } from '../../pki/eid.js';
import type { OperatorProfiles } from '../../store/operatorProfiles.js';
import type { OperatorTenants, Tenant } from '../../store/operatorTenants.js';
import { ES2_SUBJECT } from '../../http/es2plusFunctions.js';

/** The limits ConfirmOrder puts on every order it creates (SGP.22 3.1.3: download attempts; 8.8.5/4.10: expiry). */
export interface OrderLimits {
  /** An order not downloaded within this many milliseconds of its confirmation expires; undefined: never. */
  readonly validityMs?: number;
  /** Download attempts (authenticated sessions) allowed per order; undefined: unlimited. */
  readonly maxDownloadAttempts?: number;
}

export const DEFAULT_ORDER_LIMITS: Required<OrderLimits> = { validityMs: 90 * 24 * 3600 * 1000, maxDownloadAttempts: 10 };

export interface Es2plusContext {
  /** The SM-DP+ address (FQDN[:port]) returned in ConfirmOrder's smdpAddress. */
  readonly address: string;
  readonly tenants: OperatorTenants;
  readonly profiles: OperatorProfiles;
  readonly limits: OrderLimits;
  readonly now: () => number;
}

/**
 * The operator calling: the SHA-256 of its TLS client certificate must be pinned to a tenant (valid now), and its
 * header.functionRequesterIdentifier must be that tenant's. Otherwise 1.1 (function requester) / 1.1 (unknown).
 */
export async function identifyOperator(ctx: Es2plusContext, client: ClientInfo): Promise<Tenant> {
  const der = client.peerCertificate?.();
  if (der === undefined) throw new FunctionFailure(ES2_SUBJECT.requester, '1.1', 'no TLS client certificate: ES2+ requires mutual TLS');
  const tenant = await ctx.tenants.byCertificate(createHash('sha256').update(der).digest('hex'), ctx.now());
  if (tenant === undefined) throw new FunctionFailure(ES2_SUBJECT.requester, '1.1', 'the TLS client certificate is not pinned to any operator, or is outside its validity');
  if (client.header?.functionRequesterIdentifier !== tenant.functionRequesterIdentifier) {
    throw new FunctionFailure(ES2_SUBJECT.requester, '1.1', "header.functionRequesterIdentifier is not that of the TLS client certificate's operator");
  }
  return tenant;
}

/** ICCID (SGP.22 5.2.1): 19 or 20 digits, the 20th possibly the padding F; with and without the F the same profile. */
export function parseIccid(text: string): string {
  if (!/^\d{19}[\dF]?$/i.test(text)) throw new FunctionFailure(ES2_SUBJECT.iccid, '2.1', `'${text}' is not an ICCID (19 or 20 digits, the last possibly F)`);
  return text.replace(/[Ff]$/, '');
}

/** EID: 32 digits with valid check digits (8.1.1 / 2.1 otherwise). */
export function parseEid(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!isValidEid(text)) throw new FunctionFailure(ES2_SUBJECT.eid, '2.1', `'${text}' is not an EID (32 digits with valid check digits)`);
  return text;
}
