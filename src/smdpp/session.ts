// Looking up the RSP session a transactionId names (SGP.22 3.0.1/3.1.3: one transaction, one session, one eUICC).
import type { CallNotes } from '../http/server.js';
import type { SessionState } from '../store/database.js';
import type { Order, Session } from '../store/smdpStore.js';
import type { SmdpContext } from './context.js';
import { fail } from './statusCodes.js';

/**
 * The session in one of `states` and not expired; 8.10.1/3.9 otherwise (an expired session is marked so). The EID of an
 * authenticated session goes into the call's notes.
 */
export async function activeSession(ctx: SmdpContext, transactionId: Buffer, states: readonly SessionState[], notes: CallNotes): Promise<Session> {
  const id = transactionId.toString('hex').toUpperCase();
  return active(ctx, id, await ctx.store.sessions.get(id), states, notes);
}

/** As activeSession, with the session's order and sealed profile package read in the same statement (if they exist). */
export async function activeSessionWithOrder(
  ctx: SmdpContext,
  transactionId: Buffer,
  states: readonly SessionState[],
  notes: CallNotes,
): Promise<{ session: Session; order?: { order: Order; openProfilePackage: () => Buffer } }> {
  const id = transactionId.toString('hex').toUpperCase();
  const found = await ctx.store.sessions.getWithOrder(id);
  await active(ctx, id, found?.session, states, notes);
  return found!;
}

async function active(ctx: SmdpContext, id: string, session: Session | undefined, states: readonly SessionState[], notes: CallNotes): Promise<Session> {
  if (session === undefined) throw fail('unknownTransaction', `unknown transactionId ${id}`);
  if (session.eid !== undefined) notes.eid = session.eid;
  if (session.expiresAt < ctx.now()) {
    await ctx.store.sessions.setState(id, ['initiated', 'authenticating', 'authenticated'], 'expired');
    throw fail('unknownTransaction', `the session of transactionId ${id} has expired`);
  }
  if (!states.includes(session.state)) throw fail('unknownTransaction', `transactionId ${id} is not expected here (session ${session.state})`);
  return session;
}
