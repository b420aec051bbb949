// What a JSON function call learned about its subject while it ran (the EID once verified), for the event its outcome produces.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CallNotes {
  /** The EID of the eUICC the call concerns, once known (verified chain, or the session's). */
  eid?: string;
}

const calls = new AsyncLocalStorage<CallNotes>();

/** Runs `fn` with fresh notes that `noteCall` fills in; resolves with its result and the notes. */
export function withCallNotes<T>(notes: CallNotes, fn: () => Promise<T>): Promise<T> {
  return calls.run(notes, fn);
}

/** Records what the current call learned (no effect outside a call). */
export function noteCall(notes: CallNotes): void {
  const current = calls.getStore();
  if (current !== undefined) Object.assign(current, notes);
}

/** The current call's notes (undefined outside a call). */
export function currentCallNotes(): CallNotes | undefined {
  return calls.getStore();
}
