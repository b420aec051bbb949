// Keys at rest (docs/operations.md, Keys at rest): every private key mcim writes is encrypted, the at-rest key comes from
// $MCIM_AT_REST_KEY, a file outside the data directory or secret.key, a wrong key is refused, and files are 0600 / directories 0700.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { deviceInit, deviceSecret } from '../../src/cli/commands/device.js';
import { PKI_PASSPHRASE_ENV, pkiInit } from '../../src/cli/commands/pki.js';
import { usageText } from '../../src/cli/commands/serve.js';
import { McimError } from '../../src/errors.js';
import { SealedStateFile } from '../../src/euicc/sealedState.js';
import { validateChain } from '../../src/pki/validateChain.js';
import { TEST_ENTITIES } from '../../src/pki/testPki.js';
import { importSmdpCredentials, initSmdpDataDir, openSmdpStore, openTestPkiKey } from '../../src/smdpp/dataDir.js';
import { sgp26Sources } from '../../src/smdpp/credentialSet.js';
import { AT_REST_KEY_ENV, AT_REST_KEY_FILE_ENV } from '../../src/store/secretBox.js';
import { ROOT, fixturePath } from '../helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'mcim-keys-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string): string => join(tmp, `${name}-${++n}`);

/** Every regular file under `root` (symlinks not followed). */
function filesUnder(root: string): string[] {
  const st = lstatSync(root);
  if (st.isFile()) return [root];
  if (!st.isDirectory()) return [];
  return readdirSync(root).flatMap((name) => filesUnder(join(root, name)));
}

/** Files holding a PEM private key that is not encrypted, or that parse as a private key without a passphrase. */
function clearKeys(root: string): string[] {
  return filesUnder(root).filter((file) => {
    const text = readFileSync(file).toString('latin1');
    const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----/g)].map((m) => m[1]);
    if (labels.some((label) => label !== 'ENCRYPTED ')) return true;
    try {
      createPrivateKey({ key: readFileSync(file), format: 'pem' });
      return true;
    } catch {
      try {
        createPrivateKey({ key: readFileSync(file), format: 'der', type: 'pkcs8' });
        return true;
      } catch {
        return false;
      }
    }
  });
}

/** Path -> content and mode of every file under `root`: to show nothing was written. */
function snapshot(root: string): Map<string, string> {
  return new Map(filesUnder(root).map((f) => [f, `${statSync(f).mode.toString(8)}:${readFileSync(f).toString('hex')}`]));
}

const isCode = (code: string) => (e: unknown) => e instanceof McimError && e.code === code;

const savedEnv = { ...process.env };
afterEach(() => {
  for (const name of [AT_REST_KEY_ENV, AT_REST_KEY_FILE_ENV, PKI_PASSPHRASE_ENV, 'MCIM_DEVICE_SECRET']) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

describe('no private key in clear', () => {
  it('a fresh data directory (generated test PKI, database) holds every private key encrypted, the EUM, eUICC and eIM keys too', async () => {
    const dir = fresh('data');
    const data = initSmdpDataDir(dir);
    await (await openSmdpStore(data)).close();
    const keyFiles = filesUnder(dir).filter((f) => f.endsWith('.key.pem'));
    assert.equal(keyFiles.length, 2 * TEST_ENTITIES.length);
    for (const f of keyFiles) assert.match(readFileSync(f, 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/, f);
    assert.deepEqual(clearKeys(dir), []);
    // ...and each opens with the at-rest key.
    for (const curve of ['p256', 'brainpool']) for (const entity of TEST_ENTITIES) assert.equal(openTestPkiKey(data, curve, entity).type, 'private');
  });

  it('`mcim pki init` writes every key encrypted, its passphrase beside the directory (mode 600), not in it', () => {
    const dir = fresh('pki');
    const report = pkiInit(dir, {});
    assert.deepEqual(clearKeys(dir), []);
    assert.equal(report.passphraseFile, `${dir}.passphrase`);
    assert.equal(statSync(`${dir}.passphrase`).mode & 0o777, 0o600);
    assert.equal(report.files.filter((f) => f.kind === 'private-key-pem').length, TEST_ENTITIES.length);
  });

  it('the scan finds a key in clear (the check can fail)', () => {
    const dir = fresh('clear');
    pkiInit(dir, {});
    writeFileSync(join(dir, 'stray.pem'), createPrivateKey(readFileSync(join(ROOT, 'test', 'fixtures', 'sgp26', 'eUICC', 'SK_EUICC_ECDSA_NIST.pem'))).export({ type: 'sec1', format: 'pem' }));
    assert.deepEqual(clearKeys(dir), [join(dir, 'stray.pem')]);
  });

  it('an existing data directory from an older mcim is brought to the rules: EUM, eUICC and eIM keys encrypted, modes tightened', () => {
    const dir = fresh('legacy');
    const data = initSmdpDataDir(dir);
    const eumKey = openTestPkiKey(data, 'p256', 'eum');
    const eumFile = join(dir, 'pki', 'p256', 'eum.key.pem');
    writeFileSync(eumFile, eumKey.export({ type: 'pkcs8', format: 'pem' }));
    chmodSync(eumFile, 0o644);
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'pki'), 0o777);
    chmodSync(join(dir, 'smdpp.json'), 0o666);
    assert.deepEqual(clearKeys(dir), [eumFile]);
    const reopened = initSmdpDataDir(dir);
    assert.deepEqual(clearKeys(dir), []);
    assert.equal(statSync(eumFile).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'pki')).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'smdpp.json')).mode & 0o777, 0o600);
    assert.ok(openTestPkiKey(reopened, 'p256', 'eum').equals(eumKey));
  });
});

describe('mcim device init --pki with an encrypted EUM key', () => {
  /** The new eUICC (read back from its sealed state) holds a certificate the PKI's EUM signed, chaining to its CI. */
  function assertIssuedBy(state: string, pkiDir: string, eid: string): void {
    const secret = deviceSecret({ state });
    const loaded = new SealedStateFile<{ identity: { euiccCertificate: Buffer } }>(state, secret).load();
    assert.ok(loaded);
    const ci = readFileSync(join(pkiDir, 'ci.der'));
    const eum = readFileSync(join(pkiDir, 'eum.der'));
    const r = validateChain(loaded.state.identity.euiccCertificate, [eum], { role: 'euicc', trustedCis: [ci], at: new Date() });
    assert.equal(r.eid, eid);
  }

  it('from an SM-DP+ data directory: the EUM key opens with its at-rest key', () => {
    const data = initSmdpDataDir(fresh('data'));
    const dirState = `${data.dir}.device.state`;
    const r = deviceInit({ state: dirState, pki: data.pkiDirs.p256! });
    assertIssuedBy(dirState, data.pkiDirs.p256!, r.eid);
  });

  it('from `mcim pki init` output: its passphrase file by default, $MCIM_PKI_PASSPHRASE or --key-passphrase-file', () => {
    const dir = fresh('pki');
    pkiInit(dir, {});
    const a = deviceInit({ state: `${dir}.a.state`, pki: dir });
    assertIssuedBy(`${dir}.a.state`, dir, a.eid);

    const envDir = fresh('pki-env');
    process.env[PKI_PASSPHRASE_ENV] = 'the passphrase of a test PKI';
    const report = pkiInit(envDir, {});
    assert.equal(report.passphraseFile, undefined);
    assert.equal(existsSync(`${envDir}.passphrase`), false);
    assert.ok(deviceInit({ state: `${envDir}.state`, pki: envDir }).eid);
    process.env[PKI_PASSPHRASE_ENV] = 'another passphrase, not the one';
    assert.throws(() => deviceInit({ state: `${envDir}.wrong.state`, pki: envDir }), isCode('UNREADABLE'));
    assert.equal(existsSync(`${envDir}.wrong.state`), false, 'nothing written');
    delete process.env[PKI_PASSPHRASE_ENV];
    assert.throws(() => deviceInit({ state: `${envDir}.none.state`, pki: envDir }), isCode('NOT_FOUND'));

    const fileDir = fresh('pki-file');
    const passphraseFile = join(tmp, `passphrase-${n}`);
    writeFileSync(passphraseFile, 'a passphrase kept in its own file\n');
    pkiInit(fileDir, { keyPassphraseFile: passphraseFile });
    assert.ok(deviceInit({ state: `${fileDir}.state`, pki: fileDir, keyPassphraseFile: passphraseFile }).eid);
    assert.throws(() => deviceInit({ state: `${fileDir}.default.state`, pki: fileDir }), isCode('NOT_FOUND'));
  });

  it('a passphrase shorter than 16 characters is refused, and a failed pki init leaves no passphrase file', () => {
    process.env[PKI_PASSPHRASE_ENV] = 'short';
    const dir = fresh('pki-short');
    assert.throws(() => pkiInit(dir, {}), isCode('INVALID_ARGUMENT'));
    assert.equal(existsSync(dir), false);
    delete process.env[PKI_PASSPHRASE_ENV];
    const taken = fresh('pki-taken');
    pkiInit(taken, {});
    rmSync(`${taken}.passphrase`);
    assert.throws(() => pkiInit(taken, {}), isCode('FILE_EXISTS'));
    assert.equal(existsSync(`${taken}.passphrase`), false);
  });
});

describe('the at-rest key: environment variable, file outside the data directory, or secret.key', () => {
  const key = randomBytes(32);

  it('$MCIM_AT_REST_KEY (hex or base64): no key file in the directory; the same key opens it again, another is refused and nothing is written', async () => {
    const dir = fresh('env');
    const data = initSmdpDataDir(dir, undefined, undefined, { env: { [AT_REST_KEY_ENV]: key.toString('hex') } });
    assert.equal(existsSync(join(dir, 'secret.key')), false);
    const store = await openSmdpStore(data);
    const sealed = data.atRestKey.box().seal(Buffer.from('K and OPc'), 'row');
    await store.close();
    const again = initSmdpDataDir(dir, undefined, undefined, { env: { [AT_REST_KEY_ENV]: `${key.toString('base64')}\n` } });
    assert.deepEqual(again.atRestKey.box().open(sealed, 'row'), Buffer.from('K and OPc'));
    assert.equal(openTestPkiKey(again, 'p256', 'eum').type, 'private');

    const before = snapshot(dir);
    assert.throws(() => initSmdpDataDir(dir, undefined, undefined, { env: { [AT_REST_KEY_ENV]: randomBytes(32).toString('hex') } }), (e: unknown) => {
      assert.ok(isCode('AT_REST_KEY_MISMATCH')(e));
      assert.match((e as Error).message, /MCIM_AT_REST_KEY/);
      assert.doesNotMatch((e as Error).message, new RegExp(key.toString('hex')));
      return true;
    });
    // No source at all: secret.key is not invented for an existing directory.
    assert.throws(() => initSmdpDataDir(dir, undefined, undefined, { env: {} }), isCode('NOT_FOUND'));
    assert.deepEqual(snapshot(dir), before);
  });

  it('--at-rest-key-file / $MCIM_AT_REST_KEY_FILE: the key kept outside the directory; a wrong one refused, a malformed one or two sources refused', () => {
    const dir = fresh('file');
    const keyFile = join(tmp, `at-rest-${n}.key`);
    writeFileSync(keyFile, `${key.toString('hex')}\n`, { mode: 0o600 });
    initSmdpDataDir(dir, undefined, undefined, { file: keyFile, env: {} });
    assert.equal(existsSync(join(dir, 'secret.key')), false);
    assert.equal(initSmdpDataDir(dir, undefined, undefined, { env: { [AT_REST_KEY_FILE_ENV]: keyFile } }).created, false);
    // The same key as 32 raw bytes.
    const raw = join(tmp, `raw-${n}.key`);
    writeFileSync(raw, key);
    assert.equal(initSmdpDataDir(dir, undefined, undefined, { file: raw, env: {} }).created, false);

    const before = snapshot(dir);
    const wrong = join(tmp, `wrong-${n}.key`);
    writeFileSync(wrong, randomBytes(32));
    assert.throws(() => initSmdpDataDir(dir, undefined, undefined, { file: wrong, env: {} }), isCode('AT_REST_KEY_MISMATCH'));
    const malformed = join(tmp, `malformed-${n}.key`);
    writeFileSync(malformed, 'not a key\n');
    assert.throws(() => initSmdpDataDir(dir, undefined, undefined, { file: malformed, env: {} }), isCode('INVALID_KEY_FILE'));
    assert.throws(() => initSmdpDataDir(dir, undefined, undefined, { env: { [AT_REST_KEY_ENV]: 'abcd' } }), isCode('INVALID_KEY_FILE'));
    assert.throws(() => initSmdpDataDir(dir, undefined, undefined, { file: keyFile, env: { [AT_REST_KEY_ENV]: key.toString('hex') } }), isCode('INVALID_ARGUMENT'));
    assert.throws(() => initSmdpDataDir(dir, undefined, undefined, { file: join(tmp, 'absent.key'), env: {} }), isCode('NOT_FOUND'));
    assert.deepEqual(snapshot(dir), before);
  });

  it('secret.key (the default): a changed key file is refused before anything is decrypted', () => {
    const dir = fresh('default');
    initSmdpDataDir(dir, undefined, undefined, { env: {} });
    assert.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600);
    writeFileSync(join(dir, 'secret.key'), randomBytes(32));
    const before = snapshot(dir);
    assert.throws(() => initSmdpDataDir(dir, undefined, undefined, { env: {} }), isCode('AT_REST_KEY_MISMATCH'));
    assert.deepEqual(snapshot(dir), before);
  });

  it('a wrong key is refused before a credential import validates or writes anything', () => {
    const dir = fresh('import');
    initSmdpDataDir(dir, undefined, undefined, { env: { [AT_REST_KEY_ENV]: key.toString('hex') } });
    const before = snapshot(dir);
    const sources = sgp26Sources(fixturePath('sgp26'), 'P-256');
    assert.throws(() => importSmdpCredentials(dir, sources, { keySource: { env: { [AT_REST_KEY_ENV]: randomBytes(32).toString('hex') } } }), isCode('AT_REST_KEY_MISMATCH'));
    assert.deepEqual(snapshot(dir), before);
  });

  it('a directory without a check value (older mcim) is checked by decrypting its keys', () => {
    const dir = fresh('nocheck');
    initSmdpDataDir(dir, undefined, undefined, { env: { [AT_REST_KEY_ENV]: key.toString('hex') } });
    const configPath = join(dir, 'smdpp.json');
    const { atRestKeyCheck, ...config } = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    assert.equal(typeof atRestKeyCheck, 'string');
    writeFileSync(configPath, JSON.stringify(config));
    assert.throws(() => initSmdpDataDir(dir, undefined, undefined, { env: { [AT_REST_KEY_ENV]: randomBytes(32).toString('hex') } }), isCode('AT_REST_KEY_MISMATCH'));
    assert.equal(initSmdpDataDir(dir, undefined, undefined, { env: { [AT_REST_KEY_ENV]: key.toString('hex') } }).created, false);
  });

  it('the CLI: device init --pki inside a data directory opened with --at-rest-key-file; serve refuses a wrong key with exit 2', () => {
    const dir = fresh('cli');
    const keyFile = join(tmp, `cli-${n}.key`);
    writeFileSync(keyFile, key.toString('base64'));
    const data = initSmdpDataDir(dir, undefined, undefined, { file: keyFile, env: {} });
    const env = { ...process.env };
    for (const name of [AT_REST_KEY_ENV, AT_REST_KEY_FILE_ENV, 'MCIM_DEVICE_SECRET']) delete env[name];
    const mcim = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), ...args], { env, encoding: 'utf8', timeout: 20_000 });
    // serve's usage text tells how: the same flag.
    const usage = usageText(data, '127.0.0.1', 8443);
    assert.ok(usage.includes(`--pki ${data.pkiDirs.p256!} --at-rest-key-file ${keyFile}\n`), usage);
    assert.ok(usage.includes(`MCIM_AT_REST_KEY_FILE=${keyFile} mcim smdpp import`), usage);
    const init = mcim(['device', 'init', '--state', `${dir}.state`, '--pki', data.pkiDirs.p256!, '--at-rest-key-file', keyFile, '--json']);
    assert.equal(init.status, 0, init.stderr);
    assert.match((JSON.parse(init.stdout) as { eid: string }).eid, /^89049032/);
    const noKey = mcim(['device', 'init', '--state', `${dir}.nokey.state`, '--pki', data.pkiDirs.p256!]);
    assert.equal(noKey.status, 2);
    assert.match(noKey.stderr, /no at-rest key/);
    // Commands without the flag take $MCIM_AT_REST_KEY_FILE: the store opens, and answers for the order.
    const release = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'smdpp', 'release', 'NO-SUCH-ORDER', '--data', dir], { env: { ...env, [AT_REST_KEY_FILE_ENV]: keyFile }, encoding: 'utf8', timeout: 20_000 });
    assert.equal(release.status, 2);
    assert.match(release.stderr, /no order with matching ID 'NO-SUCH-ORDER'/);
    assert.match(mcim(['smdpp', 'release', 'NO-SUCH-ORDER', '--data', dir]).stderr, /no at-rest key/);
    const wrong = join(tmp, `cli-wrong-${n}.key`);
    writeFileSync(wrong, randomBytes(32).toString('hex'));
    const serve = mcim(['serve', '--data', dir, '--at-rest-key-file', wrong, '--port', '0', '--workers', '1']);
    assert.equal(serve.status, 2, serve.stderr);
    assert.match(serve.stderr, /at-rest key from .* is not the key .* was created with/);
  });
});

describe('modes: files 0600, directories 0700, whatever the umask', () => {
  it('with umask 000, the data directory, database (-wal, -shm), imported credentials, pki init output, passphrase, eUICC state and device secret are 0600/0700', () => {
    const root = fresh('umask');
    const url = (path: string): string => new URL(`../../src/${path}`, import.meta.url).href;
    const script = `
      import { readdirSync, lstatSync } from 'node:fs';
      import { join } from 'node:path';
      const { importSmdpCredentials, initSmdpDataDir, openSmdpStore } = await import(${JSON.stringify(url('smdpp/dataDir.js'))});
      const { sgp26Sources } = await import(${JSON.stringify(url('smdpp/credentialSet.js'))});
      const { pkiInit } = await import(${JSON.stringify(url('cli/commands/pki.js'))});
      const { deviceInit } = await import(${JSON.stringify(url('cli/commands/device.js'))});
      process.umask(0o000);
      const root = ${JSON.stringify(root)};
      const modes = {};
      const walk = (p) => { const st = lstatSync(p); modes[p] = st.mode & 0o7777 | (st.isDirectory() ? 0o40000 : 0); if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n)); };
      const data = initSmdpDataDir(join(root, 'data', 'nested'));
      const store = await openSmdpStore(data);
      pkiInit(join(root, 'pki'), {});
      deviceInit({ state: join(root, 'device.state'), pki: data.pkiDirs.p256 });
      importSmdpCredentials(join(root, 'data', 'supplied'), sgp26Sources(${JSON.stringify(fixturePath('sgp26'))}), { at: new Date('2026-12-01T00:00:00Z') });
      walk(join(root, 'data'));
      walk(join(root, 'pki'));
      for (const f of ['pki.passphrase', 'device.state', 'device.state.secret']) walk(join(root, f));
      await store.close();
      process.stdout.write(JSON.stringify(modes));
    `;
    rmSync(root, { recursive: true, force: true });
    const env = { ...process.env };
    for (const name of [AT_REST_KEY_ENV, AT_REST_KEY_FILE_ENV, PKI_PASSPHRASE_ENV, 'MCIM_DEVICE_SECRET']) delete env[name];
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    const modes = JSON.parse(child.stdout) as Record<string, number>;
    const names = Object.keys(modes).map((p) => p.slice(root.length + 1));
    for (const expected of ['data', 'data/nested', 'data/nested/mcim.sqlite', 'data/nested/mcim.sqlite-wal', 'data/nested/mcim.sqlite-shm', 'data/nested/secret.key', 'data/nested/smdpp.json', 'data/nested/pki/p256/eum.key.pem', 'data/supplied/credentials', 'data/supplied/credentials/dp-tls.key.pem', 'data/supplied/credentials/credentials.json', 'pki/eum.key.pem', 'pki/ci.pem', 'pki/pki.json', 'pki.passphrase', 'device.state', 'device.state.secret']) {
      assert.ok(names.includes(expected), `${expected} among ${names.join(', ')}`);
    }
    for (const [path, mode] of Object.entries(modes)) {
      const isDir = (mode & 0o40000) !== 0;
      assert.equal((mode & 0o7777).toString(8), isDir ? '700' : '600', path);
    }
  });
});
