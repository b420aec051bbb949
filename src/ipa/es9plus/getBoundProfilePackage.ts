// SGP.22 5.6.2 ES9+.GetBoundProfilePackage: the eUICC's signed PrepareDownloadResponse to the SM-DP+; the Bound Profile Package back.
import type { Es9Response } from '../../http/es9plusFunctions.js';
import type { Es9PlusClient } from './es9plusClient.js';

export type GetBoundProfilePackageResult = Es9Response<'getBoundProfilePackage'>;

export function getBoundProfilePackage(client: Es9PlusClient, transactionId: Buffer, prepareDownloadResponse: Buffer): Promise<GetBoundProfilePackageResult> {
  return client.call('getBoundProfilePackage', { transactionId, prepareDownloadResponse });
}
