// SGP.32 v1.2 3.5 (eIM configuration, eCO addEim): associates one more eIM.
import { MAX_EIMS, type EimConfigurationData, type EuiccResultData } from '../../../asn1/definitions/sgp32.js';
import { associateEim } from '../eimConfiguration.js';
import type { PackageDraft } from '../packageDraft.js';

/** The new eIM's association token, or AddEimResultCode's refusal (eimConfiguration.ts associateEim). */
export function addEim(d: PackageDraft, eco: EimConfigurationData): EuiccResultData {
  const check = associateEim(d.core, d.iot, eco, MAX_EIMS);
  if (!check.ok) return { type: 'addEimResult', value: { type: 'addEimResultCode', value: check.code } };
  d.iot = check.iot;
  return { type: 'addEimResult', value: { type: 'associationToken', value: check.config.associationToken! } };
}
