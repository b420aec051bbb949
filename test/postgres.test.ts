// The test suite's PostgreSQL check (test/helpers/postgres.ts): a missing server gives one message saying how to start it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { PG_URL, probePostgres, unreachableMessage } from './helpers/postgres.js';

/** A local port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('PostgreSQL for the tests', () => {
  it('the configured server answers', async () => {
    assert.equal(await probePostgres(PG_URL), undefined);
  });

  it('a missing server is reported with its address and how to start one, not a stack', async () => {
    const url = `postgres://postgres@127.0.0.1:${await closedPort()}/test`;
    const reason = await probePostgres(url);
    assert.ok(reason !== undefined);
    assert.match(reason, /^ECONNREFUSED: /);
    const message = unreachableMessage(url, reason);
    assert.match(message, /^PostgreSQL is not reachable at 127\.0\.0\.1:\d+\/test \(ECONNREFUSED: /);
    assert.match(message, /127\.0\.0\.1:5432 with trust authentication and a database named test/);
    assert.match(message, /docker run .*POSTGRES_HOST_AUTH_METHOD=trust .*POSTGRES_DB=test postgres/);
    assert.doesNotMatch(message, /\n\s+at /, 'no stack frames');
  });
});
