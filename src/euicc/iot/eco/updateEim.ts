// SGP.32 v1.2 3.5 (eIM configuration, eCO updateEim): changes an associated eIM's configuration data (keys, addresses, counter).
import { UpdateEimResult, type EimConfigurationData, type EuiccResultData } from '../../../asn1/definitions/sgp32.js';
import { eimSigningKey, MAX_COUNTER_VALUE } from '../eimConfiguration.js';
import type { PackageDraft } from '../packageDraft.js';

/**
 * The fields present replace the stored ones; eimId names the eIM and the association token stays. Refusals:
 * eimNotFound (1); commandError (7) for an associationToken (only the eUICC assigns one) or an unusable
 * eimPublicKeyData; ciPKUnknown (3) for a euiccCiPKId that is not the eUICC's signing CI; counterValueOutOfRange (6)
 * for a counterValue outside 0..MAX_COUNTER_VALUE, or lower than the stored counter without a new key (lowering the
 * counter under the same key would let old packages be replayed; with a new key none of them verifies).
 */
export function updateEim(d: PackageDraft, eco: EimConfigurationData): EuiccResultData {
  const result = (value: number): EuiccResultData => ({ type: 'updateEimResult', value });
  const stored = d.iot.eims.find((e) => e.eimId === eco.eimId);
  if (stored === undefined) return result(UpdateEimResult.eimNotFound);
  if (eco.associationToken !== undefined) return result(UpdateEimResult.commandError);
  if (eco.eimPublicKeyData !== undefined && eimSigningKey(eco) === undefined) return result(UpdateEimResult.commandError);
  if (eco.euiccCiPKId !== undefined && !d.core.ciKeyIdsForSigning.some((id) => id.equals(eco.euiccCiPKId!))) return result(UpdateEimResult.ciPKUnknown);
  if (eco.counterValue !== undefined) {
    const lowered = eco.counterValue < (stored.counterValue ?? 0) && eco.eimPublicKeyData === undefined;
    if (eco.counterValue < 0 || eco.counterValue > MAX_COUNTER_VALUE || lowered) return result(UpdateEimResult.counterValueOutOfRange);
  }
  const updated: EimConfigurationData = { ...stored, ...eco, associationToken: stored.associationToken! };
  d.iot = { ...d.iot, eims: d.iot.eims.map((e) => (e === stored ? updated : e)) };
  return result(UpdateEimResult.ok);
}
