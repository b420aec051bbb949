// The eUICC as a real PC/SC card, when pcscd, Debian's vsmartcard-vpcd and opensc-tool are installed: pcscd (its own, in the
// foreground, with a vpcd reader on a free port) sees `mcim euicc vpcd` as the card in "Virtual PCD 00 00"; opensc-tool reads
// the ATR and sends SELECT ISD-R and GetEID over STORE DATA through PC/SC; the card comes back after pcscd restarts; SIGTERM ends mcim.
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ISD_R_AID } from '../../src/euicc/card.js';
import { Euicc, identityFromTestPki } from '../../src/euicc/euicc.js';
import { MCIM_MAIN } from '../helpers/serveProcess.js';
import { testPki } from './harness.js';

const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
const which = (name: string): string | undefined =>
  [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin'].map((d) => join(d, name)).find((p) => existsSync(p));
const pcscd = which('pcscd');
const openscTool = which('opensc-tool');

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function skipReason(): string | false {
  const missing = [pcscd === undefined ? 'pcscd' : '', existsSync(VPCD_DRIVER) ? '' : 'vsmartcard-vpcd', openscTool === undefined ? 'opensc' : ''].filter((m) => m !== '');
  if (missing.length > 0) return `${missing.join(', ')} not installed (apt-get install pcscd vsmartcard-vpcd opensc): the real PC/SC run is not checked`;
  if (existsSync(PCSCD_SOCKET)) return `a pcscd is already running (${PCSCD_SOCKET}): the test runs its own; stop it to run the real PC/SC test`;
  if (!writable(existsSync('/run/pcscd') ? '/run/pcscd' : '/run')) return 'pcscd needs to write /run/pcscd (run as root): the real PC/SC run is not checked';
  return false;
}
const skip = skipReason();

/** Two consecutive free ports (vpcd's driver opens a second slot on the next port). */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
    const port = (s.address() as AddressInfo).port;
    const next = createServer();
    const ok = port < 0xffff && (await new Promise<boolean>((resolve) => next.once('error', () => resolve(false)).listen(port + 1, '0.0.0.0', () => resolve(true))));
    await new Promise<void>((resolve) => s.close(() => resolve()));
    if (ok) await new Promise<void>((resolve) => next.close(() => resolve()));
    if (ok) return port;
  }
  throw new Error('no two consecutive free ports');
}

interface Child {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves once `pattern` appears in the output after `from` characters. */
  waitFor(pattern: RegExp, timeoutMs: number, from?: number): Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(command: string, args: readonly string[]): Child {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (b: Buffer): void => {
    out += b.toString('utf8');
    listeners.forEach((l) => l());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exit,
    waitFor(pattern, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(out.slice(from))) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${command} did not print ${String(pattern)} within ${timeoutMs} ms:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

function opensc(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(openscTool!, args, { timeout: 20_000 }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stdout}${stderr}`)) : resolve(stdout))),
  );
}

/** The bytes after "Received (SW1=0x.., SW2=0x..):" lines in opensc-tool -s output, per command, with their status words. */
function responses(out: string): { sw: string; data: string }[] {
  const r: { sw: string; data: string }[] = [];
  for (const line of out.split('\n')) {
    const m = /^Received \(SW1=0x([0-9A-Fa-f]{2}), SW2=0x([0-9A-Fa-f]{2})\)/.exec(line);
    if (m) r.push({ sw: `${m[1]}${m[2]}`.toUpperCase(), data: '' });
    else if (r.length > 0 && /^([0-9A-F]{2} )+/.test(line)) r[r.length - 1]!.data += line.slice(0, 48).replace(/\s+/g, '');
  }
  return r;
}

/** Polls the reader list until pcscd's polling thread has seen the card in the first slot. */
async function cardPresent(timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const readers = await opensc(['--list-readers']);
    if (/0\s+Yes\s+Virtual PCD 00 00/.test(readers) || Date.now() > deadline) return readers;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stop(c: Child | undefined): Promise<void> {
  if (c === undefined || c.child.exitCode !== null || c.child.signalCode !== null) return;
  c.child.kill('SIGTERM');
  const timer = setTimeout(() => c.child.kill('SIGKILL'), 5000);
  await c.exit;
  clearTimeout(timer);
}

describe('mcim euicc vpcd through pcscd and vsmartcard-vpcd, driven by opensc-tool', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcim-vpcd-'));
  const state = join(dir, 'euicc.sealed');
  const secretFile = join(dir, 'secret.hex');
  const secret = randomBytes(32);
  writeFileSync(secretFile, secret.toString('hex'));
  const eid = Euicc.create(state, secret, identityFromTestPki(testPki())).eid;
  const confDir = join(dir, 'reader.conf.d');
  mkdirSync(confDir);
  let daemon: Child | undefined;
  let card: Child | undefined;
  after(async () => {
    await stop(card);
    await stop(daemon);
    rmSync(dir, { recursive: true, force: true });
  });

  /** pcscd in the foreground at info level (which prints 'daemon ready'), kept in `daemon` for the after hook at once. */
  const startDaemon = async (): Promise<void> => {
    daemon = start(pcscd!, ['--foreground', '--info', '--config', confDir]);
    await daemon.waitFor(/daemon ready/, 10_000);
  };

  it('opensc-tool sees the card, reads its ATR, selects the ISD-R and gets the EID over STORE DATA', async () => {
    const port = await freePortPair();
    const hex = `0x${port.toString(16).toUpperCase()}`;
    writeFileSync(
      join(confDir, 'vpcd'),
      `FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:${hex}\nLIBPATH      ${VPCD_DRIVER}\nCHANNELID    ${hex}\n`,
    );
    await startDaemon();
    card = start(process.execPath, [MCIM_MAIN, 'euicc', 'vpcd', '--state', state, '--secret-file', secretFile, '--port', String(port)]);
    await card.waitFor(/connected to vpcd/, 10_000);

    const readers = await cardPresent(10_000);
    assert.match(readers, /0\s+Yes\s+Virtual PCD 00 00/, readers);
    const atr = (await opensc(['--reader', 'Virtual PCD 00 00', '--atr'])).trim();
    assert.equal(atr, '3b:84:80:01:6d:63:69:6d:0f');

    const out = await opensc(['--reader', 'Virtual PCD 00 00', '--send-apdu', `00A4040010${ISD_R_AID}00`, '--send-apdu', '80E2910006BF3E035C015A00']);
    const [select, getEid] = responses(out);
    assert.deepEqual(select, { sw: '9000', data: `6F128410${ISD_R_AID}` }, out);
    assert.deepEqual(getEid, { sw: '9000', data: `BF3E125A10${eid}` }, out);
  });

  it('comes back when pcscd restarts, and stops on SIGTERM with exit code 0', async () => {
    assert.ok(card, 'the first test started the card');
    const mark = card.output().length;
    await stop(daemon);
    await card.waitFor(/not reachable/, 10_000, mark);
    await startDaemon();
    await card.waitFor(/connected to vpcd/, 15_000, mark);
    assert.match(await cardPresent(10_000), /0\s+Yes\s+Virtual PCD 00 00/);
    // pcscd may still power-cycle the card it has just found (a reset between two APDUs loses the selection): a PC/SC
    // client tries again, and so does this test, a bounded number of times.
    let out = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      out = await opensc(['--reader', 'Virtual PCD 00 00', '--send-apdu', `00A4040010${ISD_R_AID}00`, '--send-apdu', '80E2910006BF3E035C015A00']);
      if (responses(out)[1]?.data === `BF3E125A10${eid}`) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    assert.equal(responses(out)[1]?.data, `BF3E125A10${eid}`, out);
    card.child.kill('SIGTERM');
    assert.deepEqual(await card.exit, { code: 0, signal: null }, card.output());
    assert.match(card.output(), /stopped\n$/);
  });
});
