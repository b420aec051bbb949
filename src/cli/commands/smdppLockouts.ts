// `mcim smdpp lockouts`: the EIDs and sources locked out after matching-ID failures, and the sources after failed authentications (src/smdpp/rateLimit.ts), listed and cleared by the operator.
import type { Command } from 'commander';
import { McimError } from '../../errors.js';
import { initSmdpDataDir, openSmdpStore, requireSmdpDataDir } from '../../smdpp/dataDir.js';
import type { LockoutEntry } from '../../store/lockouts.js';

export interface LockoutReport {
  readonly key: string;
  readonly locked: boolean;
  /** ISO 8601, null when not locked. */
  readonly lockedUntil: string | null;
  readonly failures: number;
  readonly lockouts: number;
  readonly lastFailureAt: string;
}

function report(e: LockoutEntry): LockoutReport {
  return {
    key: e.key,
    locked: e.lockedUntil !== undefined,
    lockedUntil: e.lockedUntil === undefined ? null : new Date(e.lockedUntil).toISOString(),
    failures: e.failures,
    lockouts: e.lockouts,
    lastFailureAt: new Date(e.lastFailureAt).toISOString(),
  };
}

/** The entries of the data directory's SM-DP+ not yet expired, locked ones first. */
export async function smdppLockouts(dataDir: string, now = Date.now()): Promise<LockoutReport[]> {
  requireSmdpDataDir(dataDir);
  const store = await openSmdpStore(initSmdpDataDir(dataDir));
  try {
    return (await store.lockouts.list(now)).map(report);
  } finally {
    await store.close();
  }
}

/** Forgets KEY (its failures, lockout and lockout history); NOT_FOUND when there is no such entry. */
export async function smdppClearLockout(dataDir: string, key: string): Promise<void> {
  requireSmdpDataDir(dataDir);
  const store = await openSmdpStore(initSmdpDataDir(dataDir));
  try {
    if (!(await store.lockouts.clear(key))) throw new McimError('NOT_FOUND', `no lockout entry '${key}' (see mcim smdpp lockouts)`);
  } finally {
    await store.close();
  }
}

function text(entries: readonly LockoutReport[]): string {
  if (entries.length === 0) return 'no failures or lockouts\n';
  return entries
    .map((e) => `${e.key}  ${e.locked ? `locked until ${e.lockedUntil}` : 'not locked'}  failures in window ${e.failures}  lockouts ${e.lockouts}  last failure ${e.lastFailureAt}\n`)
    .join('');
}

export function registerSmdppLockouts(smdpp: Command): void {
  const lockouts = smdpp
    .command('lockouts')
    .description('list the EIDs (eid:<EID>) and source addresses (source:<address>) with matching-ID failures, locked ones first')
    .addHelpText('after', '\nExamples:\n  $ mcim smdpp lockouts --data ./data\n  $ mcim smdpp lockouts clear source:192.0.2.7 --data ./data')
    .option('--data <dir>', 'data directory', './data')
    .option('--json', 'print JSON')
    .action(async (o: { data: string; json?: boolean }) => {
      const entries = await smdppLockouts(o.data);
      process.stdout.write(o.json === true ? `${JSON.stringify(entries, null, 2)}\n` : text(entries));
    });
  lockouts
    .command('clear <key>')
    .description('lift the lockout of KEY and forget its failures (as listed: eid:<EID> or source:<address>); takes --data like lockouts')
    .action(async (key: string, _o: unknown, command: Command) => {
      // --data belongs to `lockouts` (commander parses a parent's options after the subcommand too).
      await smdppClearLockout(command.optsWithGlobals<{ data: string }>().data, key);
      process.stdout.write(`${key} cleared\n`);
    });
}
