// The PostgreSQL the tests use (127.0.0.1:5432, trust auth, database test): checked once when a test file loads, and the cleanup of a test's schema.
import pg from 'pg';

export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** What a developer without the database sees instead of a stack of ECONNREFUSED. */
export function unreachableMessage(url: string, reason: string): string {
  return [
    `PostgreSQL is not reachable at ${url.replace(/^postgres:\/\/[^@]*@/, '')} (${reason}).`,
    'The store tests need a PostgreSQL server at 127.0.0.1:5432 with trust authentication and a database named test; for example:',
    '  docker run -d --rm -p 127.0.0.1:5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:16',
    'Then run the tests again (see README.md, Development).',
  ].join('\n');
}

/** Connects once and runs SELECT 1; resolves to undefined when the server answers, else to the reason it did not. */
export async function probePostgres(url: string, timeoutMs = 3000): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${(e as Error).message}` : (e as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

// Every test file that uses the database imports this module: without a server it fails here, with one message.
const unreachable = await probePostgres(PG_URL);
if (unreachable !== undefined) {
  process.stderr.write(`\n${unreachableMessage(PG_URL, unreachable)}\n\n`);
  process.exit(1);
}

/** Drops a schema a test created (openDatabase creates it on first use), with everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
