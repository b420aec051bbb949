// The transport floor of the download benchmark: a bare node:https server (no SM-DP+ logic, no database) answering
// the four ES9+ requests of a session with bodies of their sizes, behind a P-256 TLS certificate like CERT.DP.TLS.
// Started by bench/download.ts; prints its port and the CI certificate (PEM, base64) that anchors its TLS certificate.
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { certificateToPem } from '../src/pki/certificate.js';
import { issueTestPki } from '../src/pki/testPki.js';
import { FLOOR_RESPONSE_BYTES } from './lib.js';

function main(): void {
  const pki = issueTestPki();
  const bodies = new Map(Object.entries(FLOOR_RESPONSE_BYTES).map(([fn, n]) => [fn, Buffer.from(JSON.stringify({ x: 'A'.repeat(n - 8) }))]));
  const server = createServer({ key: pki.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: certificateToPem(pki.dpTls.der) }, (req, res) => {
    let length = 0;
    req.on('data', (c: Buffer) => {
      length += c.length;
    });
    req.on('end', () => {
      const body = bodies.get((req.url ?? '').split('/').at(-1) ?? '');
      if (length === 0 || body === undefined) {
        res.writeHead(204, { 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' }).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Admin-Protocol': 'gsma/rsp/v2.5.0', 'Content-Length': body.length }).end(body);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`bare ${port} ${Buffer.from(certificateToPem(pki.ci.der)).toString('base64')} ${pki.smdpAddress}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main();
