// Test harness: an SM-DP+ on 127.0.0.1 (random port) over HTTPS with a P-256 and a brainpool test PKI, and an ES9+ JSON client.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { certificateToPem, parseCertificate, type GsmaCertificate } from '../../src/pki/certificate.js';
import { makeEid } from '../../src/pki/eid.js';
import { issueTestPki, type TestPki } from '../../src/pki/testPki.js';
import { openDatabase, type DatabaseConfig } from '../../src/store/database.js';
import { SecretBox } from '../../src/store/secretBox.js';
import { SmdpStore } from '../../src/store/smdpStore.js';
import { createSmdpServer, ES9PLUS_PATH, type SmdpServer } from '../../src/smdpp/server.js';
import { openTestPkiKey, type SmdpDataDir } from '../../src/smdpp/dataDir.js';
import type { SmdpCredential } from '../../src/smdpp/context.js';
import type { NotificationResult } from '../../src/smdpp/es9plus/handleNotification.js';
import type { AbuseLimits } from '../../src/smdpp/rateLimit.js';
import type { Logger } from '../../src/http/logging.js';
import type { ServerMetrics } from '../../src/http/metrics.js';
import type { RevocationStore } from '../../src/smdpp/revocation.js';

/** The test PKI a data directory (`mcim serve`) holds, as the simulator wants it: the EUM and eUICC with their keys. */
export function pkiFromDir(data: SmdpDataDir, curveDir: 'p256' | 'brainpool'): TestPki {
  const pkiDir = data.pkiDirs[curveDir]!;
  const load = (entity: 'ci' | 'eum' | 'euicc') => {
    const der = readFileSync(join(pkiDir, `${entity}.der`));
    // Every key is encrypted at rest in a data directory; the simulator needs only the EUM's and the eUICC's.
    const privateKey = entity === 'ci' ? undefined : openTestPkiKey(data, curveDir, entity);
    return { entity, der, certificate: parseCertificate(der), privateKey };
  };
  const manifest = JSON.parse(readFileSync(join(pkiDir, 'pki.json'), 'utf8')) as { curve: TestPki['curve']; eid: string };
  return { curve: manifest.curve, eid: manifest.eid, ci: load('ci'), eum: load('eum'), euicc: load('euicc') } as unknown as TestPki;
}

export const SMDP_ADDRESS = 'testsmdpplus1.example.com';
export const SMDP_OID = '2.999.10';

export interface Es9Response {
  status: number;
  body: Record<string, unknown> & {
    header?: { functionExecutionStatus: { status: string; statusCodeData?: { subjectCode: string; reasonCode: string; message?: string } } };
  };
}

export function b64(b: Buffer): string {
  return b.toString('base64');
}

/** The call answered 200 with Executed-Success. */
export function assertSuccess(r: Es9Response): void {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.header?.functionExecutionStatus.status, 'Executed-Success', JSON.stringify(r.body));
}

/** The call failed with this subject code and reason code (SGP.22 5.2.6). */
export function assertFailed(r: Es9Response, subjectCode: string, reasonCode: string): void {
  assert.equal(r.body.header?.functionExecutionStatus.status, 'Failed', JSON.stringify(r.body));
  const data = r.body.header?.functionExecutionStatus.statusCodeData;
  assert.deepEqual([data?.subjectCode, data?.reasonCode], [subjectCode, reasonCode], data?.message);
}

export interface Harness {
  readonly p256: TestPki;
  readonly brainpool: TestPki;
  readonly server: SmdpServer;
  readonly store: SmdpStore;
  readonly notifications: NotificationResult[];
  /** The clock the SM-DP+ reads: tests move it. */
  now: number;
  /** An ES9+ call; `localAddress` (e.g. 127.0.0.2) makes it come from another source address. */
  call(fn: string, body: unknown, headers?: Record<string, string>, localAddress?: string): Promise<Es9Response>;
  close(): Promise<void>;
}

function credential(pki: TestPki): SmdpCredential {
  return {
    curve: pki.curve,
    ci: pki.ci.certificate,
    dpAuth: { certificate: pki.dpAuth.certificate, privateKey: pki.dpAuth.privateKey },
    dpPb: { certificate: pki.dpPb.certificate, privateKey: pki.dpPb.privateKey },
  };
}

let cachedPkis: { p256: TestPki; brainpool: TestPki } | undefined;

export function testPkis(): { p256: TestPki; brainpool: TestPki } {
  cachedPkis ??= {
    p256: issueTestPki({ curve: 'P-256', eid: makeEid('89049032', '1000000000000000000000000001'), smdpAddress: SMDP_ADDRESS, smdpOid: SMDP_OID }),
    brainpool: issueTestPki({ curve: 'brainpoolP256r1', eid: makeEid('89049032', '2000000000000000000000000002'), smdpAddress: SMDP_ADDRESS, smdpOid: SMDP_OID }),
  };
  return cachedPkis;
}

export async function startHarness(
  options: {
    useProfileProtectionKeys?: boolean;
    sessionTtlMs?: number;
    database?: DatabaseConfig;
    trustedCis?: GsmaCertificate[];
    certificateCacheBytes?: number;
    logger?: Logger;
    metrics?: ServerMetrics;
    limits?: Partial<AbuseLimits>;
    revocation?: RevocationStore;
  } = {},
): Promise<Harness> {
  const { p256, brainpool } = testPkis();
  const dir = mkdtempSync(join(tmpdir(), 'mcim-smdpp-'));
  const db = await openDatabase(options.database ?? { engine: 'sqlite', file: join(dir, 'mcim.sqlite') });
  const store = new SmdpStore(db, SecretBox.fromKeyFile(join(dir, 'secret.key')));
  const notifications: NotificationResult[] = [];
  const internalErrors: unknown[] = [];
  const harness = {
    p256,
    brainpool,
    store,
    notifications,
    now: Date.now(),
  } as Harness;
  const server = createSmdpServer({
    address: SMDP_ADDRESS,
    oid: SMDP_OID,
    credentials: [credential(p256), credential(brainpool)],
    store,
    tls: { key: p256.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: certificateToPem(p256.dpTls.der) },
    clock: () => harness.now,
    useProfileProtectionKeys: options.useProfileProtectionKeys ?? true,
    sessionTtlMs: options.sessionTtlMs,
    trustedCis: options.trustedCis,
    limits: options.limits,
    certificateCacheBytes: options.certificateCacheBytes,
    revocation: options.revocation,
    onNotification: (r) => notifications.push(r),
    onInternalError: (e) => internalErrors.push(e),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (server.app.server.address() as AddressInfo).port;
  const ca = certificateToPem(p256.ci.der);
  Object.assign(harness, {
    server,
    call(fn: string, body: unknown, headers: Record<string, string> = {}, localAddress?: string): Promise<Es9Response> {
      const payload = typeof body === 'string' ? body : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            servername: SMDP_ADDRESS,
            ca,
            ...(localAddress === undefined ? {} : { localAddress, agent: false }),
            method: 'POST',
            path: `${ES9PLUS_PATH}/${fn}`,
            headers: {
              'Content-Type': 'application/json',
              'X-Admin-Protocol': 'gsma/rsp/v2.5.0',
              'User-Agent': 'gsma-rsp-lpad',
              ...headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Es9Response['body']) });
            });
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    async close(): Promise<void> {
      await server.app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      if (internalErrors.length > 0) throw new Error(`internal errors: ${internalErrors.map(String).join('; ')}`);
    },
  });
  return harness;
}
