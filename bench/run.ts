// `npm run bench [-- NAME...]`: every benchmark (or the named ones), each figure beside the native limit measured in the same run.
import { cpus } from 'node:os';
import { benchAka } from './aka.js';
import { benchAuc } from './auc.js';
import { benchBsp } from './bsp.js';
import { benchDownload, benchDownloadCompare } from './download.js';
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
  'download-compare': () => benchDownloadCompare(),
  'auc-api': benchAuc,
  profiles: benchProfiles,
  es2plus: benchEs2plus,
  eim: benchEim,
};

// `--devices N`: the eIM fleet operation's simulated devices (MCIM_BENCH_FLEET); `--parts issue,poll,fleet`: which of the eIM's (MCIM_BENCH_EIM).
const args = process.argv.slice(2);
const wanted: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--devices' || a === '--parts') {
    const v = args[++i];
    if (v === undefined || (a === '--devices' && !/^[1-9][0-9]{0,6}$/.test(v))) {
      console.error(`${a} needs a value (--devices: 1 to 9,999,999 devices; --parts: a list of issue, poll, fleet)`);
      process.exit(2);
    }
    process.env[a === '--devices' ? 'MCIM_BENCH_FLEET' : 'MCIM_BENCH_EIM'] = v;
  } else wanted.push(a);
}
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
