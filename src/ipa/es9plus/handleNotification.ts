// SGP.22 5.6.4 ES9+.HandleNotification: delivers one pending notification (a PIR or another signed notification); answered with 204 No Content.
import type { Es9PlusClient } from './es9plusClient.js';

export async function handleNotification(client: Es9PlusClient, pendingNotification: Buffer): Promise<void> {
  await client.call('handleNotification', { pendingNotification });
}
