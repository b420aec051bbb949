// SGP.22 4.6 (certificate revocation) with RFC 5280 6.3: the SM-DP+'s CRLs (the CI's, the EUMs'), from files or distribution points, consulted for EUM and eUICC certificates.
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { GsmaCertificate } from '../pki/certificate.js';
import {
  DEFAULT_CRL_LIMITS,
  compareCrls,
  crlCovers,
  crlFreshness,
  crlsFromFile,
  isRevoked,
  parseCrl,
  verifyCrlIssuer,
  type CrlLimits,
  type ParsedCrl,
} from '../pki/crl.js';
import { PkiError } from '../pki/errors.js';

/**
 * What a CRL past its nextUpdate means for the certificates it does not list: 'fail-open' accepts them (a serial the
 * stale CRL lists is still refused), 'fail-closed' refuses every certificate it covers (REVOCATION_UNKNOWN).
 */
export type StaleCrlPolicy = 'fail-open' | 'fail-closed';

export interface RevocationOptions {
  /** CRL files (DER or PEM), read at start and again at every refresh. */
  readonly files?: readonly string[];
  /** Fetch CRLs from the CRLDistributionPoints of validated certificates (SGP.22 4.5.2.1), in the background. */
  readonly fetch?: boolean;
  /** Seconds between refreshes of files and distribution points (default 3600). */
  readonly refreshSeconds?: number;
  /** Default 'fail-open'. */
  readonly stalePolicy?: StaleCrlPolicy;
  readonly limits?: CrlLimits;
  /** Distribution point URLs remembered for fetching (default 64); further ones are ignored. */
  readonly maxDistributionPoints?: number;
  /** CRL issuers held (default 256); CRLs of further issuers are refused. */
  readonly maxIssuers?: number;
  /** Per fetch: connect and transfer timeout in milliseconds (default 5000). */
  readonly fetchTimeoutMs?: number;
  /** CIs whose CRLs are verified when loaded (an EUM's CRL is verified against the validated EUM on first use). */
  readonly trustedCis?: readonly GsmaCertificate[];
  /** Milliseconds since the epoch (injectable for tests). */
  readonly clock?: () => number;
  /** Every revocation event, for the log. */
  readonly onEvent?: (event: RevocationEvent) => void;
}

/** Log events (docs/operations.md, Revocation). */
export type RevocationEvent =
  | { readonly event: 'crl-loaded'; readonly source: string; readonly issuer: string; readonly entries: number; readonly crlNumber?: string }
  | { readonly event: 'crl-rejected'; readonly source: string; readonly code: string; readonly message: string }
  | { readonly event: 'crl-older-ignored'; readonly source: string; readonly issuer: string }
  | { readonly event: 'crl-stale'; readonly issuer: string; readonly nextUpdate: string; readonly policy: StaleCrlPolicy }
  | { readonly event: 'crl-fetch-failed'; readonly url: string; readonly message: string }
  | { readonly event: 'certificate-revoked'; readonly subject: string; readonly serial: string; readonly issuer: string };

export const DEFAULT_CRL_REFRESH_SECONDS = 3600;
export const DEFAULT_MAX_DISTRIBUTION_POINTS = 64;
export const DEFAULT_MAX_CRL_ISSUERS = 256;
export const DEFAULT_CRL_FETCH_TIMEOUT_MS = 5000;

/** The CRLs of one issuer: the last one verified, and a newer one still to verify (an EUM's, until the EUM is seen). */
interface IssuerCrls {
  current?: { readonly crl: ParsedCrl; readonly issuerSpki: Buffer };
  pending?: { readonly crl: ParsedCrl; readonly source: string };
}

/** CRLs are looked up by their issuer's key identifier (the CRL's AKI, RFC 5280 5.2.1), or by issuer name without one. */
function keyOfCrl(crl: ParsedCrl): string {
  return crl.authorityKeyIdentifier !== undefined ? `aki:${crl.authorityKeyIdentifier.toString('hex')}` : `name:${crl.issuer.der.toString('hex')}`;
}

function keysOfIssuer(issuer: GsmaCertificate): string[] {
  const byName = `name:${issuer.subject.der.toString('hex')}`;
  return issuer.subjectKeyIdentifier !== undefined ? [`aki:${issuer.subjectKeyIdentifier.toString('hex')}`, byName] : [byName];
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * GET `url` (http or https) with a timeout and a size cap, no redirects: the CRL bytes, or PkiError CRL_FETCH_FAILED /
 * CRL_TOO_LARGE.
 */
function fetchCrl(url: string, options: { readonly timeoutMs: number; readonly maxBytes: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new PkiError('CRL_FETCH_FAILED', `'${url}' is not a URL`));
      return;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      reject(new PkiError('CRL_FETCH_FAILED', `${url}: only http and https distribution points are fetched`));
      return;
    }
    const get = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = get(parsed, { method: 'GET', timeout: options.timeoutMs, headers: { accept: 'application/pkix-crl' } }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new PkiError('CRL_FETCH_FAILED', `${url}: HTTP ${res.statusCode ?? '?'}`));
        return;
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > options.maxBytes) {
        req.destroy();
        reject(new PkiError('CRL_TOO_LARGE', `${url}: ${declared} bytes (limit ${options.maxBytes})`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          req.destroy();
          reject(new PkiError('CRL_TOO_LARGE', `${url}: more than ${options.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', (e) => reject(new PkiError('CRL_FETCH_FAILED', `${url}: ${message(e)}`, { cause: e })));
    });
    // The whole transfer, not only idle time, is bounded.
    const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)));
    req.on('error', (e) => reject(new PkiError('CRL_FETCH_FAILED', `${url}: ${message(e)}`, { cause: e })));
    req.on('close', () => clearTimeout(deadline));
    req.end();
  });
}

/**
 * The SM-DP+'s revocation state. `check` is synchronous and never waits for the network: CRLs come from files and
 * from background fetches, and the last good CRL of an issuer stays in effect until a newer one verifies.
 */
export class RevocationStore {
  readonly #files: readonly string[];
  readonly #fetch: boolean;
  readonly #refreshMs: number;
  readonly #policy: StaleCrlPolicy;
  readonly #limits: CrlLimits;
  readonly #maxDps: number;
  readonly #maxIssuers: number;
  readonly #timeoutMs: number;
  readonly #cis: readonly GsmaCertificate[];
  readonly #now: () => number;
  readonly #emit: (event: RevocationEvent) => void;
  readonly #issuers = new Map<string, IssuerCrls>();
  readonly #distributionPoints = new Set<string>();
  readonly #inFlight = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: RevocationOptions = {}) {
    this.#files = options.files ?? [];
    this.#fetch = options.fetch ?? false;
    this.#refreshMs = (options.refreshSeconds ?? DEFAULT_CRL_REFRESH_SECONDS) * 1000;
    this.#policy = options.stalePolicy ?? 'fail-open';
    this.#limits = options.limits ?? DEFAULT_CRL_LIMITS;
    this.#maxDps = options.maxDistributionPoints ?? DEFAULT_MAX_DISTRIBUTION_POINTS;
    this.#maxIssuers = options.maxIssuers ?? DEFAULT_MAX_CRL_ISSUERS;
    this.#timeoutMs = options.fetchTimeoutMs ?? DEFAULT_CRL_FETCH_TIMEOUT_MS;
    this.#cis = options.trustedCis ?? [];
    this.#now = options.clock ?? Date.now;
    this.#emit = options.onEvent ?? (() => undefined);
    this.check = this.check.bind(this);
  }

  get stalePolicy(): StaleCrlPolicy {
    return this.#policy;
  }

  /** The distribution points remembered for fetching. */
  get distributionPoints(): readonly string[] {
    return [...this.#distributionPoints];
  }

  /** Reads the configured files now; an unreadable file or a refused CRL is an event, and the CRL in effect stays. */
  loadFiles(): void {
    for (const file of this.#files) {
      let data: Buffer;
      try {
        data = readFileSync(file);
      } catch (e) {
        this.#emit({ event: 'crl-rejected', source: file, code: 'IO_ERROR', message: `unreadable: ${message(e)}` });
        continue;
      }
      let ders: Buffer[];
      try {
        ders = crlsFromFile(data);
      } catch (e) {
        this.#reject(file, e);
        continue;
      }
      for (const der of ders) this.load(der, file);
    }
  }

  /**
   * Adds one CRL (DER) from `source`. A CI's CRL is verified now; an EUM's when the EUM is next validated. Returns the
   * PkiError that refused it, or undefined when it was taken (or ignored as older than the one in effect).
   */
  load(der: Uint8Array, source: string): PkiError | undefined {
    let crl: ParsedCrl;
    try {
      crl = parseCrl(der, this.#limits);
      crlFreshness(crl, new Date(this.#now()));
    } catch (e) {
      return this.#reject(source, e);
    }
    const key = keyOfCrl(crl);
    const existing = this.#issuers.get(key);
    if (existing === undefined && this.#issuers.size >= this.#maxIssuers) {
      return this.#reject(source, new PkiError('CRL_TOO_LARGE', `CRLs of more than ${this.#maxIssuers} issuers`));
    }
    if (existing?.current !== undefined && compareCrls(crl, existing.current.crl) < 0) {
      this.#emit({ event: 'crl-older-ignored', source, issuer: crl.issuer.text });
      return undefined;
    }
    const ci = this.#cis.find((c) => keysOfIssuer(c).includes(key));
    if (ci !== undefined) {
      try {
        verifyCrlIssuer(crl, ci);
      } catch (e) {
        return this.#reject(source, e);
      }
    }
    const entry = existing ?? {};
    this.#issuers.set(key, entry);
    if (ci === undefined) {
      entry.pending = { crl, source };
    } else {
      entry.current = { crl, issuerSpki: ci.publicKey.spki };
      this.#loaded(crl, source);
    }
    return undefined;
  }

  /**
   * The revocation check of validateChain (RFC 5280 6.3.3): `certificate`'s issuer's CRL, if one is held, must not list
   * it; a CRL past nextUpdate is handled by the stale policy. An issuer with no CRL is not checked. Throws PkiError
   * REVOKED or REVOCATION_UNKNOWN. With fetching on, the certificate's distribution points are remembered and fetched
   * in the background.
   */
  check(certificate: GsmaCertificate, issuer: GsmaCertificate): void {
    if (this.#fetch) this.#remember(certificate);
    const crl = this.#crlOf(issuer);
    if (crl === undefined || !crlCovers(crl, certificate)) return;
    if (isRevoked(crl, certificate)) {
      const serial = certificate.serialNumber.toString('hex');
      this.#emit({ event: 'certificate-revoked', subject: certificate.subject.text, serial, issuer: issuer.subject.text });
      throw new PkiError('REVOKED', `'${certificate.subject.text}' (serial ${serial}) is revoked by the CRL of '${issuer.subject.text}'`, {
        certificate,
      });
    }
    const at = new Date(this.#now());
    if (at.getTime() > crl.nextUpdate.getTime()) {
      this.#emit({ event: 'crl-stale', issuer: crl.issuer.text, nextUpdate: crl.nextUpdate.toISOString(), policy: this.#policy });
      if (this.#policy === 'fail-closed') {
        throw new PkiError(
          'REVOCATION_UNKNOWN',
          `the CRL of '${issuer.subject.text}' expired at ${crl.nextUpdate.toISOString()}: the revocation status of '${certificate.subject.text}' is unknown`,
          { certificate },
        );
      }
    }
  }

  /** Re-reads the files and fetches every remembered distribution point; resolves when all are done. */
  async refresh(): Promise<void> {
    this.loadFiles();
    await Promise.all([...this.#distributionPoints].map((url) => this.#fetchOne(url)));
  }

  /** Loads the files and starts the periodic refresh (the timer does not keep the process alive). */
  start(): void {
    this.loadFiles();
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.refresh(), this.#refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Resolves when the fetches in progress have ended (tests; shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.#inFlight.values()]);
  }

  #crlOf(issuer: GsmaCertificate): ParsedCrl | undefined {
    const key = keysOfIssuer(issuer).find((k) => this.#issuers.has(k));
    const entry = key === undefined ? undefined : this.#issuers.get(key)!;
    if (entry === undefined) return undefined;
    const pending = entry.pending;
    if (pending !== undefined) {
      // The issuer is validated (its chain checked down from the CI): its key decides whether the waiting CRL is genuine.
      entry.pending = undefined;
      try {
        verifyCrlIssuer(pending.crl, issuer);
        if (entry.current === undefined || compareCrls(pending.crl, entry.current.crl) >= 0) {
          entry.current = { crl: pending.crl, issuerSpki: issuer.publicKey.spki };
          this.#loaded(pending.crl, pending.source);
        }
      } catch (e) {
        this.#reject(pending.source, e);
      }
    }
    const current = entry.current;
    // A CRL verified under another key of the same name/identifier says nothing about this issuer.
    if (current === undefined || !current.issuerSpki.equals(issuer.publicKey.spki)) return undefined;
    return current.crl;
  }

  #remember(certificate: GsmaCertificate): void {
    for (const url of certificate.crlDistributionPoints) {
      if (this.#distributionPoints.has(url)) continue;
      if (this.#distributionPoints.size >= this.#maxDps) return;
      this.#distributionPoints.add(url);
      void this.#fetchOne(url);
    }
  }

  #fetchOne(url: string): Promise<void> {
    const running = this.#inFlight.get(url);
    if (running !== undefined) return running;
    const done = fetchCrl(url, { timeoutMs: this.#timeoutMs, maxBytes: this.#limits.maxBytes })
      .then((der) => {
        this.load(der, url);
      })
      .catch((e: unknown) => {
        this.#emit({ event: 'crl-fetch-failed', url, message: message(e) });
      })
      .finally(() => this.#inFlight.delete(url));
    this.#inFlight.set(url, done);
    return done;
  }

  #loaded(crl: ParsedCrl, source: string): void {
    this.#emit({
      event: 'crl-loaded',
      source,
      issuer: crl.issuer.text,
      entries: crl.revoked.size,
      ...(crl.crlNumber !== undefined ? { crlNumber: crl.crlNumber.toString() } : {}),
    });
  }

  #reject(source: string, e: unknown): PkiError {
    if (!(e instanceof PkiError)) throw e;
    this.#emit({ event: 'crl-rejected', source, code: e.code, message: e.message });
    return e;
  }
}
