// SGP.32 v1.2 5.9 ES10b.GetCerts: CERT.EUM.ECDSA and CERT.EUICC.ECDSA, for the CI the eIM names.
import { GetCertsError, GetCertsRequest, GetCertsResponse } from '../../asn1/definitions/sgp32.js';
import { decode, encode } from '../../asn1/schema.js';
import type { EuiccCore } from '../core.js';

/** A euiccCiPKId other than the CI of the eUICC's own chain (euiccCiPKIdListForSigning) is invalidCiPKId (1). */
export function getCerts(core: EuiccCore, command: Buffer): Buffer {
  const { euiccCiPKId } = decode(GetCertsRequest, command);
  if (euiccCiPKId !== undefined && !core.ciKeyIdsForSigning.some((id) => id.equals(euiccCiPKId))) {
    return encode(GetCertsResponse, { type: 'getCertsError', value: GetCertsError.invalidCiPKId });
  }
  return encode(GetCertsResponse, { type: 'certs', value: { eumCertificate: core.eumCertificate, euiccCertificate: core.euiccCertificate } });
}
