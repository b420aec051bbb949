// SGP.32 v1.2 3.4.6 Set Fallback Attribute (PSMO setFallbackAttribute): makes a profile the Fallback Profile.
import { SetFallbackAttributeResult, StoreMetadataRequest, type EuiccResultData, type IccidOnly } from '../../../asn1/definitions/sgp32.js';
import { decode } from '../../../asn1/schema.js';
import { findByIccid, withFallback, type PackageDraft } from '../packageDraft.js';

/**
 * iccidOrAidNotFound (1); ok at once when the profile already is the Fallback Profile; fallbackNotAllowed (2) unless
 * the Profile Owner allowed it (fallbackAllowed TRUE in the profile's metadata); fallbackProfileEnabled (3) when the
 * current Fallback Profile is enabled (it keeps the attribute while in use).
 */
export function setFallbackAttribute(d: PackageDraft, psmo: IccidOnly): EuiccResultData {
  const result = (value: number): EuiccResultData => ({ type: 'setFallbackAttributeResult', value });
  const target = findByIccid(d, psmo.iccid);
  if (target === undefined) return result(SetFallbackAttributeResult.iccidOrAidNotFound);
  const current = d.iot.fallbackIccid;
  if (current?.equals(target.iccid) === true) return result(SetFallbackAttributeResult.ok);
  if (decode(StoreMetadataRequest, target.metadata).fallbackAllowed !== true) return result(SetFallbackAttributeResult.fallbackNotAllowed);
  if (current !== undefined && findByIccid(d, current)?.state === 'enabled') return result(SetFallbackAttributeResult.fallbackProfileEnabled);
  d.iot = withFallback(d.iot, target.iccid);
  return result(SetFallbackAttributeResult.ok);
}
