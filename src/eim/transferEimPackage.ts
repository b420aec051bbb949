// SGP.32 v1.2 ESipa.TransferEimPackage (inject mode, BF4E): the eIM pushes a device's queued package to its IPAd over HTTPS (the IPAd serves the ASN.1 binding, the eIM authenticated by its TLS client certificate) and stores the result the response carries as ProvideEimPackageResult would.
import { request } from 'node:https';
import { isIP } from 'node:net';
import { EsipaMessageFromIpaToEim, TransferEimPackageRequest, type TransferEimPackageResponse } from '../asn1/definitions/sgp32.js';
import { Asn1Error } from '../asn1/errors.js';
import { decode, encode } from '../asn1/schema.js';
import { decodeTlv, encodeTlv } from '../asn1/tlv.js';
import type { PackageKind } from '../store/eimStore.js';
import type { EimContext } from './context.js';
import { eidBytes } from './euiccPackageRequest.js';
import { EimError } from './errors.js';
import { provideEimPackageResult } from './provideEimPackageResult.js';

/** How long a push may take, the eUICC's work included (default). */
export const DEFAULT_PUSH_TIMEOUT_MS = 60_000;
/** The largest response the eIM reads (as the eIM's own ESipa server bounds requests). */
export const MAX_PUSH_RESPONSE_BYTES = 257 * 1024;

export interface PushOptions {
  /** The eIM's TLS client credentials (PEM): the IPAd authenticates the eIM by them. */
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** Trust anchors for the IPAd's server certificate (PEM). */
  readonly ca: readonly (string | Buffer)[];
  /** Connect there instead of the push address's host (tests on loopback). */
  readonly connect?: { readonly host: string; readonly port: number };
  readonly timeoutMs?: number;
}

export type PushOutcome =
  /** Nothing queued for the device. */
  | { readonly status: 'none' }
  /** Executed: the response's result stored (as ProvideEimPackageResult), the acknowledgements pushed back. */
  | { readonly status: 'result'; readonly eimTransactionId: string; readonly kind: PackageKind; readonly acknowledged: readonly number[]; readonly acknowledgementsDelivered: boolean }
  /** eimPackageReceived: the IPAd delivers the result later (ProvideEimPackageResult); the package stays open. */
  | { readonly status: 'received'; readonly eimTransactionId: string; readonly kind: PackageKind }
  /** eimPackageError: the IPAd could not take the package; it failed with that code. */
  | { readonly status: 'error'; readonly eimTransactionId: string; readonly kind: PackageKind; readonly eimPackageError: number }
  /** A transport failure (no connection, TLS refused, timeout, HTTP status, unreadable answer): the package stays queued. */
  | { readonly status: 'undelivered'; readonly eimTransactionId: string; readonly kind: PackageKind; readonly reason: string };

const KIND_TAGS: Readonly<Record<PackageKind, string>> = { euiccPackage: 'euiccPackageRequest', ipaEuiccData: 'ipaEuiccDataRequest', profileDownloadTrigger: 'profileDownloadTriggerRequest' };

/** One POST of the ASN.1 binding to the IPAd: its answer's body, or a transport failure's reason. */
function post(address: string, message: Buffer, o: PushOptions): Promise<{ body: Buffer } | { reason: string }> {
  const url = new URL('/gsma/rsp2/asn1', address);
  const timeoutMs = o.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: { body: Buffer } | { reason: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = request(
      {
        host: o.connect?.host ?? url.hostname.replace(/^\[|\]$/g, ''),
        port: o.connect?.port ?? (url.port === '' ? 443 : Number(url.port)),
        ...(isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0 ? { servername: url.hostname } : {}),
        path: url.pathname,
        method: 'POST',
        key: o.key,
        cert: o.cert,
        ca: [...o.ca],
        minVersion: 'TLSv1.2',
        agent: false,
        headers: {
          Host: url.host,
          'Content-Type': 'application/x-gsma-rsp-asn1',
          'X-Admin-Protocol': 'gsma/rsp/v2.5.0',
          'Content-Length': String(message.length),
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          done({ reason: `HTTP status ${String(res.statusCode)}` });
          req.destroy();
          return;
        }
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (declared > MAX_PUSH_RESPONSE_BYTES) {
          done({ reason: `a response of ${declared} bytes, more than ${MAX_PUSH_RESPONSE_BYTES}` });
          req.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_PUSH_RESPONSE_BYTES) {
            done({ reason: `a response of more than ${MAX_PUSH_RESPONSE_BYTES} bytes` });
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => done({ body: Buffer.concat(chunks) }));
        res.on('error', (e) => done({ reason: e.message }));
      },
    );
    const timer = setTimeout(() => {
      done({ reason: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => done({ reason: e.message }));
    req.end(message);
  });
}

/** The TransferEimPackageResponse's chosen element (BF51, 30, BF52, 05 or 02), decoded and as received. */
function responseOf(body: Buffer): { value: TransferEimPackageResponse; raw: Buffer } | undefined {
  try {
    const value = decodeResponse(body);
    return value === undefined ? undefined : { value, raw: Buffer.from(decodeTlv(body).children![0]!.raw) };
  } catch (e) {
    if (e instanceof Asn1Error) return undefined;
    throw e;
  }
}

function decodeResponse(body: Buffer): TransferEimPackageResponse | undefined {
  const message = decode(EsipaMessageFromIpaToEim, body);
  return message.type === 'transferEimPackageResponse' ? message.value : undefined;
}

/**
 * Pushes the device's oldest open package (the one GetEimPackage would hand out, marked sent the same way) to its
 * push address, byte for byte as issued inside BF4E, and handles the IPAd's TransferEimPackageResponse:
 * - euiccPackageResult, ePRAndNotifications, ipaEuiccDataResponse: stored by provideEimPackageResult (signatures
 *   verified, registry updated; its EimErrors propagate, the package then stays open); the sequence numbers stored are
 *   pushed back as EimAcknowledgements (BF4E BF53) so the IPAd removes them from the eUICC;
 * - eimPackageReceived: the package stays open until the IPAd's ProvideEimPackageResult;
 * - eimPackageError: the package fails with that code;
 * - anything else, or no answer (connection, TLS, timeout, HTTP status, size): undelivered, the package stays open
 *   for retrieve mode or a later push. An IPAd that executed it but whose answer was lost delivers the result its
 *   eUICC kept first in its next cycle; an EuiccPackageRequest sent again is refused by the eUICC's counter.
 * EimError INVALID_ARGUMENT for a device without a push address, DEVICE_NOT_FOUND for an unknown EID.
 */
export async function transferEimPackage(ctx: EimContext, eid: string, o: PushOptions): Promise<PushOutcome> {
  const device = await ctx.store.getDevice(eid);
  if (device === undefined) throw new EimError('DEVICE_NOT_FOUND', `no device ${eid} in the registry`);
  const address = device.pushAddress;
  if (address === undefined) throw new EimError('INVALID_ARGUMENT', `the device ${eid} has no push address: it polls (retrieve mode)`);
  const pkg = await ctx.store.nextPackage(eid, ctx.now());
  if (pkg === undefined) return { status: 'none' };
  const base = { eimTransactionId: pkg.eimTransactionId, kind: pkg.kind };
  const sent = await post(address, encodeTlv(0xbf4e, pkg.request), o);
  if ('reason' in sent) return { status: 'undelivered', ...base, reason: sent.reason };
  const response = responseOf(sent.body);
  if (response === undefined) return { status: 'undelivered', ...base, reason: `the answer is no TransferEimPackageResponse (for a ${KIND_TAGS[pkg.kind]})` };
  switch (response.value.type) {
    case 'eimPackageReceived':
      return { status: 'received', ...base };
    case 'eimPackageError': {
      const code = response.value.value;
      await ctx.store.completePackage(pkg.eimTransactionId, { state: 'failed', result: response.raw, outcome: { transferEimPackageError: code } }, ctx.now());
      return { status: 'error', ...base, eimPackageError: code };
    }
    default: {
      const answer = await provideEimPackageResult(ctx, eidBytes(eid), response.raw);
      const acknowledged = answer.eimAcknowledgements;
      let acknowledgementsDelivered = true;
      if (acknowledged.length > 0) {
        const acks = await post(address, encode(TransferEimPackageRequest, { type: 'eimAcknowledgements', value: [...acknowledged] }), o);
        acknowledgementsDelivered = 'body' in acks && responseOf(acks.body)?.value.type === 'eimPackageReceived';
      }
      return { status: 'result', ...base, acknowledged, acknowledgementsDelivered };
    }
  }
}

/**
 * Pushes the device's open packages one after another until none is left, one is taken for later delivery
 * (eimPackageReceived) or undelivered, or `max` were pushed (default 16).
 */
export async function pushPackages(ctx: EimContext, eid: string, o: PushOptions, max = 16): Promise<PushOutcome[]> {
  const outcomes: PushOutcome[] = [];
  while (outcomes.length < max) {
    const outcome = await transferEimPackage(ctx, eid, o);
    if (outcome.status === 'none') break;
    outcomes.push(outcome);
    if (outcome.status === 'received' || outcome.status === 'undelivered') break;
  }
  return outcomes;
}
