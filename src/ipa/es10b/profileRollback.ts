// SGP.32 v1.2 5.9 ES10b.ProfileRollback (procedure 3.4.1.1), the IPAd's side: asks the eUICC to return to the profile an enable with rollbackFlag disabled; answers cmdResult and the eUICC's signed package result for the eIM.
import { EuiccPackageResult, ProfileRollbackRequest, ProfileRollbackResponse, ProfileRollbackResult } from '../../asn1/definitions/sgp32.js';
import { decode } from '../../asn1/schema.js';
import { decodeTlv } from '../../asn1/tlv.js';
import { decodeEs10Response, resultName, type Es10Client } from '../es10Client.js';
import type { LoadedPackage } from './loadEuiccPackage.js';

export interface RollbackOutcome {
  /** ProfileRollbackResult: ok (0), rollbackNotAllowed (1), catBusy (5), commandError (7), undefinedError (127). */
  readonly cmdResult: number;
  readonly cmdResultName: string;
  /** With ok: the EuiccPackageResult (BF51) exactly as the eUICC returned it, for ProvideEimPackageResult. */
  readonly result?: LoadedPackage;
}

export async function profileRollback(client: Es10Client, refreshFlag = false): Promise<RollbackOutcome> {
  const fn = 'ProfileRollback';
  const der = await client.command(ProfileRollbackRequest.encode({ refreshFlag }), fn);
  const response = decodeEs10Response(ProfileRollbackResponse, der, fn);
  const cmdResultName = resultName(ProfileRollbackResult, response.cmdResult) ?? `result ${response.cmdResult}`;
  if (response.eUICCPackageResult === undefined) return { cmdResult: response.cmdResult, cmdResultName };
  // BF58 { 02 cmdResult, BF51 result }: the result relayed byte for byte.
  const raw = Buffer.from(decodeTlv(der).children![1]!.raw);
  return { cmdResult: response.cmdResult, cmdResultName, result: { der: raw, value: decode(EuiccPackageResult, raw) } };
}
