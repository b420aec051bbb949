// Profile stock: TS.48-size profiles personalized per CPU second (one core), stock rows written per second to SQLite, and
// the peak RSS of generating N and 10N profiles (each in its own process), each beside the limit measured in the same run.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { computeOpc } from '../src/crypto/milenage.js';
import { addProfileType } from '../src/smdpp/addProfileType.js';
import { generateStock, personalizeProfiles, RandomPool } from '../src/smdpp/generateProfiles.js';
import { planPersonalization, prepareTemplate } from '../src/smdpp/personalizeProfile.js';
import { checkProfileTypeRules } from '../src/smdpp/profileType.js';
import { openDatabase } from '../src/store/database.js';
import { ProfileStock } from '../src/store/profileStock.js';
import { SecretBox } from '../src/store/secretBox.js';
import { readFixture } from '../test/helpers/fixtures.js';
import { measure, opensslCipher, report } from './lib.js';

const TEMPLATE = readFixture('ts48', 'TS48V5-SAIP2-3-BERTLV-SUCI-UNIQUE.der');
const RULES = { op: '63bfa50ee6523365ff14c1f45f88737d', iccidPrefix: '8988', imsiPrefix: '00101' };
/** Profiles of the RSS runs: N and 10N. */
const RSS_N = 5_000;
/** Profiles written to SQLite for the store figure (and rows of the raw insert limit). */
const STORE_N = 10_000;

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

/** Personalized profiles per CPU second, for about `seconds`. */
function personalizeRate(seconds: number): number {
  const rules = checkProfileTypeRules(RULES);
  const plan = planPersonalization(prepareTemplate(TEMPLATE, rules), rules);
  let n = 0;
  const t = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  for (let round = 0; performance.now() < deadline; round++) {
    for (const p of personalizeProfiles(plan, rules, { count: 1000, iccidStart: `8988${String(round).padStart(14, '0')}`, imsiStart: '001010000000000' })) n += p.package.length > 0 ? 1 : 0;
  }
  return n / cpuSeconds(t);
}

/** The floor of personalization: copy the template, draw K (from the same pool), one AES for OPc (no patching, no codes, no checks). */
function copyLimitRate(seconds: number): number {
  const op = Buffer.from(RULES.op, 'hex');
  const random = new RandomPool();
  let n = 0;
  const t = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 1000; i++) {
      const copy = Buffer.allocUnsafe(TEMPLATE.length);
      TEMPLATE.copy(copy);
      n += computeOpc(random.bytes(16), op).length > 0 && copy.length > 0 ? 1 : 0;
    }
  }
  return n / cpuSeconds(t);
}

/** generateStock into a fresh SQLite database: rows per second (wall) and per CPU second. */
async function storeRate(count: number): Promise<{ wall: number; cpu: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'mcim-bench-stock-'));
  try {
    const db = await openDatabase({ engine: 'sqlite', file: join(dir, 'stock.sqlite') });
    const stock = new ProfileStock(db, new SecretBox(randomBytes(32)));
    await addProfileType(stock, { name: 'bench', operator: 'op', template: TEMPLATE, rules: RULES }, Date.now());
    const t = process.cpuUsage();
    const t0 = performance.now();
    await generateStock(stock, 'bench', { count, iccidStart: '898800000000000000', imsiStart: '001010000000000' }, Date.now());
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(t);
    await db.destroy();
    return { wall: count / wall, cpu: count / cpu };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The SQLite limit: rows of the same size (sealed package + sealed secrets) inserted raw, one prepared statement, 1000 per transaction. */
function rawInsertRate(count: number): { wall: number; cpu: number } {
  const dir = mkdtempSync(join(tmpdir(), 'mcim-bench-raw-'));
  try {
    const db = new BetterSqlite3(join(dir, 'raw.sqlite'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (iccid TEXT PRIMARY KEY, imsi TEXT NOT NULL UNIQUE, a TEXT, b TEXT, c TEXT, p BLOB NOT NULL, s BLOB NOT NULL, x INTEGER, y INTEGER)');
    db.exec('CREATE INDEX t1 ON t (a, c, iccid)');
    db.exec('CREATE INDEX t2 ON t (b, iccid)');
    const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const pkg = randomBytes(TEMPLATE.length + 29);
    const secrets = randomBytes(260);
    const batch = db.transaction((from: number) => {
      for (let i = from; i < from + 1000; i++) insert.run(`8988${String(i).padStart(15, '0')}`, `00101${String(i).padStart(10, '0')}`, 'bench', 'op', 'available', pkg, secrets, 0, 0);
    });
    const t = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < count; i += 1000) batch(i);
    const rate = { wall: count / ((performance.now() - t0) / 1000), cpu: count / cpuSeconds(t) };
    db.close();
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Peak RSS (MiB) of a fresh process generating `count` profiles into SQLite. */
function peakRss(count: number): number {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), 'rss', String(count)], { encoding: 'utf8', timeout: 600_000 });
  return Number(out.trim());
}

export async function benchProfiles(seconds: number): Promise<void> {
  const limit = copyLimitRate(seconds);
  report({ name: 'profiles personalized (TS.48, Milenage)', value: personalizeRate(seconds), unit: '/s/core', limitName: 'copy + K + OPc', limit });
  // Each stock row is two AES-256-GCM seals (package, secrets): priced against `openssl speed` of the same bytes.
  const box = new SecretBox(randomBytes(32));
  const pkg = randomBytes(TEMPLATE.length);
  const secrets = randomBytes(230);
  const seals = measure(() => {
    box.seal(pkg, 'stock_profiles:package:8988000000000000000');
    box.seal(secrets, 'stock_profiles:secrets:8988000000000000000');
  }, seconds);
  report({ name: 'seals of one stock row (package + secrets)', value: seals, unit: '/s', limitName: 'openssl aes-256-gcm, 16 KiB blocks', limit: opensslCipher('aes-256-gcm', 16384) / (pkg.length + secrets.length) });
  const raw = rawInsertRate(STORE_N);
  const stored = await storeRate(STORE_N);
  report({ name: `stock rows written (SQLite, ${STORE_N})`, value: stored.wall, unit: '/s', limitName: 'raw SQLite insert, same rows', limit: raw.wall });
  report({ name: '  same, per CPU second', value: stored.cpu, unit: '/s/core', limitName: 'raw SQLite insert, same rows', limit: raw.cpu });
  const small = peakRss(RSS_N);
  const large = peakRss(10 * RSS_N);
  report({ name: `peak RSS generating ${10 * RSS_N} profiles`, value: large, unit: 'MiB', limitName: `peak RSS for ${RSS_N}`, limit: small });
}

// Child process of peakRss: generates the profiles and prints its peak RSS in MiB.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'rss') {
  const count = Number(process.argv[3]);
  const dir = mkdtempSync(join(tmpdir(), 'mcim-bench-rss-'));
  try {
    const db = await openDatabase({ engine: 'sqlite', file: join(dir, 'stock.sqlite') });
    const stock = new ProfileStock(db, new SecretBox(randomBytes(32)));
    await addProfileType(stock, { name: 'bench', operator: 'op', template: TEMPLATE, rules: RULES }, Date.now());
    await generateStock(stock, 'bench', { count, iccidStart: '898800000000000000', imsiStart: '001010000000000' }, Date.now());
    await db.destroy();
    process.stdout.write(`${(process.resourceUsage().maxRSS / 1024).toFixed(1)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
