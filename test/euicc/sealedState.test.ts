// The eUICC's sealed state file (AES-256-GCM, HKDF-SHA-256, write-then-rename): round trip, tampering, rollback, crashes.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SealedMemory, SealedStateError, SealedStateFile } from '../../src/euicc/sealedState.js';

const root = mkdtempSync(join(tmpdir(), 'mcim-sealed-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;

function freshDir(): string {
  const dir = join(root, `d${dirCount++}`);
  mkdirSync(dir);
  return dir;
}

const SECRET = Buffer.alloc(32, 0x42);

function isSealedError(code: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof SealedStateError && e.code === code;
}

/** Seals arbitrary plaintext in the documented file format, as save() would. */
function sealRaw(plaintext: Buffer, secret: Buffer = SECRET): Buffer {
  const salt = randomBytes(32);
  const nonce = randomBytes(12);
  const header = Buffer.concat([Buffer.from('MCIMSEAL'), Buffer.from([1]), salt, nonce]);
  const key = Buffer.from(hkdfSync('sha256', secret, salt, 'mcim euicc sealed state v1', 32));
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(header);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, ciphertext, cipher.getAuthTag()]);
}

interface DeviceState {
  eid: string;
  counter: number;
  keys: Buffer[];
  profiles: { iccid: string; enabled: boolean; nickname: string | null }[];
  meta: { ratio: number; note?: string };
}

const STATE: DeviceState = {
  eid: '89049032123451234512345678901235',
  counter: 7,
  keys: [Buffer.from('00112233', 'hex'), Buffer.alloc(0)],
  profiles: [{ iccid: '8944476500000000001F', enabled: true, nickname: 'télé ✓' }, { iccid: '8944', enabled: false, nickname: null }],
  meta: { ratio: -0.5, note: undefined },
};

describe('SealedStateFile', () => {
  it('round-trips the state with bytes and counts generations', () => {
    const path = join(freshDir(), 'euicc.state');
    const file = new SealedStateFile<DeviceState>(path, SECRET);
    assert.equal(file.generation, undefined);
    assert.equal(file.load(), undefined, 'first start');
    assert.equal(file.generation, 0);
    assert.equal(file.save(STATE), 1);
    assert.equal(file.save({ ...STATE, counter: 8 }), 2);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const loaded = new SealedStateFile<DeviceState>(path, Buffer.from(SECRET)).load();
    assert.ok(loaded);
    assert.equal(loaded.generation, 2);
    assert.deepEqual(loaded.state, { ...STATE, counter: 8, meta: { ratio: -0.5 } }, 'undefined properties are left out');
    assert.ok(Buffer.isBuffer(loaded.state.keys[0]));
    const bytes = new SealedStateFile<{ u: Uint8Array }>(join(freshDir(), 's'), SECRET);
    bytes.load();
    bytes.save({ u: new Uint8Array([1, 2, 3]).subarray(1) });
    assert.deepEqual(bytes.load()!.state.u, Buffer.from([2, 3]));
    assert.ok(!readFileSync(path).includes(Buffer.from(STATE.eid)), 'the state is encrypted');
  });

  it('refuses to save before load, and a short device secret', () => {
    const file = new SealedStateFile(join(freshDir(), 's'), SECRET);
    assert.throws(() => file.save({}), isSealedError('NOT_LOADED'));
    assert.throws(() => new SealedStateFile('x', Buffer.alloc(31)), isSealedError('INVALID_ARGUMENT'));
  });

  it('detects every flipped bit of the file as TAMPERED', () => {
    const path = join(freshDir(), 's');
    const file = new SealedStateFile<{ a: number }>(path, SECRET);
    file.load();
    file.save({ a: 1 });
    const good = readFileSync(path);
    for (let i = 0; i < good.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(good);
        bad[i]! ^= 1 << bit;
        writeFileSync(path, bad);
        assert.throws(() => file.load(), isSealedError('TAMPERED'), `byte ${i} bit ${bit}`);
      }
    }
    writeFileSync(path, good);
    assert.deepEqual(file.load(), { state: { a: 1 }, generation: 1 });
  });

  it('detects every truncation and any appended byte as TAMPERED', () => {
    const path = join(freshDir(), 's');
    const file = new SealedStateFile<{ a: string }>(path, SECRET);
    file.load();
    file.save({ a: 'x' });
    const good = readFileSync(path);
    for (let n = 0; n < good.length; n++) {
      writeFileSync(path, good.subarray(0, n));
      assert.throws(() => file.load(), isSealedError('TAMPERED'), `${n} bytes`);
    }
    writeFileSync(path, Buffer.concat([good, Buffer.from([0])]));
    assert.throws(() => file.load(), isSealedError('TAMPERED'));
  });

  it('gives TAMPERED for a wrong secret, magic or version, and never a partial state', () => {
    const path = join(freshDir(), 's');
    const file = new SealedStateFile<{ a: number }>(path, SECRET);
    file.load();
    file.save({ a: 1 });
    const other = new SealedStateFile(path, Buffer.alloc(32, 0x43));
    assert.throws(() => other.load(), isSealedError('TAMPERED'));
    assert.equal(other.generation, undefined, 'nothing loaded');
    const good = readFileSync(path);
    const v2 = Buffer.from(good);
    v2[8] = 2;
    writeFileSync(path, v2);
    assert.throws(() => file.load(), (e: unknown) => isSealedError('TAMPERED')(e) && /version 2/.test((e as Error).message));
    writeFileSync(path, Buffer.concat([Buffer.from('MCIMSEAX'), good.subarray(8)]));
    assert.throws(() => file.load(), isSealedError('TAMPERED'));
  });

  it('gives TAMPERED for authentic content that is not a generation and a state', () => {
    const path = join(freshDir(), 's');
    const file = new SealedStateFile(path, SECRET);
    writeFileSync(path, sealRaw(Buffer.from('{"g":3,"s":{"a":1}}')));
    assert.deepEqual(file.load(), { state: { a: 1 }, generation: 3 }, 'the test sealer matches the format');
    for (const content of ['not json', '[]', 'null', '{"g":0,"s":1}', '{"g":1.5,"s":1}', '{"g":"1","s":1}', '{"g":1}']) {
      writeFileSync(path, sealRaw(Buffer.from(content)));
      assert.throws(() => file.load(), isSealedError('TAMPERED'), content);
    }
    assert.equal(file.generation, 3);
  });

  it('detects a rolled-back or deleted file against the last generation the caller knows', () => {
    const dir = freshDir();
    const path = join(dir, 's');
    const file = new SealedStateFile<{ n: number }>(path, SECRET);
    file.load();
    file.save({ n: 1 });
    copyFileSync(path, join(dir, 'old'));
    assert.equal(file.save({ n: 2 }), 2);
    copyFileSync(join(dir, 'old'), path);
    assert.throws(() => file.load(2), isSealedError('ROLLBACK'));
    assert.deepEqual(file.load(1), { state: { n: 1 }, generation: 1 });
    rmSync(path);
    assert.throws(() => file.load(1), isSealedError('ROLLBACK'));
    assert.equal(file.load(0), undefined);
  });

  it('refuses state it cannot seal with INVALID_STATE and leaves the file alone', () => {
    const path = join(freshDir(), 's');
    const file = new SealedStateFile<unknown>(path, SECRET);
    file.load();
    file.save({ ok: true });
    const before = readFileSync(path);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const sparse: unknown[] = [1];
    sparse[2] = 3;
    const invalid: unknown[] = [
      undefined, Number.NaN, Infinity, { a: -Infinity }, () => 1, 10n, Symbol('s'), new Date(0), new Map(), new (class X {})(),
      { $b: 'AAAA' }, { nested: { $ref: 1 } }, cyclic, [undefined], sparse,
    ];
    for (const state of invalid) assert.throws(() => file.save(state), isSealedError('INVALID_STATE'), String(state));
    assert.deepEqual(readFileSync(path), before);
    assert.equal(file.generation, 1);
    const shared = { x: 1 };
    assert.equal(file.save({ a: shared, b: [shared, shared], proto: Object.assign(Object.create(null) as object, { k: 'v' }) }), 2);
    assert.deepEqual(file.load()!.state, { a: { x: 1 }, b: [{ x: 1 }, { x: 1 }], proto: { k: 'v' } });
    file.save({ ['__proto__']: 5 } as unknown);
    const loaded = file.load()!.state as object;
    assert.equal(Object.getPrototypeOf(loaded), Object.prototype, 'a __proto__ key stays data');
    assert.equal(Object.getOwnPropertyDescriptor(loaded, '__proto__')?.value, 5);
  });

  it('reports I/O failures as IO_ERROR and cleans up its tmp file', () => {
    const dir = freshDir();
    const path = join(dir, 's');
    mkdirSync(path);
    const file = new SealedStateFile(path, SECRET);
    assert.throws(() => file.load(), isSealedError('IO_ERROR'));
    const other = new SealedStateFile(join(dir, 'missing-dir', 's'), SECRET);
    assert.throws(() => other.load(), isSealedError('IO_ERROR'));
    const writer = new SealedStateFile(path, SECRET);
    rmSync(path, { recursive: true });
    assert.equal(writer.load(), undefined);
    mkdirSync(join(path, 'blocker'), { recursive: true });
    assert.throws(() => writer.save({ a: 1 }), isSealedError('IO_ERROR'), 'rename over a non-empty directory fails');
    assert.deepEqual(readdirSync(dir), ['s']);
    assert.equal(writer.generation, 0);
  });

  it('keeps the old state when a crash left the new one in a tmp file, and removes that file', () => {
    const dir = freshDir();
    const path = join(dir, 'euicc.state');
    const file = new SealedStateFile<{ n: number }>(path, SECRET);
    file.load();
    file.save({ n: 1 });
    writeFileSync(`${path}.tmp-0123456789abcdef`, sealRaw(Buffer.from('{"g":2,"s":{"n":2}}')));
    writeFileSync(`${path}.tmp-torn`, Buffer.from('MCIMSEAL'));
    writeFileSync(join(dir, 'unrelated.tmp-1'), 'keep');
    const restarted = new SealedStateFile<{ n: number }>(path, SECRET);
    assert.deepEqual(restarted.load(), { state: { n: 1 }, generation: 1 });
    assert.deepEqual(readdirSync(dir).sort(), ['euicc.state', 'unrelated.tmp-1']);
    assert.equal(restarted.save({ n: 2 }), 2);
  });

  it('always loads the old or the new generation when the writer is SIGKILLed mid-save', { timeout: 120_000 }, async (t) => {
    const dir = freshDir();
    const path = join(dir, 'euicc.state');
    const secretHex = randomBytes(32).toString('hex');
    const payload = (g: number) => Buffer.alloc(48 * 1024, g & 0xff);
    const parent = new SealedStateFile<{ g: number; blob: Buffer }>(path, Buffer.from(secretHex, 'hex'));
    parent.load();
    let generation = parent.save({ g: 1, blob: payload(1) });
    const moduleUrl = new URL('../../src/euicc/sealedState.js', import.meta.url).href;
    const child = `
      import { SealedStateFile } from ${JSON.stringify(moduleUrl)};
      const file = new SealedStateFile(process.env.SEALED_PATH, Buffer.from(process.env.SEALED_SECRET, 'hex'));
      file.load();
      for (;;) {
        const g = file.generation + 1;
        file.save({ g, blob: Buffer.alloc(48 * 1024, g & 0xff) });
        process.stdout.write(g + '\\n');
      }`;
    let sawTmp = 0;
    for (let kill = 0; kill < 20; kill++) {
      const proc = spawn(process.execPath, ['--input-type=module', '-e', child], {
        env: { ...process.env, SEALED_PATH: path, SEALED_SECRET: secretHex },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const closed = new Promise<void>((resolve) => proc.on('close', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve();
        });
        proc.on('exit', () => reject(new Error(`writer exited before saving: ${err}`)));
      });
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
      proc.kill('SIGKILL');
      await closed;
      const reported = out.split('\n').filter(Boolean).map(Number);
      const lastCompleted = reported.length > 0 ? reported[reported.length - 1]! : generation;
      if (readdirSync(dir).length > 1) sawTmp++;
      const loaded = parent.load(generation);
      assert.ok(loaded, 'the file is there');
      assert.ok(
        loaded.generation === lastCompleted || loaded.generation === lastCompleted + 1,
        `kill ${kill}: loaded generation ${loaded.generation}, last completed save ${lastCompleted}`,
      );
      assert.equal(loaded.state.g, loaded.generation);
      assert.deepEqual(loaded.state.blob, payload(loaded.generation));
      assert.deepEqual(readdirSync(dir), ['euicc.state'], 'stray tmp files removed');
      generation = loaded.generation;
    }
    assert.ok(generation > 20);
    t.diagnostic(`${sawTmp} of 20 kills left a tmp file behind`);
  });
});

describe('SealedStateFile in a SealedMemory', () => {
  it('seals in memory in the file format: round trip, generations, every flipped bit TAMPERED, another secret TAMPERED, a lost state ROLLBACK', () => {
    const secret = randomBytes(32);
    const memory = new SealedMemory('device 1');
    const sealed = new SealedStateFile<{ n: number; b: Buffer }>(memory, secret);
    assert.equal(sealed.load(), undefined);
    assert.equal(sealed.save({ n: 1, b: Buffer.from('0102', 'hex') }), 1);
    assert.equal(sealed.save({ n: 2, b: Buffer.from('0304', 'hex') }), 2);
    const again = new SealedStateFile<{ n: number; b: Buffer }>(memory, secret).load(2)!;
    assert.deepEqual([again.generation, again.state.n, again.state.b.toString('hex')], [2, 2, '0304']);
    assert.ok(!memory.bytes!.includes(Buffer.from('"n":2')), 'the state is not in clear');
    const good = memory.bytes!;
    for (let i = 0; i < good.length; i += 7) {
      memory.bytes = Buffer.from(good);
      memory.bytes[i]! ^= 0x01;
      assert.throws(() => new SealedStateFile(memory, secret).load(), (e: unknown) => e instanceof SealedStateError && e.code === 'TAMPERED');
    }
    memory.bytes = good;
    assert.throws(() => new SealedStateFile(memory, randomBytes(32)).load(), (e: unknown) => e instanceof SealedStateError && e.code === 'TAMPERED');
    assert.throws(() => new SealedStateFile(new SealedMemory('empty'), secret).load(1), (e: unknown) => e instanceof SealedStateError && e.code === 'ROLLBACK');
  });
});
