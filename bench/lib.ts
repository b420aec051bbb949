// Benchmark plumbing: bounded timing loops and the native limits measured by `openssl speed` in the same run.
import { execFileSync } from 'node:child_process';

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly limitName: string;
  readonly limit: number;
}

const figures: Figure[] = [];

/** Prints one figure beside its limit, as a ratio, and keeps it for the summary. */
export function report(figure: Figure): void {
  figures.push(figure);
  const ratio = figure.limit > 0 ? figure.value / figure.limit : NaN;
  console.log(
    `${figure.name.padEnd(44)} ${fmt(figure.value).padStart(12)} ${figure.unit.padEnd(10)} ` +
      `limit ${fmt(figure.limit).padStart(12)} (${figure.limitName})  ratio ${ratio.toFixed(2)}`,
  );
}

export function allFigures(): readonly Figure[] {
  return figures;
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

/** Runs `fn` repeatedly for about `seconds` (bounded also by `maxIterations`); returns operations per second. */
export function measure(fn: () => void, seconds = 1, opsPerCall = 1, maxIterations = 10_000_000): number {
  for (let i = 0; i < 3; i++) fn();
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let calls = 0;
  let now = start;
  while (now < deadline && calls < maxIterations) {
    fn();
    calls++;
    if ((calls & 7) === 0 || calls < 8) now = process.hrtime.bigint();
  }
  now = process.hrtime.bigint();
  return (calls * opsPerCall) / (Number(now - start) / 1e9);
}

export interface OpensslSign {
  sign: number;
  verify: number;
}

function opensslSpeed(args: string[]): string {
  return execFileSync('openssl', ['speed', '-mr', '-seconds', '1', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 120_000,
  });
}

/** ECDSA sign/verify per second on one core: `openssl speed ecdsap256` / `ecdsabrp256r1`. */
export function opensslEcdsa(curve: 'P-256' | 'brainpoolP256r1'): OpensslSign {
  const out = opensslSpeed([curve === 'P-256' ? 'ecdsap256' : 'ecdsabrp256r1']);
  const m = /^\+F4:\d+:\d+:([\d.]+):([\d.]+)/m.exec(out);
  if (!m) throw new Error(`unexpected openssl speed output: ${out}`);
  return { sign: Number(m[1]), verify: Number(m[2]) };
}

/** ECDH derivations per second on one core: `openssl speed ecdhp256` / `ecdhbrp256r1`. */
export function opensslEcdh(curve: 'P-256' | 'brainpoolP256r1'): number {
  const out = opensslSpeed([curve === 'P-256' ? 'ecdhp256' : 'ecdhbrp256r1']);
  const m = /^\+F5:\d+:\d+:([\d.]+):/m.exec(out);
  if (!m) throw new Error(`unexpected openssl speed output: ${out}`);
  return Number(m[1]);
}

/** Bytes per second of an EVP cipher for one block size: `openssl speed -evp CIPHER -bytes N`. */
export function opensslCipher(cipher: string, bytes: number): number {
  const out = opensslSpeed(['-bytes', String(bytes), '-evp', cipher]);
  const m = /^\+F:\d+:[^:]+:([\d.]+)/m.exec(out);
  if (!m) throw new Error(`unexpected openssl speed output: ${out}`);
  return Number(m[1]);
}

/** Approximate JSON response sizes of a TS.48 download session in bytes (bench/bareTlsServer.ts); handleNotification answers 204. */
export const FLOOR_RESPONSE_BYTES: Readonly<Record<string, number>> = {
  initiateAuthentication: 1_200,
  authenticateClient: 1_300,
  getBoundProfilePackage: 16_700,
};

/** Approximate JSON request sizes of the same session, in the order a device sends them. */
export const FLOOR_REQUESTS: readonly { readonly fn: string; readonly bytes: number }[] = [
  { fn: 'initiateAuthentication', bytes: 250 },
  { fn: 'authenticateClient', bytes: 1_900 },
  { fn: 'getBoundProfilePackage', bytes: 420 },
  { fn: 'handleNotification', bytes: 480 },
];
