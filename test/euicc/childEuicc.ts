// A software eUICC in a child process for crash tests (SGP.22 2.4 protected storage): command APDUs in, response APDUs out, SIGKILL at will.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Reply } from './cardHelpers.js';

const CHILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'euiccProcess.js');

/** The eUICC in a child process (test/euicc/fixtures/euiccProcess.ts): one command APDU per line in, one response per line out. */
export class ChildEuicc {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: string[] = [];
  #waiting: { resolve: (line: string) => void; reject: (e: Error) => void } | undefined;
  #stderr = '';
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(statePath: string, secret: Buffer) {
    this.#child = spawn(process.execPath, [CHILD_SCRIPT, statePath, secret.toString('hex')], { stdio: ['pipe', 'pipe', 'pipe'] });
    // Writing to a killed child fails with EPIPE; that is the point of the test, not an error.
    this.#child.stdin.on('error', () => undefined);
    this.#child.stderr.setEncoding('utf8').on('data', (s: string) => (this.#stderr += s));
    createInterface({ input: this.#child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (waiting) waiting.resolve(line);
      else this.#lines.push(line);
    });
    this.#exited = new Promise((resolve) => {
      this.#child.on('close', (code, signal) => {
        this.#exit = { code, signal };
        this.#waiting?.reject(new Error(`the eUICC process ended (code ${String(code)}, signal ${String(signal)}): ${this.#stderr}`));
        this.#waiting = undefined;
        resolve(this.#exit);
      });
    });
  }

  /** Starts the eUICC on `statePath` and waits until it has opened its sealed state. */
  static async start(statePath: string, secret: Buffer): Promise<ChildEuicc> {
    const c = new ChildEuicc(statePath, secret);
    const first = await c.#nextLine().catch((e: unknown) => {
      throw new Error(`the eUICC process did not start on ${statePath}`, { cause: e });
    });
    assert.equal(first, 'READY', `the eUICC process did not open its state: ${first} ${c.#stderr}`);
    return c;
  }

  #nextLine(): Promise<string> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#exit) return Promise.reject(new Error(`the eUICC process has ended: ${this.#stderr}`));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** Sends one command APDU and waits for its response. */
  async transmit(command: Buffer): Promise<Reply> {
    this.#child.stdin.write(`${command.toString('hex')}\n`);
    const line = await this.#nextLine();
    assert.match(line, /^([0-9A-F]{2}){2,}$/, `not a response APDU: ${line}`);
    const r = Buffer.from(line, 'hex');
    return { data: r.subarray(0, r.length - 2), sw: r.readUInt16BE(r.length - 2) };
  }

  /** SIGKILL now (the process is idle, between two commands). */
  async kill(): Promise<void> {
    this.#child.kill('SIGKILL');
    this.#assertKilled(await this.#exited);
  }

  /** Hands `command` to the process and SIGKILLs it without waiting for the answer: it dies before, during or after processing it. */
  async killWhileProcessing(command: Buffer, delayMs: number): Promise<void> {
    await new Promise<void>((resolve) => this.#child.stdin.write(`${command.toString('hex')}\n`, () => resolve()));
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    this.#child.kill('SIGKILL');
    this.#assertKilled(await this.#exited);
  }

  /** Ends the process normally (stdin closed). */
  async close(): Promise<void> {
    this.#child.stdin.end();
    const exit = await this.#exited;
    assert.deepEqual(exit, { code: 0, signal: null }, `the eUICC process failed: ${this.#stderr}`);
  }

  /** Makes sure the process is gone (after a failed assertion). */
  async dispose(): Promise<void> {
    if (this.#exit) return;
    this.#child.kill('SIGKILL');
    await this.#exited;
  }

  #assertKilled(exit: { code: number | null; signal: NodeJS.Signals | null }): void {
    assert.equal(exit.signal, 'SIGKILL', `the eUICC process ended by itself before the kill (code ${String(exit.code)}): ${this.#stderr}`);
  }
}
