// SGP.22 5.6.5 ES9+.CancelSession: relays the eUICC's signed CancelSessionResponse to the SM-DP+.
import type { Es9PlusClient } from './es9plusClient.js';

export async function cancelSession(client: Es9PlusClient, transactionId: Buffer, cancelSessionResponse: Buffer): Promise<void> {
  await client.call('cancelSession', { transactionId, cancelSessionResponse });
}
