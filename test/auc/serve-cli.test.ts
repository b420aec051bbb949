// `mcim auc serve`: refuses a non-loopback address without TLS and a short token (exit 2, nothing served); serves the API on
// loopback with the bearer token until SIGTERM.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('mcim auc serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcim-auc-serve-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const kek = join(dir, 'kek');
  writeFileSync(kek, randomBytes(32));
  const token = randomBytes(24).toString('base64');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${token}\n`);
  const shortToken = join(dir, 'short');
  writeFileSync(shortToken, 'secret');
  const base = ['auc', 'serve', '--db', join(dir, 'auc.sqlite'), '--kek-file', kek, '--port', '0'];
  const run = (...args: string[]): Promise<{ code: number; stderr: string }> =>
    new Promise((resolve) => execFile(process.execPath, [MAIN, ...base, ...args], (e, _out, stderr) => resolve({ code: e === null ? 0 : Number(e.code), stderr })));

  it('refuses a non-loopback address without TLS, and a short token', async () => {
    const open = await run('--token-file', tokenFile, '--host', '0.0.0.0');
    assert.deepEqual([open.code, open.stderr], [2, 'error: --host 0.0.0.0 is not loopback: serve it over TLS (--tls-key, --tls-cert)\n']);
    const short = await run('--token-file', shortToken);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /^error: the API token must be at least 32 printable characters/);
  });

  it('serves on loopback with the bearer token until SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN, ...base, '--token-file', tokenFile, '--json', '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const { host, port } = JSON.parse(line) as { host: string; port: number };
      assert.equal(host, '127.0.0.1');
      assert.equal((await fetch(`http://127.0.0.1:${port}/subscribers`)).status, 401);
      const listed = await fetch(`http://127.0.0.1:${port}/subscribers`, { headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual(await listed.json(), { subscribers: [] });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
