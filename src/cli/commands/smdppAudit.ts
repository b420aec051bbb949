// `mcim smdpp audit verify|list`: the hash-chained audit trail of profile state changes (src/store/auditLog.ts).
import type { Command } from 'commander';
import { parseWholeNumber } from '../wholeNumber.js';
import { initSmdpDataDir, openSmdpStore, requireSmdpDataDir } from '../../smdpp/dataDir.js';
import type { AuditRow, AuditVerification } from '../../store/auditLog.js';
import type { SmdpStore } from '../../store/smdpStore.js';

const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 100_000;

async function withStore<T>(dataDir: string, fn: (store: SmdpStore) => Promise<T>): Promise<T> {
  requireSmdpDataDir(dataDir);
  const store = await openSmdpStore(initSmdpDataDir(dataDir));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Recomputes the chain of the data directory's audit trail. */
function smdppAuditVerify(dataDir: string): Promise<AuditVerification> {
  return withStore(dataDir, (store) => store.audit.verify());
}

/** The last `limit` rows (of one order with `matchingId`), oldest first. */
function smdppAuditList(dataDir: string, options: { matchingId?: string; limit?: number } = {}): Promise<AuditRow[]> {
  return withStore(dataDir, (store) => store.audit.tail(options.limit ?? DEFAULT_LIST_LIMIT, options.matchingId));
}


function rowLine(r: AuditRow): string {
  return `${r.seq}\t${new Date(r.at).toISOString()}\torder ${r.orderRef}\ticcid ${r.iccid}\t${r.fromState ?? '-'} -> ${r.toState}\t${r.cause}`;
}

export function registerSmdppAudit(smdpp: Command): void {
  const audit = smdpp.command('audit').description('the audit trail of profile state changes (append-only, hash-chained)');
  audit
    .command('verify')
    .description('recompute the hash chain; exit 1 and name the first bad row if a row was altered, deleted or reordered')
    .option('--data <dir>', 'data directory', './data')
    .option('--json', 'print JSON')
    .action(async (o: { data: string; json?: boolean }) => {
      const r = await smdppAuditVerify(o.data);
      if (o.json === true) process.stdout.write(`${JSON.stringify({ ok: r.firstBad === undefined, ...r }, null, 2)}\n`);
      else if (r.firstBad === undefined) process.stdout.write(`audit trail intact: ${r.rows} rows, head ${r.head}\n`);
      else process.stdout.write(`audit trail BROKEN at row ${r.firstBad.seq}: ${r.firstBad.problem} (${r.rows} rows verified before it)\n`);
      if (r.firstBad !== undefined) process.exitCode = 1;
    });
  audit
    .command('list')
    .description('print the last rows of the audit trail (order references are SHA-256 of the matching ID, truncated)')
    .option('--data <dir>', 'data directory', './data')
    .option('--matching-id <id>', 'only the rows of this order')
    .option('--limit <n>', `rows to print (default ${DEFAULT_LIST_LIMIT})`)
    .option('--json', 'print JSON')
    .action(async (o: { data: string; matchingId?: string; limit?: string; json?: boolean }) => {
      const rows = await smdppAuditList(o.data, { matchingId: o.matchingId, limit: o.limit === undefined ? undefined : parseWholeNumber(o.limit, '--limit', 1, MAX_LIST_LIMIT) });
      process.stdout.write(o.json === true ? `${JSON.stringify(rows, null, 2)}\n` : rows.map((r) => `${rowLine(r)}\n`).join(''));
    });
}
