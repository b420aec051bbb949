// `mcim smdpp audit verify|list` on a data directory: an intact trail, then a tampered one (exit 1, the first bad row named).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { smdppImport, smdppRelease } from '../../src/cli/commands/smdpp.js';
import { orderRef } from '../../src/store/auditLog.js';
import { fixturePath } from '../helpers/fixtures.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const PROFILE = fixturePath('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
const dir = mkdtempSync(join(tmpdir(), 'mcim-audit-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function mcim(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

describe('mcim smdpp audit', () => {
  it('verify reports an intact trail, list prints it; after tampering verify exits 1 naming the first bad row', async () => {
    const data = join(dir, 'data');
    await smdppImport(PROFILE, { matchingId: 'AUDITCLIORDER0000000000001', data });
    await smdppImport(PROFILE, { matchingId: 'AUDITCLIORDER0000000000002', unreleased: true, data });
    await smdppRelease('AUDITCLIORDER0000000000002', data);

    const ok = await mcim(['smdpp', 'audit', 'verify', '--data', data]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^audit trail intact: 3 rows, head [0-9a-f]{64}\n$/);

    const list = await mcim(['smdpp', 'audit', 'list', '--data', data, '--matching-id', 'AUDITCLIORDER0000000000002']);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, new RegExp(`^2\\t\\S+\\torder ${orderRef('AUDITCLIORDER0000000000002')}\\ticcid \\d+\\t- -> confirmed\\torder imported$`));
    assert.match(lines[1]!, /\tconfirmed -> released\torder released$/);
    assert.ok(!list.stdout.includes('AUDITCLIORDER'));
    assert.equal((await mcim(['smdpp', 'audit', 'list', '--data', data, '--limit', '0'])).code, 2);

    const db = new BetterSqlite3(join(data, 'mcim.sqlite'));
    db.prepare("UPDATE smdp_audit_log SET cause = 'nothing to see' WHERE seq = 2").run();
    db.close();
    const broken = await mcim(['smdpp', 'audit', 'verify', '--data', data, '--json']);
    assert.equal(broken.code, 1);
    const report = JSON.parse(broken.stdout) as { ok: boolean; rows: number; firstBad: { seq: number; problem: string } };
    assert.equal(report.ok, false);
    assert.equal(report.rows, 1);
    assert.deepEqual(report.firstBad, { seq: 2, problem: 'the row does not match its hash (altered)' });
  });
});
