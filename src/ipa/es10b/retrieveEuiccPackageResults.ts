// SGP.32 v1.2 5.9.9 ES10b.RetrieveNotificationsList with searchCriteria euiccPackageResults: the package results the eUICC keeps until the eIM acknowledges them.
import { EuiccPackageResult, RetrieveNotificationsListRequest, RetrieveNotificationsListResponse } from '../../asn1/definitions/sgp32.js';
import { decode } from '../../asn1/schema.js';
import { decodeTlv } from '../../asn1/tlv.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

export interface KeptPackageResult {
  /** The EuiccPackageResult exactly as the eUICC returned it. */
  readonly der: Buffer;
  readonly value: EuiccPackageResult;
}

/** Every package result the eUICC keeps (noResult (1): none). */
export async function retrieveEuiccPackageResults(client: Es10Client): Promise<KeptPackageResult[]> {
  const fn = 'RetrieveNotificationsList';
  const der = await client.command(encode(), fn);
  const response = decodeEs10Response(RetrieveNotificationsListResponse, der, fn);
  if (response.type === 'notificationsListResultError') {
    if (response.value === 1) return [];
    throw new Es10ResultError(fn, response.value, response.value === 127 ? 'undefinedError' : undefined);
  }
  if (response.type !== 'euiccPackageResultList') return [];
  // BF2B { A2 { BF51... } }: each result as received.
  return (decodeTlv(der).children?.[0]?.children ?? []).map((t) => ({ der: Buffer.from(t.raw), value: decode(EuiccPackageResult, t.raw) }));
}

function encode(): Buffer {
  return RetrieveNotificationsListRequest.encode({ searchCriteria: { type: 'euiccPackageResults', value: null } });
}
