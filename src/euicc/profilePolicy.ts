// SGP.22 v2.5 2.9 Profile Policy Management: PPR1/PPR2 and the Rules Authorisation Table (2.9.2.1, 2.9.2.2).
import { PprId, hasNamedBit, type BitString, type OperatorId, type ProfilePolicyAuthorisationRule } from '../asn1/definitions/rsp.js';

/** True when the profile's PPRs include `ppr` (PprId.ppr1 or ppr2). */
export function hasPpr(rules: BitString | undefined, ppr: number): boolean {
  return rules !== undefined && hasNamedBit(rules, ppr);
}

function operatorMatches(allowed: OperatorId, owner: OperatorId): boolean {
  if (!allowed.mccMnc.equals(owner.mccMnc)) return false;
  if (allowed.gid1 !== undefined && (owner.gid1 === undefined || !allowed.gid1.equals(owner.gid1))) return false;
  if (allowed.gid2 !== undefined && (owner.gid2 === undefined || !allowed.gid2.equals(owner.gid2))) return false;
  return true;
}

/**
 * SGP.22 2.9.2.2: a profile may carry PPR1 or PPR2 only when the RAT holds, for each of them, a rule naming that PPR
 * and an allowed operator matching the profile owner. pprUpdateControl needs no authorisation.
 */
export function pprsAllowedByRat(
  rules: BitString | undefined,
  owner: OperatorId | undefined,
  rat: readonly ProfilePolicyAuthorisationRule[],
): boolean {
  for (const ppr of [PprId.ppr1, PprId.ppr2]) {
    if (!hasPpr(rules, ppr)) continue;
    if (owner === undefined) return false;
    const authorised = rat.some((rule) => hasNamedBit(rule.pprIds, ppr) && rule.allowedOperators.some((op) => operatorMatches(op, owner)));
    if (!authorised) return false;
  }
  return true;
}
