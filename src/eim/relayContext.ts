// SGP.32 v1.2 3.2.2 (indirect profile download) and 5.14.1-5.14.4 / 5.14.6: the eIM as the IPA's ES9+ client: its SM-DP+ allow-list, timeouts and session bounds, the ES9+ call made once per relayed request, and the map from ES9+ status codes (SGP.22 5.2.6) to the ESipa error integers.
import { FunctionFailure } from '../http/jsonBinding.js';
import { callEs9Plus, isSmdpAddress } from '../http/es9plusCaller.js';
import type { Es9FunctionName, Es9Request, Es9Response } from '../http/es9plusFunctions.js';
import type { JsonClientOptions } from '../http/jsonClient.js';
import type { EimRelayStore } from '../store/eimRelayStore.js';
import { McimError } from '../errors.js';
import { EimError } from './errors.js';

export interface RelayOptions {
  readonly store: EimRelayStore;
  /** TLS trust and routing towards SM-DP+ servers (ca, connect, timeoutMs: default 30 s per ES9+ call). */
  readonly es9?: Pick<JsonClientOptions, 'ca' | 'connect' | 'timeoutMs'>;
  /** SM-DP+ addresses (host[:port], compared case-insensitively) the eIM relays to and forwards notifications to; absent: any the IPA names. */
  readonly allowedSmdpAddresses?: readonly string[];
  /** How long a relayed session stays usable (default 10 minutes). */
  readonly sessionTtlMs?: number;
  /** Open relayed sessions per device (default 2), and sessions of devices not known yet (no eimTransactionId, default 64). */
  readonly maxOpenPerDevice?: number;
  readonly maxOpenUnattributed?: number;
}

export interface RelayContext {
  readonly store: EimRelayStore;
  readonly es9: Pick<JsonClientOptions, 'ca' | 'connect' | 'timeoutMs'>;
  readonly timeoutMs: number;
  readonly sessionTtlMs: number;
  readonly maxOpenPerDevice: number;
  readonly maxOpenUnattributed: number;
  /** Whether the eIM may call this SM-DP+ (a host[:port] in the allow-list, if there is one). */
  allows(address: string): boolean;
}

export const DEFAULT_RELAY_TIMEOUT_MS = 30_000;
export const DEFAULT_RELAY_TTL_MS = 10 * 60_000;

export function relayContext(o: RelayOptions): RelayContext {
  const allowed = o.allowedSmdpAddresses?.map((a) => {
    if (!isSmdpAddress(a)) throw new EimError('INVALID_ARGUMENT', `'${a}' is not an SM-DP+ address (host[:port])`);
    return a.toLowerCase();
  });
  const timeoutMs = o.es9?.timeoutMs ?? DEFAULT_RELAY_TIMEOUT_MS;
  return {
    store: o.store,
    es9: { ...o.es9, timeoutMs },
    timeoutMs,
    sessionTtlMs: o.sessionTtlMs ?? DEFAULT_RELAY_TTL_MS,
    maxOpenPerDevice: o.maxOpenPerDevice ?? 2,
    maxOpenUnattributed: o.maxOpenUnattributed ?? 64,
    allows: (address) => isSmdpAddress(address) && (allowed === undefined || allowed.includes(address.toLowerCase())),
  };
}

/** ES9+ subject/reason pairs (SGP.22 5.2.6) mapped to one ESipa error integer each; anything else is undefinedError (127). */
export type StatusMap = Readonly<Record<string, number>>;

export const UNDEFINED_ERROR = 127;

/**
 * One ES9+ call for a relayed request. A Failed/Expired status is an EimError RELAY_FAILED with the ESipa code `map`
 * gives its `subject/reason` (undefinedError when none); a transport failure or timeout, or an answer that is not the
 * function's, is RELAY_FAILED with undefinedError.
 */
export async function relayEs9<N extends Es9FunctionName>(relay: RelayContext, address: string, fn: N, request: Es9Request<N>, map: StatusMap): Promise<Es9Response<N>> {
  try {
    return await callEs9Plus(address, fn, request, relay.es9);
  } catch (e) {
    if (e instanceof FunctionFailure) {
      const code = map[`${e.subjectCode}/${e.reasonCode}`] ?? UNDEFINED_ERROR;
      throw new EimError('RELAY_FAILED', `${address} refused ${fn}: ${e.message}`, { esipaCode: code, cause: e });
    }
    if (e instanceof McimError) throw new EimError('RELAY_FAILED', `${fn} at ${address} failed: ${e.message}`, { esipaCode: UNDEFINED_ERROR, cause: e });
    throw e;
  }
}

/** Upper-case hex of a TransactionId, as the relay table keys it. */
export function txKey(id: Buffer): string {
  return id.toString('hex').toUpperCase();
}
