// `mcim serve` as a child process for end-to-end tests, and one ES9+ JSON call over HTTPS on a connection of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { ES9PLUS_PATH } from '../../src/smdpp/server.js';

export const MCIM_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ServeProcess {
  readonly child: ChildProcess;
  /** One match per `ready` pattern, in the order given. */
  readonly matches: readonly RegExpExecArray[];
  /** The port of the first `ready` pattern's first group (the ES9+ port line). */
  readonly port: number;
  /** Standard output so far. */
  readonly stdout: () => string;
  /** Standard output and standard error so far. */
  readonly output: () => string;
  /** SIGKILLs the process if it still runs (for an `after` hook). */
  readonly kill: () => void;
}

/**
 * Spawns `mcim serve ...args`; resolves once every `ready` pattern matches standard output (the first one's group 1 is the
 * port), rejects with what it printed if it exits before or does not get there within `timeoutMs` (then it is killed).
 */
export function startServe(args: readonly string[], ready: readonly RegExp[], timeoutMs: number): Promise<ServeProcess> {
  const child = spawn(process.execPath, [MCIM_MAIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`the server did not start within ${timeoutMs / 1000} s: ${out}${err}`));
    }, timeoutMs);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening: ${out}${err}`));
    };
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const matches = ready.map((r) => r.exec(out));
      if (matches.every((m) => m !== null)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        const found = matches as RegExpExecArray[];
        resolve({ child, matches: found, port: Number(found[0]![1]), stdout: () => out, output: () => `${out}\n${err}`, kill });
      }
    });
    child.once('exit', onExit);
  });
}

export interface Es9Answer {
  readonly status: number;
  /** The JSON body, `{}` when empty (204). */
  readonly body: Record<string, unknown>;
}

/** One ES9+ call on a connection of its own (no keep-alive), so that successive calls spread over a cluster's workers. */
export function es9Post(port: number, ca: Buffer, fn: string, body: unknown): Promise<Es9Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca,
        agent: false,
        method: 'POST',
        path: `${ES9PLUS_PATH}/${fn}`,
        headers: { 'Content-Type': 'application/json', 'X-Admin-Protocol': 'gsma/rsp/v2.2.0', Connection: 'close' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
