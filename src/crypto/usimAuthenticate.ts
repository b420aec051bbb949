// TS 33.102 6.3.3: authentication and key agreement on the USIM (MAC-A check, SQN freshness, RES/CK/IK or AUTS).
import { timingSafeEqual } from 'node:crypto';
import { requireLength } from './errors.js';
import { generateAuts, parseAutn, type AkaAlgorithm } from './authenticationVector.js';
import type { SqnFreshnessState, SqnRejectReason } from './sqnFreshness.js';

export type UsimAuthResult =
  | { status: 'success'; res: Buffer; ck: Buffer; ik: Buffer; sqn: Buffer; amf: Buffer }
  /** XMAC differs from MAC-A: the UE answers "MAC failure" */
  | { status: 'mac_failure' }
  /** SQN not in the correct range: the UE answers "synchronisation failure" with AUTS */
  | { status: 'sync_failure'; reason: SqnRejectReason; sqnMs: Buffer; auts: Buffer };

/**
 * Runs the USIM side of AKA for (RAND, AUTN): recovers SQN = (SQN xor AK) xor AK, checks MAC-A, then
 * checks SQN against `sqnState` (which records it when accepted).
 */
export function usimAuthenticate(
  alg: AkaAlgorithm,
  sqnState: SqnFreshnessState,
  rand: Uint8Array,
  autn: Uint8Array,
): UsimAuthResult {
  requireLength('RAND', rand, 16);
  const { sqnXorAk, amf, macA } = parseAutn(autn, alg.macLength);
  const { res, ck, ik, ak } = alg.f2345(rand);
  const sqn = Buffer.allocUnsafe(6);
  for (let i = 0; i < 6; i++) sqn[i] = sqnXorAk[i]! ^ ak[i]!;
  const xmac = alg.f1(rand, sqn, amf);
  if (!timingSafeEqual(xmac, macA)) return { status: 'mac_failure' };
  const check = sqnState.verify(sqn);
  if (!check.accepted) {
    return {
      status: 'sync_failure',
      reason: check.reason,
      sqnMs: check.sqnMs,
      auts: generateAuts(alg, rand, check.sqnMs),
    };
  }
  return { status: 'success', res, ck, ik, sqn, amf: Buffer.from(amf) };
}
