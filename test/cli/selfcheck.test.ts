// `mcim selfcheck` (npm start): every check passes, and the command exits 0 printing each one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runSelfcheck } from '../../src/cli/commands/selfcheck.js';
import { ROOT } from '../helpers/fixtures.js';

test('every self-check passes and names what it verified', () => {
  const results = runSelfcheck();
  assert.ok(results.length >= 15);
  for (const r of results) assert.equal(r.ok, true, `${r.name}: ${r.detail}`);
});

test('mcim selfcheck prints one line per check and exits 0', () => {
  const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'selfcheck'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^ok {3}Milenage/m);
  assert.match(run.stdout, /self-check passed/);
  assert.doesNotMatch(run.stdout, /FAIL/);
});
