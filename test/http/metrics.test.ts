// Metrics (src/http/metrics.ts): calls and latency as Prometheus reads them, in one process and summed over a cluster; store errors classed by their real SQLite and PostgreSQL codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { AggregatorRegistry } from 'prom-client';
import { ServerMetrics, storeErrorCode } from '../../src/http/metrics.js';
import type { CallRecord } from '../../src/http/server.js';
import { McimError } from '../../src/errors.js';
import { PG_URL } from '../helpers/postgres.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('nothing thrown');
}

describe('storeErrorCode', () => {
  it('classes a SQLite error by its result code', () => {
    const db = new BetterSqlite3(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    db.prepare('INSERT INTO t VALUES (?)').run('a');
    assert.equal(storeErrorCode(thrown(() => db.prepare('INSERT INTO t VALUES (?)').run('a'))), 'SQLITE_CONSTRAINT_PRIMARYKEY');
    db.close();
  });

  it('classes a PostgreSQL error by its SQLSTATE class', async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const e = await client.query('SELECT * FROM no_such_table_anywhere').then(() => undefined, (err: unknown) => err);
      assert.equal(storeErrorCode(e), 'pg_42');
    } finally {
      await client.end();
    }
  });

  it('other errors are not store errors', () => {
    assert.equal(storeErrorCode(new McimError('TAMPERED', 'x')), undefined);
    assert.equal(storeErrorCode(new Error('x')), undefined);
    assert.equal(storeErrorCode('x'), undefined);
  });
});

function call(path: string, durationMs: number, outcome: CallRecord['outcome'] = 'success', status?: CallRecord['status']): CallRecord {
  return { path, outcome, durationMs, client: { address: '127.0.0.1', notes: {} }, notes: {}, ...(status === undefined ? {} : { status }) };
}

/** The value of the sample `name{labels}` in a Prometheus text exposition (labels in any order). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.keys(got).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('ServerMetrics', () => {
  it('counts calls by function and outcome and their latency in cumulative buckets, as Prometheus reads them; a scrape does not count twice', async () => {
    const metrics = new ServerMetrics();
    metrics.observeCall(call('/gsma/rsp2/es9plus/initiateAuthentication', 0.5));
    metrics.observeCall(call('/gsma/rsp2/es9plus/initiateAuthentication', 3));
    metrics.observeCall(call('/gsma/rsp2/es9plus/initiateAuthentication', 20_000));
    metrics.observeCall(call('/gsma/rsp2/es9plus/authenticateClient', 1, 'failed', { subjectCode: '8.1', reasonCode: '6.1', message: 'x' }));
    const text = await metrics.registry.metrics();
    const bucket = (le: string, fn = 'initiateAuthentication') => sample(text, 'mcim_es9_call_duration_seconds_bucket', { le, function: fn });
    assert.equal(bucket('0.001'), 1);
    assert.equal(bucket('0.0025'), 1);
    assert.equal(bucket('0.005'), 2);
    assert.equal(bucket('10'), 2);
    assert.equal(bucket('+Inf'), 3);
    assert.equal(bucket('0.001', 'authenticateClient'), 1);
    assert.equal(sample(text, 'mcim_es9_call_duration_seconds_count', { function: 'initiateAuthentication' }), 3);
    assert.equal(sample(text, 'mcim_es9_call_duration_seconds_sum', { function: 'initiateAuthentication' }), 20.0035);
    assert.match(text, /# TYPE mcim_es9_call_duration_seconds histogram/);
    const calls = (labels: Record<string, string>) => sample(text, 'mcim_es9_calls_total', labels);
    assert.equal(calls({ function: 'initiateAuthentication', outcome: 'success', subject_code: '', reason_code: '' }), 3);
    assert.equal(calls({ function: 'authenticateClient', outcome: 'failed', subject_code: '8.1', reason_code: '6.1' }), 1);

    metrics.observeCall(call('/gsma/rsp2/es9plus/initiateAuthentication', 0.2));
    const again = await metrics.registry.metrics();
    assert.equal(sample(again, 'mcim_es9_calls_total', { function: 'initiateAuthentication', outcome: 'success', subject_code: '', reason_code: '' }), 4, 'counted once');
    assert.equal(sample(again, 'mcim_es9_call_duration_seconds_bucket', { le: '0.001', function: 'initiateAuthentication' }), 2);
  });

  it('workers summed by the cluster aggregator: counts and buckets add up', async () => {
    const a = new ServerMetrics();
    const b = new ServerMetrics();
    a.observeCall(call('/gsma/rsp2/es9plus/getBoundProfilePackage', 4));
    b.observeCall(call('/gsma/rsp2/es9plus/getBoundProfilePackage', 40));
    b.observeCall(call('/gsma/rsp2/es9plus/getBoundProfilePackage', 4));
    const merged = AggregatorRegistry.aggregate([await a.registry.getMetricsAsJSON(), await b.registry.getMetricsAsJSON()]);
    const text = await merged.metrics();
    assert.equal(sample(text, 'mcim_es9_call_duration_seconds_bucket', { le: '0.005', function: 'getBoundProfilePackage' }), 2);
    assert.equal(sample(text, 'mcim_es9_call_duration_seconds_bucket', { le: '+Inf', function: 'getBoundProfilePackage' }), 3);
    assert.equal(sample(text, 'mcim_es9_call_duration_seconds_count', { function: 'getBoundProfilePackage' }), 3);
    assert.equal(sample(text, 'mcim_es9_calls_total', { function: 'getBoundProfilePackage', outcome: 'success', subject_code: '', reason_code: '' }), 3);
  });
});
