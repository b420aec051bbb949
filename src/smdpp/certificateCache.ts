// Parsed eUICC and EUM certificates whose chain verified (SGP.22 4.5.2.2), keyed by their DER, bounded in accounted bytes, least recently used out.
// An EUM certificate recurs for every eUICC it issued, an eUICC certificate for each ES9+ call of its session. Only
// certificates whose chain verified are kept, so a client sending certificates that do not verify grows nothing. The key
// is the DER itself (one byte per character): a lookup costs a copy and the map's string hash, less than a SHA-256.
// Parsing is a pure function of the DER: a hit returns exactly what parsing would; validity, signatures and revocation
// are still checked on every use. Nothing a session needs lives here.
import { parseCertificate, type GsmaCertificate } from '../pki/certificate.js';

/** Default bound of the accounted bytes: some 700 typical GSMA certificates (docs/operations.md). */
export const DEFAULT_CERTIFICATE_CACHE_BYTES = 4 * 1024 * 1024;

/** Fixed cost of an entry beyond its DER: the parsed objects, the public KeyObject, the key and the map entry. */
const ENTRY_OVERHEAD = 2048;
/** A parsed certificate holds its DER about four times (der, tbsDer, the decoded ASN.1 values, the signature), its key once more. */
const DER_COPIES = 5;
/** An entry larger than this share of the bound is not kept (one certificate cannot evict all the others). */
const MAX_ENTRY_SHARE = 8;

/** The bytes an entry is accounted for. */
export function accountedBytes(der: Uint8Array): number {
  return ENTRY_OVERHEAD + DER_COPIES * der.byteLength;
}

/** The map key of a DER: its bytes as a one-byte string. */
function keyOf(der: Uint8Array): string {
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
}

interface Entry {
  readonly certificate: GsmaCertificate;
  readonly bytes: number;
}

export class CertificateCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Entry>();
  /** The key `parse` made for a certificate it returned, so that `remember` does not copy its DER again. */
  readonly #keys = new WeakMap<GsmaCertificate, string>();
  #bytes = 0;

  constructor(maxBytes = DEFAULT_CERTIFICATE_CACHE_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`certificate cache bound must be a non-negative integer, got ${maxBytes}`);
    this.#maxBytes = maxBytes;
  }

  /** The accounted bytes of the entries (never above the bound). */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** parseCertificate(der): the kept certificate when this DER's chain verified recently, else parsed afresh and not kept. */
  parse(der: Uint8Array): GsmaCertificate {
    const key = keyOf(der);
    const hit = this.#entries.get(key);
    if (hit === undefined) {
      const certificate = parseCertificate(der);
      this.#keys.set(certificate, key);
      return certificate;
    }
    this.#entries.delete(key);
    this.#entries.set(key, hit);
    return hit.certificate;
  }

  /** Keeps certificates whose chain verified; older entries go when the bound would be exceeded. */
  remember(certificates: readonly GsmaCertificate[]): void {
    for (const certificate of certificates) {
      const key = this.#keys.get(certificate) ?? keyOf(certificate.der);
      const bytes = accountedBytes(certificate.der);
      if (this.#entries.has(key) || bytes * MAX_ENTRY_SHARE > this.#maxBytes) continue;
      while (this.#bytes + bytes > this.#maxBytes) {
        const [oldest, entry] = this.#entries.entries().next().value!;
        this.#entries.delete(oldest);
        this.#bytes -= entry.bytes;
      }
      this.#entries.set(key, { certificate, bytes });
      this.#bytes += bytes;
    }
  }
}
