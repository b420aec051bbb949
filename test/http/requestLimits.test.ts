// The request limits of src/http/requestLimits.ts driven through their API: a source's (N+1)th request in its window refused, the next window admits
// it again, the table of sources bounded under many sources (least recently seen evicted), the concurrency gate's places given back once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { McimError } from '../../src/errors.js';
import { ConcurrencyGate, SourceRateLimiter } from '../../src/http/requestLimits.js';

describe('SourceRateLimiter', () => {
  it('admits N requests of a source per window, refuses the (N+1)th, admits another source, and the source again in its next window', () => {
    let now = 1_000;
    const limiter = new SourceRateLimiter({ maxRequestsPerSource: 3, windowMs: 60_000, maxSources: 10 }, () => now);
    assert.deepEqual([1, 2, 3, 4, 5].map(() => limiter.admit('10.0.0.1')), [true, true, true, false, false]);
    assert.equal(limiter.admit('10.0.0.2'), true);
    now += 30_000;
    assert.equal(limiter.admit('10.0.0.1'), false);
    assert.equal(limiter.retryAfterMs('10.0.0.1'), 30_000);
    now += 30_000;
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.admit('10.0.0.1')), [true, true, true, false]);
  });

  it('tracks at most maxSources: 10,000 distinct sources leave 1,000 entries, the least recently seen evicted', () => {
    const now = 5;
    const limiter = new SourceRateLimiter({ maxRequestsPerSource: 2, windowMs: 60_000, maxSources: 1_000 }, () => now);
    // A busy source, seen again and again between the others, stays tracked and refused.
    assert.equal(limiter.admit('busy'), true);
    assert.equal(limiter.admit('busy'), true);
    for (let i = 0; i < 10_000; i++) {
      assert.equal(limiter.admit(`s${i}`), true);
      assert.ok(limiter.size <= 1_000);
      if (i % 100 === 0) assert.equal(limiter.admit('busy'), false);
    }
    assert.equal(limiter.size, 1_000);
    // The newest are tracked (their second request counts), the oldest were evicted (a fresh window).
    assert.equal(limiter.admit('s9999'), true);
    assert.equal(limiter.admit('s9999'), false);
    assert.equal(limiter.retryAfterMs('s0'), 0);
    assert.equal(limiter.admit('busy'), false);
  });

  it('0 requests per source: no limit, nothing tracked; limits out of range refused', () => {
    const limiter = new SourceRateLimiter({ maxRequestsPerSource: 0, windowMs: 1, maxSources: 1 });
    for (let i = 0; i < 100; i++) assert.equal(limiter.admit('x'), true);
    assert.equal(limiter.size, 0);
    const invalid = (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT';
    assert.throws(() => new SourceRateLimiter({ maxRequestsPerSource: -1, windowMs: 1, maxSources: 1 }), invalid);
    assert.throws(() => new SourceRateLimiter({ maxRequestsPerSource: 1, windowMs: 0, maxSources: 1 }), invalid);
    assert.throws(() => new SourceRateLimiter({ maxRequestsPerSource: 1, windowMs: 1, maxSources: 0 }), invalid);
  });
});

describe('ConcurrencyGate', () => {
  it('refuses beyond its cap; a place given back twice counts once; 0: no cap', () => {
    const gate = new ConcurrencyGate(2);
    const a = gate.enter();
    const b = gate.enter();
    assert.ok(a !== undefined && b !== undefined);
    assert.equal(gate.enter(), undefined);
    a();
    a();
    assert.equal(gate.active, 1);
    const c = gate.enter();
    assert.ok(c !== undefined);
    assert.equal(gate.enter(), undefined);
    const open = new ConcurrencyGate(0);
    for (let i = 0; i < 50; i++) assert.ok(open.enter() !== undefined);
    assert.throws(() => new ConcurrencyGate(-1), (e) => e instanceof McimError);
  });
});
