// SGP.32 v1.2 ESipa inject mode (TransferEimPackage), the IPAd's HTTPS listener: the ASN.1 binding (6.1-6.3: POST /gsma/rsp2/asn1, application/x-gsma-rsp-asn1) served to the eIM only, authenticated by its TLS client certificate; one package on the eUICC at a time.
import { checkServerIdentity, type TLSSocket } from 'node:tls';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getEimConfigurationData } from './es10b/getEimConfigurationData.js';
import { removeNotificationFromList } from './es10b/removeNotificationFromList.js';
import { getEid } from './es10c/getEid.js';
import type { Es10Client } from './es10Client.js';
import { IpaError } from './errors.js';
import { EsipaClient } from './esipa/esipaClient.js';
import { provideEimPackageResult } from './esipa/provideEimPackageResult.js';
import { transferEimPackage, type TransferContext } from './esipa/transferEimPackage.js';
import { ipaEuiccData, profileDownload, type IpadOptions } from './ipad.js';

/** The largest push accepted (as the eIM bounds its own ESipa requests); larger: 413 before the body is read. */
export const MAX_PUSH_BYTES = 257 * 1024;
/** How long a push may take to arrive (headers and body). */
export const PUSH_RECEIVE_TIMEOUT_MS = 10_000;
/** Connections the listener holds at once (the eIM pushes one package at a time). */
export const MAX_CONNECTIONS = 16;
/** Pushes waiting for the eUICC at most; more: 503. */
export const MAX_WAITING_PUSHES = 4;

export interface PushListenerOptions {
  /** The IPAd's TLS server credentials (PEM). */
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** Trust anchors the eIM's client certificate must chain to (PEM). */
  readonly eimCa: readonly (string | Buffer)[];
  /** The name the eIM's client certificate must carry (default: the FQDN of the eUICC's eIM). */
  readonly eimName?: string;
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Where the results of packages taken for later (download triggers) go: the IPAd's eIM, bindings, SM-DP+ trust. */
  readonly ipad?: IpadOptions;
  readonly onProgress?: (step: string, detail: string) => void;
}

export interface PushListener {
  readonly port: number;
  /** Resolves once every push taken so far, and the work it left for later, is done. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Listens for TransferEimPackage. TLS: a client certificate chaining to `eimCa` is required (the handshake fails
 * without one) and must name the eIM (`eimName`, else the eIM's FQDN: 403 otherwise). HTTP: only POST
 * /gsma/rsp2/asn1 (404), `application/x-gsma-rsp-asn1` (415), at most MAX_PUSH_BYTES (413, before reading when the
 * length is declared), within PUSH_RECEIVE_TIMEOUT_MS; pushes run one at a time on the eUICC, at most
 * MAX_WAITING_PUSHES waiting (503 beyond: the eIM keeps the package for later).
 */
export async function startPushListener(es10: Es10Client, o: PushListenerOptions): Promise<PushListener> {
  const progress = o.onProgress ?? (() => undefined);
  const eid = Buffer.from(await getEid(es10), 'hex');
  const configs = await getEimConfigurationData(es10);
  let wanted: string | undefined;
  try {
    wanted = o.ipad?.eim === undefined ? undefined : new URL(o.ipad.eim).hostname.toLowerCase();
  } catch {
    throw new IpaError('INVALID_ARGUMENT', `'${o.ipad?.eim ?? ''}' is not a URL`);
  }
  const config = configs.length === 1 ? configs[0]! : configs.find((c) => wanted !== undefined && c.eimFqdn?.replace(/:\d+$/, '').toLowerCase() === wanted);
  if (config === undefined) throw new IpaError('INVALID_ARGUMENT', `the eUICC has ${configs.length} associated eIMs: give the eIM's URL`);
  // The eimFqdn may carry a port: the certificate names the host.
  const eimName = o.eimName ?? config.eimFqdn?.replace(/:\d+$/, '');
  if (eimName === undefined) throw new IpaError('INVALID_ARGUMENT', "the eIM has no FQDN on the eUICC: give the name its client certificate carries");
  const eimUrl = o.ipad?.eim ?? `https://${config.eimFqdn ?? eimName}`;

  // One package on the eUICC at a time: a chain of tasks, bounded.
  let chain: Promise<void> = Promise.resolve();
  let waiting = 0;
  const serialized = <T>(task: () => Promise<T>): Promise<T> => {
    waiting++;
    const run = chain.then(task);
    chain = run.then(
      () => void waiting--,
      () => void waiting--,
    );
    return run;
  };

  const ctx: TransferContext = {
    es10,
    eimId: config.eimId,
    configs,
    taken: new Set(),
    ipaEuiccData: (der) => ipaEuiccData(es10, der, config.eimId, configs, o.ipad?.indirect === true),
    later: (der) => {
      void serialized(async () => {
        const client = new EsipaClient(eimUrl, o.ipad?.binding ?? 'asn1', o.ipad?.eimHttp);
        try {
          const result = await profileDownload(es10, der, o.ipad?.smdpHttp, progress, o.ipad?.indirect === true ? client : undefined);
          const acknowledged = await provideEimPackageResult(client, eid, result.der);
          for (const seq of acknowledged) await removeNotificationFromList(es10, seq).catch(() => undefined);
          progress('push', `profileDownloadTriggerRequest: ${result.outcome}, provided (acknowledged ${acknowledged.join(', ') || 'none'})`);
        } catch (e) {
          progress('push', `the download trigger's result stays on the eUICC: ${e instanceof Error ? e.message : String(e)}`);
        } finally {
          client.close();
        }
      });
    },
  };

  const server: Server = createServer(
    { key: o.key, cert: o.cert, ca: [...o.eimCa], requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    (req, res) => void handle(req, res),
  );
  server.headersTimeout = PUSH_RECEIVE_TIMEOUT_MS;
  server.requestTimeout = PUSH_RECEIVE_TIMEOUT_MS;
  server.maxHeadersCount = 32;
  server.maxConnections = MAX_CONNECTIONS;

  const refuse = (res: ServerResponse, status: number): void => {
    res.writeHead(status, { Connection: 'close', 'Content-Length': '0' }).end();
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    if (!socket.authorized || checkServerIdentity(eimName!, peer) !== undefined) {
      progress('push', `refused: the client certificate does not name ${eimName!}`);
      return refuse(res, 403);
    }
    if (req.method !== 'POST' || req.url !== '/gsma/rsp2/asn1') return refuse(res, 404);
    if ((req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() !== 'application/x-gsma-rsp-asn1') return refuse(res, 415);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > MAX_PUSH_BYTES) {
      progress('push', `refused: ${declared} bytes, more than ${MAX_PUSH_BYTES}`);
      return refuse(res, 413);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_PUSH_BYTES) {
          progress('push', `refused: more than ${MAX_PUSH_BYTES} bytes`);
          return refuse(res, 413);
        }
        chunks.push(chunk);
      }
    } catch {
      return undefined;
    }
    if (waiting >= MAX_WAITING_PUSHES) return refuse(res, 503);
    try {
      const answer = await serialized(() => transferEimPackage(ctx, Buffer.concat(chunks)));
      progress('push', answer.outcome);
      res.writeHead(200, { 'Content-Type': 'application/x-gsma-rsp-asn1', 'X-Admin-Protocol': 'gsma/rsp/v2.5.0', 'Content-Length': String(answer.der.length) }).end(answer.der);
    } catch (e) {
      progress('push', `failed: ${e instanceof Error ? e.message : String(e)}`);
      refuse(res, 500);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    idle: async () => {
      // Work queued while waiting (a trigger's download) extends the chain: wait until it stops growing.
      for (let seen = chain; ; seen = chain) {
        await seen;
        if (seen === chain) return;
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
