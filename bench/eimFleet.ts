// The simulated devices of bench/eim.ts's fleet operation, in their own process (SimulatedFleet, sealed state in memory): started with fork();
// 'create' personalises and associates N eUICCs and writes their registrations to a file; 'round' runs one IPAd cycle on every device. Each answer
// carries the process's memory.
import { createPublicKey } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { SimulatedFleet } from '../src/cli/commands/deviceSimulate.js';

interface Setup {
  readonly count: number;
  readonly pki: string;
  readonly keyPassphraseFile: string;
  readonly eim: string;
  readonly eimId: string;
  readonly eimPublicKeyPem: string;
  readonly ca: string;
  readonly port: number;
  readonly concurrency: number;
  readonly registrations: string;
}

let fleet: SimulatedFleet | undefined;
const baseline = process.memoryUsage().rss;

function memory(): { rss: number; heapUsed: number; baseline: number } {
  global.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, baseline };
}

process.on('message', (m: { op: 'create'; setup: Setup } | { op: 'round' }) => {
  void (async () => {
    if (m.op === 'create') {
      const s = m.setup;
      fleet = new SimulatedFleet({
        count: s.count,
        pki: s.pki,
        keyPassphraseFile: s.keyPassphraseFile,
        eim: s.eim,
        eimId: s.eimId,
        eimPublicKey: createPublicKey(s.eimPublicKeyPem),
        concurrency: s.concurrency,
        ipad: { binding: 'asn1', eimHttp: { ca: [s.ca], connect: { host: '127.0.0.1', port: s.port } } },
      });
      const begin = performance.now();
      const registrations = await fleet.create();
      const elapsed = (performance.now() - begin) / 1000;
      // Written a thousand lines at a time: at 100,000 devices one string of them all would be hundreds of MB.
      const fd = openSync(s.registrations, 'w');
      try {
        for (let i = 0; i < registrations.length; i += 1000) {
          const lines = registrations.slice(i, i + 1000).map((r) => `${JSON.stringify({ eid: r.eid, c: r.euiccCertificate.toString('base64'), m: r.eumCertificate.toString('base64'), t: r.associationToken })}\n`);
          writeSync(fd, lines.join(''));
        }
      } finally {
        closeSync(fd);
      }
      process.send!({ elapsed, sealedBytes: fleet.sealedBytes, memory: memory() });
    } else {
      const cpu = process.cpuUsage();
      const report = await fleet!.round();
      const used = process.cpuUsage(cpu);
      process.send!({ report, cpuS: (used.user + used.system) / 1e6, memory: memory() });
    }
  })().catch((e: unknown) => process.send!({ error: String(e) }));
});
