// The per-process map of delivered sessions awaiting their PIR (src/smdpp/deliveredSessions.ts): bounded, taken once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveredSessions } from '../../src/smdpp/deliveredSessions.js';
import type { GsmaCertificate } from '../../src/pki/certificate.js';

const certificate = {} as GsmaCertificate;

describe('DeliveredSessions', () => {
  it('keeps at most its bound, the oldest going first, and gives each entry once', () => {
    const sessions = new DeliveredSessions(3);
    for (const id of ['A', 'B', 'C', 'D']) sessions.remember(id, { eid: `eid-${id}`, certificate });
    assert.equal(sessions.size, 3);
    assert.equal(sessions.take('A'), undefined, 'the oldest went out');
    assert.equal(sessions.take('B')?.eid, 'eid-B');
    assert.equal(sessions.take('B'), undefined, 'taken once');
    assert.equal(sessions.size, 2);
  });

  it('remembering a transaction again replaces it and makes it the newest', () => {
    const sessions = new DeliveredSessions(2);
    sessions.remember('A', { eid: 'first', certificate });
    sessions.remember('B', { eid: 'b', certificate });
    sessions.remember('A', { eid: 'second', certificate });
    sessions.remember('C', { eid: 'c', certificate });
    assert.equal(sessions.take('B'), undefined, 'B was the oldest');
    assert.equal(sessions.take('A')?.eid, 'second');
  });

  it('a bound of 0 keeps nothing; a bound that is not a count is refused', () => {
    const none = new DeliveredSessions(0);
    none.remember('A', { eid: 'a', certificate });
    assert.equal(none.size, 0);
    assert.throws(() => new DeliveredSessions(-1), RangeError);
    assert.throws(() => new DeliveredSessions(1.5), RangeError);
  });
});
