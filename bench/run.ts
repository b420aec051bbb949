// `npm run bench [-- NAME...]`: every benchmark (or the named ones), each figure beside the native limit measured in the same run.
import { cpus } from 'node:os';
import { benchAka } from './aka.js';
import { benchAuc } from './auc.js';
import { benchBsp } from './bsp.js';
import { benchDownload } from './download.js';
import { benchEcdsa } from './ecdsa.js';
import { benchEim } from './eim.js';
import { benchEs2plus } from './es2plus.js';
import { benchProfiles } from './profiles.js';
import { benchStore } from './store.js';

const BENCHMARKS: Readonly<Record<string, (seconds: number) => void | Promise<void>>> = {
  aka: benchAka,
  ecdsa: benchEcdsa,
  bsp: benchBsp,
  store: () => benchStore(),
  download: () => benchDownload(),
  'download-attack': () => benchDownload({ attack: true }),
  'download-pg': () => benchDownload({ postgres: true }),
  'auc-api': benchAuc,
  profiles: benchProfiles,
  es2plus: benchEs2plus,
  eim: benchEim,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !Object.hasOwn(BENCHMARKS, name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}: choose from ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
const seconds = Number(process.env['MCIM_BENCH_SECONDS'] ?? '2');
console.log(`mcim benchmarks: node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${seconds}s per figure`);
console.log('(one core, one thread unless stated; ratio = mcim / limit)\n');
for (const [name, run] of Object.entries(BENCHMARKS)) {
  if (wanted.length === 0 || wanted.includes(name)) await run(seconds);
}
