// SGP.32 v1.2 3.5 (eIM configuration, eCO deleteEim): removes an eIM's configuration data, possibly the sender's own.
import { DeleteEimResult, type DeleteEim, type EuiccResultData } from '../../../asn1/definitions/sgp32.js';
import type { PackageDraft } from '../packageDraft.js';

/**
 * eimNotFound (1) for an eimId not associated. Deleting the last eIM is done and answered lastEimDeleted (2): the
 * eUICC then has no eIM Configuration Data and accepts AddInitialEim again, which is how an eIM releases a device.
 * The result is still signed for the sender (with the association token it had when the package arrived).
 */
export function deleteEim(d: PackageDraft, eco: DeleteEim): EuiccResultData {
  const result = (value: number): EuiccResultData => ({ type: 'deleteEimResult', value });
  if (!d.iot.eims.some((e) => e.eimId === eco.eimId)) return result(DeleteEimResult.eimNotFound);
  const eims = d.iot.eims.filter((e) => e.eimId !== eco.eimId);
  d.iot = { ...d.iot, eims };
  return result(eims.length === 0 ? DeleteEimResult.lastEimDeleted : DeleteEimResult.ok);
}
