// SGP.32 v1.2 3.4.7 Unset Fallback Attribute (PSMO unsetFallbackAttribute): leaves the eUICC without a Fallback Profile.
import { UnsetFallbackAttributeResult, type EuiccResultData } from '../../../asn1/definitions/sgp32.js';
import { findByIccid, withFallback, type PackageDraft } from '../packageDraft.js';

/** noFallbackAttribute (2) when no profile has it; fallbackProfileEnabled (3) while the Fallback Profile is enabled. */
export function unsetFallbackAttribute(d: PackageDraft): EuiccResultData {
  const result = (value: number): EuiccResultData => ({ type: 'unsetFallbackAttributeResult', value });
  const current = d.iot.fallbackIccid;
  if (current === undefined) return result(UnsetFallbackAttributeResult.noFallbackAttribute);
  if (findByIccid(d, current)?.state === 'enabled') return result(UnsetFallbackAttributeResult.fallbackProfileEnabled);
  d.iot = withFallback(d.iot, undefined);
  return result(UnsetFallbackAttributeResult.ok);
}
