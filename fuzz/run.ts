// `npm run fuzz`: runs the ASN.1 mutation fuzzer (fuzz/fuzzer.ts) and exits non-zero on any finding.
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { formatParserLine, runFuzz } from './fuzzer.js';

const USAGE = `usage: node dist/fuzz/run.js [--seed N] [--iterations N] [--seconds S] [--smoke] [--only NAME]... [--out DIR]

  --seed N         PRNG seed (default: random, printed so a run can be repeated)
  --iterations N   inputs per parser (default 1000000; --smoke: 2000)
  --seconds S      time cap per parser
  --only NAME      only parsers whose name contains NAME (repeatable)
  --out DIR        where findings are written (default fuzz-findings)`;

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`${name} must be a non-negative integer\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        seed: { type: 'string' },
        iterations: { type: 'string' },
        seconds: { type: 'string' },
        smoke: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        out: { type: 'string', default: 'fuzz-findings' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const seed = positiveInt('--seed', args.seed, randomInt(0, 2 ** 31));
  const iterations = positiveInt('--iterations', args.iterations, args.smoke ? 2000 : 1_000_000);
  const seconds = args.seconds === undefined ? undefined : positiveInt('--seconds', args.seconds, 0);
  process.stdout.write(`fuzz seed ${seed} (repeat with --seed ${seed}), ${iterations} inputs per parser\n`);
  const started = performance.now();
  const report = await runFuzz({
    seed,
    iterations,
    seconds,
    only: args.only,
    onParser: (r) => process.stdout.write(`${formatParserLine(r)}\n`),
  });
  const findings = report.parsers.flatMap((p) => p.findings);
  const total = report.parsers.reduce((n, p) => n + p.inputs, 0);
  process.stdout.write(`${report.parsers.length} parsers, ${total} inputs, ${((performance.now() - started) / 1000).toFixed(1)} s, ${findings.length} findings\n`);
  if (findings.length === 0) return 0;
  mkdirSync(args.out, { recursive: true });
  findings.forEach((f, i) => {
    const file = `${args.out}/${f.parser}-${i}.hex`;
    writeFileSync(file, `${f.inputHex}\n`);
    const preview = f.inputHex.length > 4096 ? `${f.inputHex.slice(0, 4096)}... (${f.inputHex.length / 2} bytes, full input in ${file})` : f.inputHex;
    process.stdout.write(`\nFINDING ${f.parser} (${f.kind}, ${f.milliseconds.toFixed(1)} ms): ${f.error}\ninput: ${preview}\n`);
  });
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fuzzer crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
