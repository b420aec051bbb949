// SGP.32 v1.2 3.4.6 Fallback Mechanism, the IPAd's side: when the eIM cannot be reached over the enabled profile for a configured time the IPAd runs ES10b.ExecuteFallbackMechanism and tells the eIM (GetEimPackage notifyStateChange, stateChangeCause fallback); ES10b.ReturnFromFallback once the profile it fell back from has connectivity again.
import { ExecuteFallbackMechanismResult, ReturnFromFallbackResult, StateChangeCause } from '../asn1/definitions/sgp32.js';
import { executeFallbackMechanism } from './es10b/executeFallbackMechanism.js';
import { returnFromFallback } from './es10b/returnFromFallback.js';
import type { Es10Client } from './es10Client.js';
import { IpaError } from './errors.js';
import { listProfiles } from './localProfileManagement.js';

/** The most a device waits for the enabled profile's connectivity before it falls back: one hour. */
export const MAX_FALLBACK_AFTER_MS = 3_600_000;

/**
 * What the IPAd remembers between its cycles (one object kept by the caller, e.g. a long-running `mcim device run
 * --listen`): the profile it fell back from, to return to once that profile reaches the eIM again.
 */
export interface FallbackMemory {
  from?: string;
}

export interface FallbackOptions {
  /** Enables the Fallback Mechanism: how long the eIM may be unreachable over the enabled profile (0 to MAX_FALLBACK_AFTER_MS). */
  readonly fallbackAfterMs?: number;
  /** Kept across cycles: with it, the IPAd returns by itself when the profile it fell back from is reachable again. */
  readonly fallbackMemory?: FallbackMemory;
  /** Run ReturnFromFallback at the start of this cycle whatever the memory says (a one-shot IPAd told connectivity is back). */
  readonly returnFromFallback?: boolean;
  /** Simulated connectivity: whether the eIM can be reached over the profile with this ICCID (default: always). */
  readonly reachable?: (iccid: string) => boolean | Promise<boolean>;
}

/** What the cycle's connectivity check did. */
export interface FallbackReport {
  /** ReturnFromFallback's result name when it ran (ok: back on `to`). */
  readonly returned?: { readonly result: string; readonly to?: string };
  /** ExecuteFallbackMechanism's result name when it ran, the profile it left and the one now enabled. */
  readonly executed?: { readonly result: string; readonly from?: string; readonly to?: string };
}

export interface Connectivity {
  readonly report: FallbackReport;
  /** Set when the profiles changed: the first GetEimPackage carries notifyStateChange with this cause. */
  readonly stateChange?: number;
}

async function enabledIccid(es10: Es10Client): Promise<string | undefined> {
  return (await listProfiles(es10)).find((p) => p.state === 'enabled')?.iccid;
}

/**
 * Before the cycle contacts the eIM (nothing happens without fallbackAfterMs):
 * 1. return: with returnFromFallback, or when the remembered profile is reachable again, ES10b.ReturnFromFallback;
 *    commandError means the Fallback Mechanism is no longer in effect (the eIM enabled another profile): forgotten;
 * 2. the enabled profile's connectivity is retried until fallbackAfterMs pass; then ES10b.ExecuteFallbackMechanism.
 *    With ok the Fallback Profile is enabled, the profile left is remembered, and the eIM is told with stateChangeCause
 *    fallback (1). Any other result (no Fallback Profile, it is already enabled...) ends the cycle with
 *    TRANSPORT_ERROR: the eIM cannot be reached.
 * A change of profile (either way) is notified to the eIM with stateChangeCause fallback: SGP.32 defines no other
 * cause for changes the IPA made through the Fallback Mechanism.
 */
export async function ensureConnectivity(es10: Es10Client, o: FallbackOptions, progress: (step: string, detail: string) => void): Promise<Connectivity> {
  const waitMs = o.fallbackAfterMs;
  if (waitMs === undefined) return { report: {} };
  if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_FALLBACK_AFTER_MS) throw new IpaError('INVALID_ARGUMENT', `fallbackAfterMs is 0 to ${MAX_FALLBACK_AFTER_MS}`);
  const reachable = o.reachable ?? (() => true);
  const memory = o.fallbackMemory;
  let report: FallbackReport = {};
  let changed = false;
  if (o.returnFromFallback === true || (memory?.from !== undefined && (await reachable(memory.from)) === true)) {
    const back = await returnFromFallback(es10);
    const to = back.result === ReturnFromFallbackResult.ok ? await enabledIccid(es10) : undefined;
    progress('fallback', `ReturnFromFallback: ${back.resultName}${to === undefined ? '' : `, ${to} enabled`}`);
    report = { returned: { result: back.resultName, ...(to === undefined ? {} : { to }) } };
    if (back.result === ReturnFromFallbackResult.ok) changed = true;
    if (memory !== undefined && back.result !== ReturnFromFallbackResult.catBusy) delete memory.from;
  }
  const iccid = await enabledIccid(es10);
  const retryMs = Math.min(1000, Math.max(10, Math.floor(waitMs / 10)));
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (iccid === undefined || (await reachable(iccid)) === true) return { report, ...(changed ? { stateChange: StateChangeCause.fallback } : {}) };
    const left = deadline - Date.now();
    if (left <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs, left)));
  }
  progress('fallback', `no contact with the eIM over ${iccid} within ${waitMs} ms: ExecuteFallbackMechanism`);
  const fallback = await executeFallbackMechanism(es10);
  if (fallback.result !== ExecuteFallbackMechanismResult.ok) {
    throw new IpaError('TRANSPORT_ERROR', `the eIM cannot be reached over ${iccid} and ExecuteFallbackMechanism answered ${fallback.resultName}`);
  }
  const to = await enabledIccid(es10);
  if (memory !== undefined) memory.from = iccid;
  progress('fallback', `the Fallback Profile ${to ?? '?'} is enabled`);
  return { report: { ...report, executed: { result: fallback.resultName, from: iccid, ...(to === undefined ? {} : { to }) } }, stateChange: StateChangeCause.fallback };
}
