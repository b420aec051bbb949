// SGP.22 5.6.2 ES9+.GetBoundProfilePackage: the eUICC's signed PrepareDownloadResponse to the SM-DP+; the Bound Profile Package back.
import { base64, base64Field, hex, hexField, type Es9PlusClient } from './es9plusClient.js';

export interface GetBoundProfilePackageResult {
  readonly transactionId: Buffer;
  readonly boundProfilePackage: Buffer;
}

export async function getBoundProfilePackage(client: Es9PlusClient, transactionId: Buffer, prepareDownloadResponse: Buffer): Promise<GetBoundProfilePackageResult> {
  const fn = 'getBoundProfilePackage';
  const r = await client.call(fn, { transactionId: hex(transactionId), prepareDownloadResponse: base64(prepareDownloadResponse) });
  return { transactionId: hexField(r, 'transactionId', fn), boundProfilePackage: base64Field(r, 'boundProfilePackage', fn) };
}
