// The public surface package.json declares (docs/architecture.md, Public surface): what `npm pack` carries, and that the packed `mcim` runs.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from './helpers/fixtures.js';

interface PackResult {
  readonly filename: string;
  readonly files: ReadonlyArray<{ readonly path: string }>;
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  exports: Record<string, string>;
};
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const work = mkdtempSync(join(tmpdir(), 'mcim-pack-'));

function pack(...args: string[]): PackResult {
  const out = execFileSync(NPM, ['pack', '--json', '--ignore-scripts', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [result] = JSON.parse(out) as PackResult[];
  assert.ok(result, 'npm pack printed no result');
  return result;
}

function compiled(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? compiled(join(dir, d.name)) : d.name.endsWith('.js') ? [relative(ROOT, join(dir, d.name)).split('\\').join('/')] : [],
  );
}

after(() => rmSync(work, { recursive: true, force: true }));

describe('package surface', () => {
  it('npm pack carries the compiled sources, what selfcheck reads (vectors, SGP.26 certificates) and the docs: no tests, no keys, no profiles', () => {
    const files = pack('--dry-run').files.map((f) => f.path);
    const allowed = [/^dist\/src\/.+\.js$/, /^test\/fixtures\/vectors\/[\w-]+\.json$/, /^test\/fixtures\/sgp26\/\w+\/CERT_\w+\.der$/, /^docs\/[\w-]+\.md$/, /^README\.md$/, /^package\.json$/];
    const unexpected = files.filter((f) => !allowed.some((re) => re.test(f)));
    assert.deepEqual(unexpected, []);
    assert.deepEqual(files.filter((f) => /\.test\.js$|\.map$|\.ts$|\.(pem|key|p8)$|\/(SK|PK)_|ts48|^test\/helpers/.test(f)), []);
    assert.deepEqual(files.filter((f) => f.startsWith('dist/src/')).sort(), compiled(join(ROOT, 'dist', 'src')).sort(), 'every compiled source, nothing else under dist');
    assert.ok(files.includes(manifest.bin['mcim']!), `the bin ${manifest.bin['mcim']} is packed`);
  });

  it('the packed mcim runs (selfcheck passes), and no module is importable but package.json', () => {
    const tarball = join(work, pack('--pack-destination', work).filename);
    execFileSync('tar', ['-xzf', tarball, '-C', work]);
    const dir = join(work, 'package');
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');

    const run = spawnSync(process.execPath, [join(dir, manifest.bin['mcim']!), 'selfcheck', '--json'], { cwd: work, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const checks = JSON.parse(run.stdout) as Array<{ name: string; ok: boolean }>;
    assert.ok(checks.length > 5);
    assert.deepEqual(checks.filter((c) => !c.ok), []);

    assert.deepEqual(Object.keys(manifest.exports), ['./package.json']);
    const probe = [
      "const r = [];",
      "try { await import('mcim/dist/src/errors.js'); r.push('imported'); } catch (e) { r.push(e.code); }",
      "r.push((await import('mcim/package.json', { with: { type: 'json' } })).default.name);",
      'console.log(r.join(" "));',
    ].join('\n');
    const imports = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: dir, encoding: 'utf8' });
    assert.equal(imports.stdout.trim(), 'ERR_PACKAGE_PATH_NOT_EXPORTED mcim', imports.stderr);
  });
});
