// Security events under a flood (issue 8, attacker-driven log volume): repeated events of one kind and client are
// coalesced per window into a few lines and one summary; other clients and codes are logged apart; every event counted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServerMetrics } from '../../src/http/metrics.js';
import { securityEventSink, type CoalescingPolicy } from '../../src/smdpp/securityEvents.js';
import { captureLogger } from '../helpers/logCapture.js';

const POLICY: CoalescingPolicy = { windowMs: 1000, burst: 3, maxKinds: 8 };

function failed(client: string, reasonCode = '4.4') {
  return { function: 'initiateAuthentication', subjectCode: '1.2', reasonCode, message: 'busy', client };
}

describe('security events coalesced per kind and client', () => {
  it('a flood from one client: the first burst logged, the rest one summary line per window; every event counted', async () => {
    let now = 0;
    const log = captureLogger();
    const metrics = new ServerMetrics();
    const sink = securityEventSink(log.logger, metrics, { coalescing: POLICY, clock: () => now });
    for (let i = 0; i < 1000; i++) sink.securityEvent('es9.failed', failed('203.0.113.7'));
    assert.equal(log.lines().length, 3, 'the burst');
    now = 1000;
    sink.securityEvent('es9.failed', failed('203.0.113.7'));
    const lines = log.lines();
    assert.equal(lines.length, 5, 'the summary of the first window, then the first line of the next');
    assert.deepEqual([lines[3]?.['event'], lines[3]?.['suppressed'], lines[3]?.['windowMs'], lines[3]?.['client']], ['es9.failed', 997, 1000, '203.0.113.7']);
    assert.equal(lines[4]?.['suppressed'], undefined);
    const text = await metrics.registry.metrics();
    assert.match(text, /mcim_security_events_total\{event="es9.failed"\} 1001/);
    sink.close();
  });

  it('another client, another status code or another event is its own kind and is not suppressed by the flood', () => {
    const log = captureLogger();
    const sink = securityEventSink(log.logger, undefined, { coalescing: POLICY, clock: () => 0 });
    for (let i = 0; i < 50; i++) sink.securityEvent('es9.failed', failed('203.0.113.7'));
    sink.securityEvent('es9.failed', failed('198.51.100.1'));
    sink.securityEvent('es9.failed', failed('203.0.113.7', '2.1'));
    sink.securityEvent('rateLimit.hit', { scope: 'source', subject: '203.0.113.7', client: '203.0.113.7' });
    const clients = log.lines().map((l) => `${String(l['event'])} ${String(l['client'])} ${String(l['reasonCode'])}`);
    assert.deepEqual(clients.slice(3), ['es9.failed 198.51.100.1 4.4', 'es9.failed 203.0.113.7 2.1', 'rateLimit.hit 203.0.113.7 undefined']);
    sink.close();
  });

  it('kinds are bounded: beyond maxKinds, new kinds share one overflow kind; close writes the pending summaries', () => {
    let now = 0;
    const log = captureLogger();
    const sink = securityEventSink(log.logger, undefined, { coalescing: POLICY, clock: () => now });
    for (let i = 0; i < 100; i++) sink.securityEvent('es9.failed', failed(`10.0.0.${i}`));
    // 8 kinds of their own (one line each), then 92 clients in the overflow kind: 3 lines, 89 suppressed.
    assert.equal(log.lines().length, 8 + 3);
    now = 10;
    sink.close();
    const summaries = log.lines().filter((l) => l['suppressed'] !== undefined);
    assert.deepEqual(summaries.map((l) => l['suppressed']), [89]);
  });

  it('a window that went quiet is summarized by the next flush, once', () => {
    let now = 0;
    const log = captureLogger();
    const sink = securityEventSink(log.logger, undefined, { coalescing: POLICY, clock: () => now });
    for (let i = 0; i < 10; i++) sink.securityEvent('matchingId.refused', failed('203.0.113.9', '3.8'));
    now = 999;
    sink.close();
    assert.deepEqual(log.lines().filter((l) => l['suppressed'] !== undefined).map((l) => l['suppressed']), [7]);
    sink.close();
    assert.equal(log.lines().filter((l) => l['suppressed'] !== undefined).length, 1, 'not twice');
  });
});
