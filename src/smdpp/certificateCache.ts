// Parsed certificates by their DER, bounded, least recently used out: an EUM certificate recurs for every eUICC it issued,
// an eUICC certificate for each ES9+ call of its session. Parsing is a pure function of the DER, so a hit returns exactly
// what parsing would; signatures and validity are still checked on every use. Nothing a session needs lives here.
import { parseCertificate, type GsmaCertificate } from '../pki/certificate.js';

export const DEFAULT_CERTIFICATE_CACHE_SIZE = 1024;

export class CertificateCache {
  readonly #max: number;
  readonly #entries = new Map<string, GsmaCertificate>();

  constructor(max = DEFAULT_CERTIFICATE_CACHE_SIZE) {
    this.#max = max;
  }

  /** parseCertificate(der), from the cache when the same DER was parsed recently; a failure is not cached. */
  parse(der: Uint8Array): GsmaCertificate {
    const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const parsed = parseCertificate(der);
    if (this.#max > 0) {
      if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(key, parsed);
    }
    return parsed;
  }
}
