// Test fixture, run as a program by test/smdpp/clusterHealth.test.ts (not a test itself): a cluster of HTTPS workers
// under runClusterPrimary. argv: <dir holding key.pem and cert.pem> <serve | crash> <primary options as JSON>.
// Workers answer GET /pid; GET /block pins the worker's event loop for a minute, as a pathological request would.
// In 'crash' mode every worker exits with code 3 right after it listens: a crash loop.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHttpsServer } from '../../src/http/server.js';
import { runClusterPrimary, runClusterWorker, type ClusterPrimaryOptions } from '../../src/smdpp/cluster.js';

const [dir, mode, json] = process.argv.slice(2) as [string, 'serve' | 'crash', string];

if (cluster.isPrimary) {
  const options = JSON.parse(json) as Omit<ClusterPrimaryOptions, 'onListening' | 'log'>;
  const primary = runClusterPrimary({
    ...options,
    onListening: (port) => process.stdout.write(`listening ${port}\n`),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.exitCode = await primary.done;
} else {
  await runClusterWorker(async () => {
    const app = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
    app.get('/pid', async () => ({ pid: process.pid }));
    app.get('/block', async () => {
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        // busy: nothing else runs in this process, heartbeat answers included
      }
      return { pid: process.pid };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    if (mode === 'crash') setTimeout(() => process.exit(3), 20);
    return { close: () => app.close() };
  });
}
