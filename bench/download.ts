// SGP.22 3.1.3 download sessions end to end on 127.0.0.1: `mcim serve --workers 2` (child process) against software eUICCs
// in device processes (bench/downloadDevice.ts), each session one fresh eUICC over one TLS connection, initiateAuthentication
// through handleNotification of the installation result. Figures: sessions/s, latency, SM-DP+ CPU per session, and
// sessions per SM-DP+ CPU-second beside the bound of the server's public-key operations measured by `openssl speed`.
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initSmdpDataDir, openSmdpStore, openTestPkiKey } from '../src/smdpp/dataDir.js';
import { importProfile } from '../src/smdpp/importProfile.js';
import { parseCertificate } from '../src/pki/certificate.js';
import { sql } from 'kysely';
import { openDatabase, postgresConfig } from '../src/store/database.js';
import type { AttackCommand, AttackKind, AttackReply } from './attacker.js';
import type { DeviceCommand, DeviceReply } from './downloadDevice.js';
import { opensslEcdh, opensslEcdsa, report } from './lib.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/**
 * The device processes' script. MCIM_BENCH_DEVICE_SCRIPT runs another build's (e.g. an older commit's dist/bench/
 * downloadDevice.js) so that two builds of the SM-DP+ are compared with the same device code: the devices share the
 * machine's cores with the SM-DP+, and heavier devices raise the SM-DP+'s CPU per session too.
 */
const DEVICE_SCRIPT = process.env['MCIM_BENCH_DEVICE_SCRIPT'] ?? fileURLToPath(new URL('./downloadDevice.js', import.meta.url));
const BARE_SERVER_SCRIPT = fileURLToPath(new URL('./bareTlsServer.js', import.meta.url));
const ATTACKER_SCRIPT = fileURLToPath(new URL('./attacker.js', import.meta.url));
/** The transport floor phase: as many sessions and lanes as the busiest measured phase. */
const FLOOR = { warmUp: 300, sessions: 1500, concurrency: 32, capMs: 15_000 };
const PROFILE = fileURLToPath(new URL('../../test/fixtures/ts48/TS48V2-SAIP2-1-BERTLV-UNIQUE.der', import.meta.url));
const SERVER_WORKERS = 2;
/** The whole benchmark (setup, every phase, teardown) stops starting sessions after this. */
const TOTAL_CAP_MS = 100_000;

interface Phase {
  readonly name: string;
  readonly sessions: number;
  readonly concurrency: number;
  readonly deviceProcesses: number;
  readonly capMs: number;
  readonly measured: boolean;
  /** Run while the attackers (bench/attacker.ts) attack the SM-DP+ from other loopback addresses. */
  readonly underAttack?: boolean;
}

const PHASES: readonly Phase[] = [
  // Long enough for both sides' code to reach its optimised steady state (a production SM-DP+ runs warm).
  { name: 'warm-up', sessions: 600, concurrency: 16, deviceProcesses: 2, capMs: 15_000, measured: false },
  { name: 'sequential', sessions: 300, concurrency: 1, deviceProcesses: 1, capMs: 12_000, measured: true },
  { name: '8 concurrent', sessions: 800, concurrency: 8, deviceProcesses: 2, capMs: 15_000, measured: true },
  { name: '32 concurrent', sessions: 1500, concurrency: 32, deviceProcesses: 2, capMs: 20_000, measured: true },
];

/** `download-attack`: the same sessions without, then with, the attackers in the background. */
const ATTACK_PHASES: readonly Phase[] = [
  { name: 'warm-up', sessions: 600, concurrency: 16, deviceProcesses: 2, capMs: 15_000, measured: false },
  { name: '32 concurrent', sessions: 1200, concurrency: 32, deviceProcesses: 2, capMs: 20_000, measured: true },
  { name: '32 under attack', sessions: 1200, concurrency: 32, deviceProcesses: 2, capMs: 30_000, measured: true, underAttack: true },
];

/** Each attacker from its own loopback source address (the SM-DP+'s caps and lockouts are per source; the devices are 127.0.0.1). */
const ATTACKERS: readonly { readonly kind: AttackKind; readonly localAddress: string }[] = [
  { kind: 'flood', localAddress: '127.0.0.2' },
  { kind: 'hold', localAddress: '127.0.0.3' },
  { kind: 'sizes', localAddress: '127.0.0.4' },
];
/** The hold attacker opens its connections this long before the sessions start. */
const ATTACK_LEAD_MS = 2_000;

// ---- CPU accounting from /proc ----

const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The fields of /proc/<pid>/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of a process (0 once it is gone). */
function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  return f === undefined ? 0 : (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** System (kernel) CPU seconds of a process. */
function sysSeconds(pid: number): number {
  const f = statFields(pid);
  return f === undefined ? 0 : Number(f[12]) / CLK_TCK;
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((p) => statFields(p)?.[1] === String(pid));
}

/** Busy and total CPU seconds of the machine (all cores) from /proc/stat. */
function machineSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

// ---- child processes ----

const children = new Set<ChildProcess>();
const killAll = (): void => {
  for (const c of children) {
    if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) continue;
    for (const w of childrenOf(c.pid)) {
      try {
        process.kill(w, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    c.kill('SIGKILL');
  }
};

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

interface Server {
  readonly child: ChildProcess;
  readonly port: number;
  /** The Prometheus endpoint's port (`--metrics-port 0`: chosen by the system). */
  readonly metricsPort: number;
  stderr(): string;
  /** Lines the SM-DP+ wrote to standard output (its JSON log) after it started. */
  logLines(): number;
  /** The last few KB of its standard output (its JSON log). */
  stdoutTail(): string;
}

/**
 * Starts the SM-DP+ in its measured configuration: JSON logs on standard output at the default level (read and
 * discarded here, so that the pipe never blocks it), metrics on, the default limits; resolves once every worker listens.
 */
function startServer(dataDir: string, workers = SERVER_WORKERS, db?: string, build: { readonly main: string; readonly metrics: boolean } = { main: MAIN, metrics: true }): Promise<Server> {
  // e.g. MCIM_BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the primary and its workers.
  const nodeArgs = (process.env['MCIM_BENCH_SERVER_NODE_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');
  const child = spawn(
    process.execPath,
    [...nodeArgs, build.main, 'serve', '--data', dataDir, '--listen', '127.0.0.1', '--port', '0', '--workers', String(workers), ...(build.metrics ? ['--metrics-port', '0'] : []), ...(db === undefined ? [] : ['--db', db])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let out = '';
  let started = false;
  let lines = 0;
  let tail = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    if (err.length < 64 * 1024) err += c.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the SM-DP+ did not start within 15 s: ${err}`)), 15_000);
    child.stdout!.on('data', (c: Buffer) => {
      if (started) {
        for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++;
        tail = (tail + c.toString()).slice(-8192);
        return;
      }
      out += c.toString();
      // With several workers the primary prints the usage text, then "(N worker processes)" once they listen; a single
      // process serves itself and its usage text ends with the download command.
      const m = (workers > 1 ? /https:\/\/127\.0\.0\.1:(\d+)\/[\s\S]*worker processes/ : /https:\/\/127\.0\.0\.1:(\d+)\/[\s\S]*--connect 127\.0\.0\.1:\d+\n/).exec(out);
      const metrics = build.metrics ? /^metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics$/m.exec(out) : ['', '0'];
      if (m && metrics) {
        started = true;
        out = '';
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), metricsPort: Number(metrics[1]), stderr: () => err, logLines: () => lines, stdoutTail: () => tail });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the SM-DP+ exited (${code}): ${err}`));
    });
  });
}

/** Starts bench/bareTlsServer.ts; resolves with its port, the CI (PEM) anchoring its TLS certificate and its address. */
function startBareServer(): Promise<{ child: ChildProcess; port: number; ca: string; address: string }> {
  const child = spawn(process.execPath, [BARE_SERVER_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bare TLS server did not start within 15 s')), 15_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^bare (\d+) ([A-Za-z0-9+/=]+) (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), ca: Buffer.from(m[2]!, 'base64').toString('utf8'), address: m[3]! });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the bare TLS server exited (${code})`));
    });
  });
}

/** An attacker process (bench/attacker.ts) that has started its attack, and its result once it stops. */
interface Attacker {
  readonly child: ChildProcess;
  readonly kind: AttackKind;
  readonly localAddress: string;
  readonly result: Promise<Extract<AttackReply, { type: 'result' }>>;
}

async function startAttacker(kind: AttackKind, localAddress: string, target: Omit<Extract<AttackCommand, { type: 'start' }>, 'type' | 'kind' | 'localAddress'>): Promise<Attacker> {
  const child = fork(ATTACKER_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const replies = (type: AttackReply['type'], ms: number): Promise<AttackReply> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`attacker ${kind}: no '${type}' within ${ms} ms`)), ms);
      child.on('message', (m: AttackReply) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        resolve(m);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`attacker ${kind} exited (${code})`));
      });
    });
  const started = replies('started', 15_000);
  const result = replies('result', target.durationMs + 30_000) as Promise<Extract<AttackReply, { type: 'result' }>>;
  result.catch(() => undefined);
  child.send({ type: 'start', kind, localAddress, ...target } satisfies AttackCommand);
  await started;
  return { child, kind, localAddress, result };
}

/** Resident memory of processes in MB (VmRSS; 0 for one that is gone). */
function rssMb(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

/** A device process and a way to wait for its next reply. */
interface DeviceProcess {
  readonly child: ChildProcess;
  send(command: DeviceCommand): void;
  next<T extends DeviceReply['type']>(type: T, ms: number): Promise<Extract<DeviceReply, { type: T }>>;
}

function startDevice(): DeviceProcess {
  const child = fork(DEVICE_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const queue: DeviceReply[] = [];
  let exitCode: number | null | undefined;
  let wake: (() => void) | undefined;
  child.on('message', (m: DeviceReply) => {
    queue.push(m);
    wake?.();
  });
  child.once('exit', (code) => {
    exitCode = code;
    wake?.();
  });
  return {
    child,
    send: (command) => child.send(command),
    next: (type, ms) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          wake = undefined;
          reject(new Error(`device process: no '${type}' within ${ms} ms`));
        }, ms);
        const check = (): void => {
          const m = queue.shift();
          if (m === undefined && exitCode === undefined) {
            wake = check;
            return;
          }
          wake = undefined;
          clearTimeout(timer);
          if (m === undefined) reject(new Error(`device process exited (${exitCode})`));
          else if (m.type === type) resolve(m as Extract<DeviceReply, { type: typeof type }>);
          else reject(new Error(`device process: '${m.type}' where '${type}' was due`));
        };
        check();
      }),
  };
}

// ---- figures ----

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** CPU-seconds of one session's public-key operations on the SM-DP+, at `openssl speed` rates on one core. */
function serverCryptoSeconds(): { seconds: number; es9Seconds: number; text: string } {
  // Best of three: other load on the machine only ever lowers `openssl speed`, and the bound is the machine's.
  const runs = [0, 1, 2].map(() => ({ ecdsa: opensslEcdsa('P-256'), ecdh: opensslEcdh('P-256') }));
  const ecdsa = { sign: Math.max(...runs.map((r) => r.ecdsa.sign)), verify: Math.max(...runs.map((r) => r.ecdsa.verify)) };
  const ecdh = Math.max(...runs.map((r) => r.ecdh));
  // ES9+: serverSignature1, smdpSignature2, smdpSign (3 signs); EUM and eUICC certificates, euiccSignature1,
  // euiccSignature2, euiccSignPIR (5 verifies); the one-time key pair (counted as 1 sign) and its ECKA (1 ECDH).
  // TLS: the handshake's ECDHE (1 ECDH) and CertificateVerify with the TLS key (1 sign).
  // What the SM-DP+ does in steady state for the ceiling: 4 verifies (the cached EUM certificate's is checked once).
  const es9Seconds = (3 + 1) / ecdsa.sign + 4 / ecdsa.verify + 1 / ecdh;
  const signs = 3 + 1 + 1;
  const verifies = 5;
  const ecdhs = 1 + 1;
  const seconds = signs / ecdsa.sign + verifies / ecdsa.verify + ecdhs / ecdh;
  const text =
    `openssl speed P-256 (best of 3): ${Math.round(ecdsa.sign)} signs/s, ${Math.round(ecdsa.verify)} verifies/s, ${Math.round(ecdh)} ECDH/s; ` +
    `per session ${signs} signs + ${verifies} verifies + ${ecdhs} ECDH = ${(seconds * 1000).toFixed(3)} ms`;
  return { seconds, es9Seconds, text };
}

interface PhaseResult {
  readonly phase: Phase;
  readonly completed: number;
  readonly failures: number;
  readonly firstError?: string;
  readonly elapsedS: number;
  readonly latencies: number[];
  readonly serverCpuS: number;
  readonly serverSysS: number;
  readonly deviceCpuS: number;
  readonly machineBusyS: number;
  readonly machineTotalS: number;
}

function serverPids(primary: number): number[] {
  return [primary, ...childrenOf(primary)];
}

/** Runs one phase's sessions; `before` runs once the eUICCs are prepared, just before the measurement starts. */
async function runPhase(phase: Phase, ids: readonly string[], devices: readonly DeviceProcess[], serverPid: number, before?: () => Promise<void>): Promise<PhaseResult> {
  const used = devices.slice(0, phase.deviceProcesses);
  used.forEach((d, i) => d.send({ type: 'prepare', matchingIds: ids.filter((_, k) => k % used.length === i) }));
  for (const d of used) await d.next('prepared', 60_000);
  await before?.();
  const pids = serverPids(serverPid);
  const server0 = pids.reduce((a, p) => a + cpuSeconds(p), 0);
  const serverSys0 = pids.reduce((a, p) => a + sysSeconds(p), 0);
  const device0 = used.reduce((a, d) => a + cpuSeconds(d.child.pid!), 0);
  const machine0 = machineSeconds();
  const t0 = performance.now();
  used.forEach((d, i) => {
    const lanes = Math.floor(phase.concurrency / used.length) + (i < phase.concurrency % used.length ? 1 : 0);
    d.send({ type: 'run', concurrency: lanes, deadlineMs: phase.capMs });
  });
  const results = await Promise.all(used.map((d) => d.next('result', phase.capMs + 60_000)));
  const elapsedS = (performance.now() - t0) / 1000;
  const server1 = serverPids(serverPid).reduce((a, p) => a + cpuSeconds(p), 0);
  const serverSys1 = serverPids(serverPid).reduce((a, p) => a + sysSeconds(p), 0);
  const device1 = used.reduce((a, d) => a + cpuSeconds(d.child.pid!), 0);
  const machine1 = machineSeconds();
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const firstError = results.find((r) => r.firstError !== undefined)?.firstError;
  return {
    phase,
    completed: latencies.length,
    failures: results.reduce((a, r) => a + r.failures, 0),
    ...(firstError === undefined ? {} : { firstError }),
    elapsedS,
    latencies,
    serverCpuS: server1 - server0,
    serverSysS: serverSys1 - serverSys0,
    deviceCpuS: device1 - device0,
    machineBusyS: machine1.busy - machine0.busy,
    machineTotalS: machine1.total - machine0.total,
  };
}

/** One line of the phase table. */
function printRow(r: PhaseResult): void {
  const cores = r.machineTotalS / r.elapsedS;
  const otherS = r.machineBusyS - r.serverCpuS - r.deviceCpuS;
  console.log(
    `${r.phase.name.padEnd(15)} ${String(r.completed).padStart(8)} ${String(r.failures).padStart(6)} ${(r.completed / r.elapsedS).toFixed(1).padStart(10)} ` +
      `${percentile(r.latencies, 0.5).toFixed(1).padStart(9)} ${percentile(r.latencies, 0.99).toFixed(1).padStart(8)} ` +
      `${`${((r.serverCpuS * 1000) / Math.max(1, r.completed)).toFixed(2)} (${((100 * r.serverSysS) / Math.max(r.serverCpuS, 1e-9)).toFixed(0)}% sys)`.padStart(21)} ${((r.deviceCpuS * 1000) / Math.max(1, r.completed)).toFixed(2).padStart(21)}  ` +
      `${((100 * r.machineBusyS) / r.machineTotalS).toFixed(0)}% of ${cores.toFixed(0)} cores (${((100 * Math.max(0, otherS)) / r.machineTotalS).toFixed(0)}% other)`,
  );
  if (r.firstError !== undefined) console.log(`  first failure: ${r.firstError}`);
}

/** The same sessions' TLS handshakes and four requests against a server that does nothing else. */
async function runFloor(devices: readonly DeviceProcess[]): Promise<PhaseResult & { serverPid: number }> {
  const bare = await startBareServer();
  const run = (sessions: number): Promise<Extract<DeviceReply, { type: 'result' }>[]> => {
    devices.forEach((d, i) => {
      const share = (total: number): number => Math.floor(total / devices.length) + (i < total % devices.length ? 1 : 0);
      d.send({
        type: 'floor',
        sessions: share(sessions),
        concurrency: share(FLOOR.concurrency),
        deadlineMs: FLOOR.capMs,
        ca: bare.ca,
        address: bare.address,
        connect: { host: '127.0.0.1', port: bare.port },
      });
    });
    return Promise.all(devices.map((d) => d.next('result', FLOOR.capMs + 60_000)));
  };
  try {
    // Warm like the SM-DP+ it is compared with.
    await run(FLOOR.warmUp);
    const pid = bare.child.pid!;
    const server0 = cpuSeconds(pid);
    const serverSys0 = sysSeconds(pid);
    const device0 = devices.reduce((a, d) => a + cpuSeconds(d.child.pid!), 0);
    const machine0 = machineSeconds();
    const t0 = performance.now();
    const results = await run(FLOOR.sessions);
    const elapsedS = (performance.now() - t0) / 1000;
    const machine1 = machineSeconds();
    const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const firstError = results.find((r) => r.firstError !== undefined)?.firstError;
    return {
      phase: { name: 'transport floor', sessions: FLOOR.sessions, concurrency: FLOOR.concurrency, deviceProcesses: devices.length, capMs: FLOOR.capMs, measured: false },
      completed: latencies.length,
      failures: results.reduce((a, r) => a + r.failures, 0),
      ...(firstError === undefined ? {} : { firstError }),
      elapsedS,
      latencies,
      serverCpuS: cpuSeconds(pid) - server0,
      serverSysS: sysSeconds(pid) - serverSys0,
      deviceCpuS: devices.reduce((a, d) => a + cpuSeconds(d.child.pid!), 0) - device0,
      machineBusyS: machine1.busy - machine0.busy,
      machineTotalS: machine1.total - machine0.total,
      serverPid: pid,
    };
  } finally {
    bare.child.kill('SIGTERM');
    await exited(bare.child, 5_000);
  }
}

/** What the attackers did and what the SM-DP+'s memory did while they ran. */
interface AttackReport {
  readonly attackers: readonly (Extract<AttackReply, { type: 'result' }> & { readonly localAddress: string; readonly cpuS: number })[];
  readonly rssBeforeMb: number;
  readonly rssPeakMb: number;
  readonly rssAfterMb: number;
  readonly logLines: number;
  readonly metrics: string;
}

/** Runs an attack phase: the attackers start ATTACK_LEAD_MS before its sessions and stop when they end. */
async function runAttackPhase(phase: Phase, ids: readonly string[], devices: readonly DeviceProcess[], server: Server, target: Omit<Extract<AttackCommand, { type: 'start' }>, 'type' | 'kind' | 'localAddress' | 'durationMs'>): Promise<{ result: PhaseResult; attack: AttackReport }> {
  const serverPid = server.child.pid!;
  let attackers: Attacker[] = [];
  let rssBeforeMb = 0;
  let rssPeakMb = 0;
  let logLines0 = 0;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const result = await runPhase(phase, ids, devices, serverPid, async () => {
      rssBeforeMb = rssMb(serverPids(serverPid));
      rssPeakMb = rssBeforeMb;
      logLines0 = server.logLines();
      sampler = setInterval(() => {
        rssPeakMb = Math.max(rssPeakMb, rssMb(serverPids(serverPid)));
      }, 250);
      // The attackers stop by themselves at the latest after the phase's time cap.
      const durationMs = ATTACK_LEAD_MS + phase.capMs + 5_000;
      attackers = await Promise.all(ATTACKERS.map((a) => startAttacker(a.kind, a.localAddress, { ...target, durationMs })));
      await new Promise((resolve) => setTimeout(resolve, ATTACK_LEAD_MS));
    });
    for (const a of attackers) a.child.send({ type: 'stop' } satisfies AttackCommand);
    const results = await Promise.all(attackers.map(async (a) => ({ ...(await a.result), localAddress: a.localAddress, cpuS: cpuSeconds(a.child.pid!) })));
    clearInterval(sampler);
    const rssAfterMb = rssMb(serverPids(serverPid));
    let metrics = '';
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      metrics = text
        .split('\n')
        .filter((line) => /^mcim_(es9_calls_total|security_events_total|rate_limit_hits_total|store_errors_total|http_connections_active)\b/.test(line))
        .join('\n');
    } catch (e) {
      metrics = `(metrics endpoint: ${e instanceof Error ? e.message : String(e)})`;
    }
    return { result, attack: { attackers: results, rssBeforeMb, rssPeakMb, rssAfterMb, logLines: server.logLines() - logLines0, metrics } };
  } finally {
    clearInterval(sampler);
    for (const a of attackers) if (a.child.connected) a.child.disconnect();
  }
}

function printAttack(a: AttackReport, seconds: number): void {
  const what: Readonly<Record<AttackKind, string>> = {
    flood: 'InitiateAuthentication requests (valid EUICCInfo1, 16 keep-alive connections)',
    hold: 'connections opened (96 TLS with a stalled body, 96 TCP without a ClientHello, each reopened 0.5 s after it closes)',
    sizes: 'requests of hostile sizes (2 keep-alive connections)',
  };
  console.log(`\nattackers during '32 under attack' (each from its own loopback address; their CPU is in "other load" above):`);
  for (const r of a.attackers) {
    console.log(`  ${r.kind} from ${r.localAddress}: ${r.requests} ${what[r.kind]} in ${(r.elapsedMs / 1000).toFixed(1)} s (${(r.requests / (r.elapsedMs / 1000)).toFixed(0)}/s), attacker CPU ${r.cpuS.toFixed(1)} s`);
    const rows = Object.entries(r.outcomes).sort((x, y) => y[1] - x[1]);
    for (const [outcome, n] of rows.slice(0, 24)) console.log(`    ${String(n).padStart(7)}  ${outcome}`);
    if (rows.length > 24) console.log(`    ... ${rows.length - 24} more outcomes`);
  }
  console.log(
    `SM-DP+ RSS (primary + workers): ${a.rssBeforeMb.toFixed(0)} MB before the attack, peak ${a.rssPeakMb.toFixed(0)} MB, ${a.rssAfterMb.toFixed(0)} MB after; ` +
      `${a.logLines} JSON log lines on standard output during the attack (${(a.logLines / seconds).toFixed(0)}/s)`,
  );
  console.log(`metrics after the attack:\n${a.metrics.split('\n').map((l) => `  ${l}`).join('\n')}`);
}

/**
 * The SM-DP+ (`mcim serve --workers N`, its store SQLite or the PostgreSQL `db`) with `orders` orders of the TS.48
 * profile imported, and two device processes ready to download from it.
 */
async function setUp(tmp: string, cleanup: string[], orders: number, workers: number, db?: string) {
    const dataDir = join(tmp, 'smdp');
    const server = await startServer(dataDir, workers, db);
    const data = initSmdpDataDir(dataDir);

    const profile = readFileSync(PROFILE);
    const t = performance.now();
    const store = await openSmdpStore(data, db === undefined ? undefined : postgresConfig(db));
    try {
      for (let i = 0; i < orders; i++) await importProfile(store, profile, { matchingId: `BENCH-${i}`, allowShortMatchingId: true }, Date.now());
    } finally {
      await store.close();
    }
    const importMs = performance.now() - t;

    // The eUICCs' sealed state files (each still written, fsynced and renamed) go to memory when the machine has a tmpfs:
    // the devices stand in for separate machines, whose flash writes are not the SM-DP+'s cost. MCIM_BENCH_DEVICE_DIR overrides.
    const deviceStateDir = mkdtempSync(join(process.env['MCIM_BENCH_DEVICE_DIR'] ?? (existsSync('/dev/shm') ? '/dev/shm' : tmp), 'mcim-bench-euicc-'));
    cleanup.push(deviceStateDir);
    const devices = [startDevice(), startDevice()];
    for (const d of devices) {
      d.send({ type: 'setup', pkiDir: data.pkiDirs.p256!, eumKeyPem: openTestPkiKey(data, 'p256', 'eum').export({ type: 'pkcs8', format: 'pem' }) as string, stateDir: deviceStateDir, ca: readFileSync(data.ciCertificateFiles.p256!, 'utf8'), connect: { host: '127.0.0.1', port: server.port }, address: data.address });
    }
    for (const d of devices) await d.next('ready', 30_000);

  return { server, data, devices, profileBytes: profile.length, importMs, deviceStateDir };
}

/** Stops the devices and the SM-DP+, and prints what it wrote to stderr or why it stopped early. */
async function tearDown(server: Server, devices: readonly DeviceProcess[]): Promise<void> {
    for (const d of devices) d.send({ type: 'exit' });
    await Promise.all(devices.map((d) => exited(d.child, 5_000)));
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      console.log(
        `the SM-DP+ exited during the benchmark (${server.child.exitCode ?? server.child.signalCode}); its stderr:\n${server.stderr()}\nthe end of its log:\n` +
          server.stdoutTail().split('\n').slice(-15).join('\n'),
      );
    }
    server.child.kill('SIGTERM');
    if (!(await exited(server.child, 10_000))) console.log('download: the SM-DP+ did not stop within 10 s on SIGTERM');
    const errors = server
      .stderr()
      .split('\n')
      .filter((line) => line.trim() !== '' && !/^mcim serve: SIG(TERM|INT): stopping/.test(line))
      .join('\n');
    if (errors !== '') console.log(`SM-DP+ stderr:\n${errors.split('\n').slice(0, 10).join('\n')}`);
}

/** `download-pg`: the phases run once per worker count, each against a fresh PostgreSQL schema. */
const PG_PHASES: readonly Phase[] = [
  { name: 'warm-up', sessions: 600, concurrency: 16, deviceProcesses: 2, capMs: 15_000, measured: false },
  { name: '32 concurrent', sessions: 1200, concurrency: 32, deviceProcesses: 2, capMs: 20_000, measured: true },
];
const PG_WORKERS = [1, 2] as const;
/** The PostgreSQL server the benchmark uses (a schema of its own, dropped after), e.g. the CI's at 127.0.0.1:5432. */
const BENCH_PG_URL = process.env['MCIM_BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * `download-pg`: the same download sessions with the store on PostgreSQL, served by one worker process and then by two
 * (issue 9: the scale-out ratio). The SM-DP+ CPU per session is its own processes' (PostgreSQL's backends are in
 * "other load"); the devices share the machine's two cores with both, so two workers cannot double the rate here.
 */
async function benchDownloadPostgres(): Promise<void> {
  const crypto = serverCryptoSeconds();
  const bound = 1 / crypto.seconds;
  console.log(`\nSGP.22 download sessions end to end with the store on PostgreSQL (${BENCH_PG_URL.replace(/^postgres:\/\/[^@]*@/, '')}), 1 and 2 worker processes`);
  console.log(crypto.text);
  const results: { workers: number; r: PhaseResult }[] = [];
  for (const workers of PG_WORKERS) {
    const tmp = mkdtempSync(join(tmpdir(), 'mcim-bench-download-pg-'));
    const cleanup = [tmp];
    const schema = `mcim_bench_${process.pid}_${workers}`;
    const db = `${BENCH_PG_URL}?schema=${schema}`;
    try {
      const { server, devices } = await setUp(tmp, cleanup, PG_PHASES.reduce((a, p) => a + p.sessions, 0), workers, db);
      console.log(`mcim serve --workers ${workers} --db ...?schema=${schema}`);
      console.log(
        `${'phase'.padEnd(15)} ${'sessions'.padStart(8)} ${'failed'.padStart(6)} ${'sessions/s'.padStart(10)} ${'median ms'.padStart(9)} ${'p99 ms'.padStart(8)} ` +
          `${'server CPU ms/session'.padStart(21)} ${'device CPU ms/session'.padStart(21)}  machine busy (other load)`,
      );
      let next = 0;
      for (const phase of PG_PHASES) {
        const r = await runPhase(phase, Array.from({ length: phase.sessions }, () => `BENCH-${next++}`), devices, server.child.pid!);
        printRow(r);
        if (phase.measured) results.push({ workers, r });
      }
      await tearDown(server, devices);
    } finally {
      killAll();
      for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
      const store = await openDatabase(postgresConfig(db));
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(store);
      await store.destroy();
    }
  }
  console.log('');
  for (const { workers, r } of results) {
    report({ name: `download PostgreSQL, ${workers} worker(s): sessions/SM-DP+ CPU-s`, value: r.completed / Math.max(r.serverCpuS, 1e-9), unit: 'sessions/s', limitName: 'openssl P-256 ops of a session', limit: bound });
  }
  const [one, two] = results;
  if (one !== undefined && two !== undefined) {
    const rate = (x: PhaseResult): number => x.completed / x.elapsedS;
    console.log(
      `download PostgreSQL scale-out: ${rate(one.r).toFixed(1)} sessions/s with 1 worker, ${rate(two.r).toFixed(1)} with 2: ratio ${(rate(two.r) / rate(one.r)).toFixed(2)} ` +
        `(limit 2.00 with idle cores; here the devices and PostgreSQL share the same 2 cores)`,
    );
  }
}

/** `download` (options.attack false) or `download-attack`: the same sessions, then again with attackers in the background. */
export async function benchDownload(options: { readonly attack?: boolean; readonly postgres?: boolean } = {}): Promise<void> {
  const phases = options.attack === true ? ATTACK_PHASES : PHASES;
  if (process.platform !== 'linux') {
    console.log('download: skipped (reads process CPU times from /proc)');
    return;
  }
  if (options.postgres === true) return benchDownloadPostgres();
  const started = Date.now();
  const crypto = serverCryptoSeconds();
  const bound = 1 / crypto.seconds;
  const tmp = mkdtempSync(join(tmpdir(), 'mcim-bench-download-'));
  const cleanup = [tmp];
  const onExit = (): void => killAll();
  process.on('exit', onExit);
  // Interrupted: the children (servers on loopback, devices) and the directories (one in /dev/shm) go too.
  const onSignal = (signal: NodeJS.Signals): void => {
    killAll();
    for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { server, data, devices, profileBytes, importMs, deviceStateDir } = await setUp(tmp, cleanup, phases.reduce((a, p) => a + p.sessions, 0), SERVER_WORKERS);
    const serverPid = server.child.pid!;

    const total = phases.reduce((a, p) => a + p.sessions, 0);
    console.log(`\nSGP.22 download sessions end to end (mcim serve --workers ${SERVER_WORKERS}, TS.48 profile ${profileBytes} bytes, P-256, 127.0.0.1)`);
    console.log(`${total} orders imported in ${(importMs / 1000).toFixed(1)} s; each session: a fresh eUICC, one TLS connection, initiateAuthentication .. handleNotification`);
    console.log(`eUICC state files in ${deviceStateDir}`);
    console.log(crypto.text);
    console.log(
      `${'phase'.padEnd(15)} ${'sessions'.padStart(8)} ${'failed'.padStart(6)} ${'sessions/s'.padStart(10)} ${'median ms'.padStart(9)} ${'p99 ms'.padStart(8)} ` +
        `${'server CPU ms/session'.padStart(21)} ${'device CPU ms/session'.padStart(21)}  machine busy (other load)`,
    );
    let next = 0;
    const measured: PhaseResult[] = [];
    let attack: AttackReport | undefined;
    let attackSeconds = 0;
    let plainLogLines = '';
    for (const phase of phases) {
      if (Date.now() - started > TOTAL_CAP_MS - phase.capMs) {
        console.log(`${phase.name}: skipped (time cap)`);
        continue;
      }
      const ids = Array.from({ length: phase.sessions }, () => `BENCH-${next++}`);
      let r: PhaseResult;
      if (phase.underAttack === true) {
        const ci = readFileSync(data.ciCertificateFiles.p256!, 'utf8');
        const ciKeyId = parseCertificate(readFileSync(join(data.pkiDirs.p256!, 'ci.der'))).subjectKeyIdentifier!.toString('hex');
        const run = await runAttackPhase(phase, ids, devices, server, { connect: { host: '127.0.0.1', port: server.port }, address: data.address, ca: ci, ciKeyId });
        r = run.result;
        attack = run.attack;
        attackSeconds = r.elapsedS + ATTACK_LEAD_MS / 1000;
      } else {
        const lines0 = server.logLines();
        r = await runPhase(phase, ids, devices, serverPid);
        if (options.attack === true && phase.measured) plainLogLines = `${server.logLines() - lines0} JSON log lines during '${phase.name}'`;
      }
      printRow(r);
      if (phase.measured) measured.push(r);
    }
    if (attack !== undefined) {
      printAttack(attack, attackSeconds);
      console.log(`(${plainLogLines}; the server CPU per session under attack includes what the SM-DP+ spent on the attackers)`);
    }
    // The floor: what TLS and HTTP alone cost both sides for the same sessions, measured now on this machine.
    const floor = Date.now() - started > TOTAL_CAP_MS - FLOOR.capMs ? undefined : await runFloor(devices);
    if (floor === undefined) console.log('transport floor: skipped (time cap)');
    else printRow(floor);
    console.log('');
    for (const r of measured) {
      report({
        name: `download ${r.phase.name}: sessions/SM-DP+ CPU-s`,
        value: r.completed / Math.max(r.serverCpuS, 1e-9),
        unit: 'sessions/s',
        limitName: 'openssl P-256 ops of a session',
        limit: bound,
      });
    }
    if (floor !== undefined) {
      report({
        name: 'transport floor: sessions/server CPU-s',
        value: floor.completed / Math.max(floor.serverCpuS, 1e-9),
        unit: 'sessions/s',
        limitName: 'openssl P-256 ops of a session',
        limit: bound,
      });
      console.log(
        `  (bare node:https server, the same TLS handshake and four requests of a session's sizes, no SM-DP+ work: ` +
          `the SM-DP+ can reach at most this ratio in this runtime; end to end ${(floor.completed / floor.elapsedS).toFixed(1)} sessions/s)`,
      );
      // The floor (its TLS handshake included) plus the ES9+ cryptography at openssl speed: an SM-DP+ with no other cost.
      const ceiling = 1 / (floor.serverCpuS / Math.max(1, floor.completed) + crypto.es9Seconds);
      console.log(
        `  transport floor + the ES9+ cryptography at openssl speed (4 signs, 4 verifies, 1 ECDH: ${(crypto.es9Seconds * 1000).toFixed(3)} ms): ` +
          `at most ${Math.round(ceiling)} sessions per server CPU-second, ratio ${(ceiling / bound).toFixed(2)}`,
      );
    }
    const best = measured.reduce<PhaseResult | undefined>((b, r) => (b === undefined || r.completed / r.elapsedS > b.completed / b.elapsedS ? r : b), undefined);
    if (best !== undefined) {
      console.log(`download end to end: ${(best.completed / best.elapsedS).toFixed(1)} sessions/s (${best.phase.name}; target 300/s, SM-DP+ and devices sharing the machine)`);
    }
    await tearDown(server, devices);
  } finally {
    killAll();
    process.removeListener('exit', onExit);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
  }
}

// ---- download-compare: this build beside another, in the same minutes ----

/** What the other build's modules offer for setting up its data directory (the names all builds so far share). */
interface OtherBuild {
  initSmdpDataDir(dir: string): { readonly pkiDirs: Readonly<Record<string, string | undefined>>; readonly ciCertificateFiles: Readonly<Record<string, string | undefined>>; readonly address: string };
  openSmdpStore(data: unknown): Promise<{ close(): Promise<void> }>;
  importProfile(store: unknown, profile: Buffer, options: { matchingId: string; allowShortMatchingId: boolean }, now: number): Promise<unknown>;
  /** Builds that encrypt their test keys at rest export it; older ones keep eum.key.pem in clear. */
  openTestPkiKey?(data: unknown, curve: string, entity: string): { export(o: { type: 'pkcs8'; format: 'pem' }): string | Buffer };
}

const COMPARE = { rounds: 6, sessions: 600, concurrency: 16, capMs: 60_000, warmupRounds: 1, maxWarmupRounds: 20 };

/** Warm-up rounds before the measured ones (MCIM_BENCH_COMPARE_WARMUP, default 1): more let both builds' JIT settle. */
function compareWarmupRounds(): number {
  const given = process.env['MCIM_BENCH_COMPARE_WARMUP'];
  if (given === undefined || given === '') return COMPARE.warmupRounds;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 0 || n > COMPARE.maxWarmupRounds) throw new Error(`MCIM_BENCH_COMPARE_WARMUP is 0 to ${COMPARE.maxWarmupRounds} rounds, got ${given}`);
  return n;
}

/** A server of one build with its two device processes. */
interface ComparedServer {
  readonly name: string;
  readonly server: Server;
  readonly devices: readonly DeviceProcess[];
  next: number;
}

async function setUpBuild(name: string, root: string, tmp: string, cleanup: string[], orders: number, own: boolean): Promise<ComparedServer> {
  const dataDir = join(tmp, name);
  const server = await startServer(dataDir, SERVER_WORKERS, undefined, { main: join(root, 'dist/src/cli/main.js'), metrics: own });
  const modules: OtherBuild = own
    ? { initSmdpDataDir, openSmdpStore: (d) => openSmdpStore(d as Parameters<typeof openSmdpStore>[0]), importProfile: (s, p, o, n) => importProfile(s as Parameters<typeof importProfile>[0], p, o, n), openTestPkiKey: (d, c, e) => openTestPkiKey(d as Parameters<typeof openTestPkiKey>[0], c, e as Parameters<typeof openTestPkiKey>[2]) }
    : { ...((await import(join(root, 'dist/src/smdpp/dataDir.js'))) as Pick<OtherBuild, 'initSmdpDataDir' | 'openSmdpStore' | 'openTestPkiKey'>), ...((await import(join(root, 'dist/src/smdpp/importProfile.js'))) as Pick<OtherBuild, 'importProfile'>) };
  const data = modules.initSmdpDataDir(dataDir);
  const store = await modules.openSmdpStore(data);
  const profile = readFileSync(PROFILE);
  try {
    for (let i = 0; i < orders; i++) await modules.importProfile(store, profile, { matchingId: `BENCH-${i}`, allowShortMatchingId: true }, Date.now());
  } finally {
    await store.close();
  }
  const eumKeyPem = modules.openTestPkiKey === undefined ? readFileSync(join(data.pkiDirs['p256']!, 'eum.key.pem'), 'utf8') : String(modules.openTestPkiKey(data, 'p256', 'eum').export({ type: 'pkcs8', format: 'pem' }));
  const stateDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmp, `mcim-bench-compare-${name}-`));
  cleanup.push(stateDir);
  const devices = [startDevice(), startDevice()];
  for (const d of devices) {
    d.send({ type: 'setup', pkiDir: data.pkiDirs['p256']!, eumKeyPem, stateDir, ca: readFileSync(data.ciCertificateFiles['p256']!, 'utf8'), connect: { host: '127.0.0.1', port: server.port }, address: data.address });
  }
  for (const d of devices) await d.next('ready', 30_000);
  return { name, server, devices, next: 0 };
}

/** One round: each server serves COMPARE.sessions sessions, both at once; each one's CPU per session from /proc. */
async function compareRound(servers: readonly ComparedServer[]): Promise<number[]> {
  for (const s of servers) {
    s.devices.forEach((d) => d.send({ type: 'prepare', matchingIds: Array.from({ length: COMPARE.sessions / s.devices.length }, () => `BENCH-${s.next++}`) }));
  }
  for (const s of servers) for (const d of s.devices) await d.next('prepared', 60_000);
  const cpu = (s: ComparedServer): number => serverPids(s.server.child.pid!).reduce((a, p) => a + cpuSeconds(p), 0);
  const cpu0 = servers.map(cpu);
  for (const s of servers) for (const d of s.devices) d.send({ type: 'run', concurrency: COMPARE.concurrency / s.devices.length, deadlineMs: COMPARE.capMs });
  const results = await Promise.all(servers.map((s) => Promise.all(s.devices.map((d) => d.next('result', COMPARE.capMs + 60_000)))));
  // Read once both have finished: the server that finished first idles meanwhile, which costs it no CPU.
  const cpu1 = servers.map(cpu);
  return servers.map((s, i) => {
    const done = results[i]!.reduce((a, r) => a + r.latencies.length, 0);
    const failed = results[i]!.reduce((a, r) => a + r.failures, 0);
    if (failed > 0) throw new Error(`${s.name}: ${failed} sessions failed: ${results[i]!.find((r) => r.firstError !== undefined)?.firstError ?? ''}`);
    return ((cpu1[i]! - cpu0[i]!) * 1000) / done;
  });
}

/** One line of the compare table: the round, both builds' CPU ms per session, their ratio. */
function printCompareRound(label: string, mine: number, theirs: number, note = ''): void {
  console.log(`${label.padEnd(6)} ${mine.toFixed(2).padStart(21)} ${theirs.toFixed(2).padStart(22)} ${(mine / theirs).toFixed(3).padStart(10)}${note}`);
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * `download-compare` (MCIM_BENCH_COMPARE=another checkout, built): this build's SM-DP+ and the other's served side by
 * side, loaded at once by the same device code, round after round; the ratio of their CPU per session is read in the
 * same minutes, so a machine that speeds up or slows down between runs (this one varies by a third) moves both alike.
 * This build runs in its measured configuration (metrics on, JSON logs, default limits); the other as it starts.
 */
export async function benchDownloadCompare(): Promise<void> {
  const other = process.env['MCIM_BENCH_COMPARE'];
  if (other === undefined || process.platform !== 'linux') {
    console.log('download-compare: skipped (set MCIM_BENCH_COMPARE to another built checkout, e.g. a git worktree of an older commit; Linux only)');
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'mcim-bench-compare-'));
  const cleanup = [tmp];
  const onExit = (): void => killAll();
  process.on('exit', onExit);
  try {
    const warmup = compareWarmupRounds();
    const orders = (COMPARE.rounds + warmup) * COMPARE.sessions;
    const mine = await setUpBuild('this', fileURLToPath(new URL('../..', import.meta.url)), tmp, cleanup, orders, true);
    const theirs = await setUpBuild('other', other, tmp, cleanup, orders, false);
    console.log(`\nSGP.22 download sessions, this build beside ${other} (each: mcim serve --workers ${SERVER_WORKERS}, ${COMPARE.concurrency} sessions at once, both loaded at once)`);
    console.log(`${'round'.padEnd(6)} ${'this: CPU ms/session'.padStart(21)} ${'other: CPU ms/session'.padStart(22)} ${'this/other'.padStart(10)}`);
    for (let round = 1; round <= warmup; round++) {
      const [a, b] = await compareRound([mine, theirs]);
      printCompareRound(`w${round}`, a!, b!, '  (warm-up, not counted)');
    }
    const ratios: number[] = [];
    const mineMs: number[] = [];
    const theirsMs: number[] = [];
    for (let round = 1; round <= COMPARE.rounds; round++) {
      // Which server's devices start first alternates.
      const [a, b] = round % 2 === 1 ? await compareRound([mine, theirs]) : (await compareRound([theirs, mine])).reverse();
      mineMs.push(a!);
      theirsMs.push(b!);
      ratios.push(a! / b!);
      printCompareRound(String(round), a!, b!);
    }
    console.log(`this/other: median ${median(ratios).toFixed(3)}, from ${Math.min(...ratios).toFixed(3)} to ${Math.max(...ratios).toFixed(3)} over ${COMPARE.rounds} rounds`);
    report({ name: 'download CPU per session beside another build', value: median(mineMs), unit: 'ms/session', limitName: `the other build's, same rounds; ratio of medians`, limit: median(theirsMs) });
    for (const s of [mine, theirs]) await tearDown(s.server, s.devices);
  } finally {
    killAll();
    process.off('exit', onExit);
    for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
  }
}
