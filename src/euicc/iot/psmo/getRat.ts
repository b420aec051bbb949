// SGP.32 v1.2 2.11.1.1.3 (PSMO getRAT): the Rules Authorisation Table (SGP.22 2.9.2.1).
import { GetRatResponse } from '../../../asn1/definitions/rsp.js';
import type { EuiccResultData } from '../../../asn1/definitions/sgp32.js';
import { decode } from '../../../asn1/schema.js';
import type { PackageDraft } from '../packageDraft.js';

export function getRat(d: PackageDraft): EuiccResultData {
  return { type: 'getRATResult', value: decode(GetRatResponse, d.settings.rat).rat };
}
