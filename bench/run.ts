// `npm run bench`: every benchmark, each figure beside the native limit measured in the same run.
import { cpus } from 'node:os';
import { benchAka } from './aka.js';
import { benchBsp } from './bsp.js';
import { benchEcdsa } from './ecdsa.js';

const seconds = Number(process.env['MCIM_BENCH_SECONDS'] ?? '2');
console.log(`mcim benchmarks: node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${seconds}s per figure`);
console.log('(one core, one thread; ratio = mcim / limit)\n');
benchAka(seconds);
benchEcdsa(seconds);
benchBsp(seconds);
