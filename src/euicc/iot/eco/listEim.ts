// SGP.32 v1.2 3.5 (eIM configuration, eCO listEim): the associated eIMs' identifiers.
import type { EuiccResultData } from '../../../asn1/definitions/sgp32.js';
import type { PackageDraft } from '../packageDraft.js';

export function listEim(d: PackageDraft): EuiccResultData {
  const list = d.iot.eims.map((e) => ({ eimId: e.eimId, ...(e.eimIdType !== undefined ? { eimIdType: e.eimIdType } : {}) }));
  return { type: 'listEimResult', value: { type: 'eimIdList', value: list } };
}
