// SGP.32 v1.2 2.11.1.1.3 (PSMO configureImmediateEnable): the Immediate Enable configuration (flag, default SM-DP+ OID and address).
import { ConfigureImmediateEnableResult, type ConfigureImmediateEnable, type EuiccResultData } from '../../../asn1/definitions/sgp32.js';
import type { PackageDraft } from '../packageDraft.js';

/** Replaces the whole configuration: a field left out of the PSMO is cleared. */
export function configureImmediateEnable(d: PackageDraft, psmo: ConfigureImmediateEnable): EuiccResultData {
  d.iot = { ...d.iot, immediateEnable: { ...psmo } };
  return { type: 'configureImmediateEnableResult', value: ConfigureImmediateEnableResult.ok };
}
