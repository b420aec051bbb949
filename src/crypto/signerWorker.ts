// One thread of SignerPool (src/crypto/signerPool.ts): ECDSA-SHA256 signatures, plain r || s, over slices of one transferred buffer.
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/**
 * A job: `data` holds the messages back to back, message i is data[ends[i-1]..ends[i]), signed with the key numbered
 * keyOf[i]. `newKeys` are keys this thread has not been given before (PKCS#8 DER): each thread imports its own copy,
 * since threads signing with one shared key wait for each other inside OpenSSL.
 */
export interface SignJob {
  readonly id: number;
  readonly newKeys: readonly { readonly number: number; readonly pkcs8: Uint8Array }[];
  readonly keyOf: Uint32Array;
  readonly data: Uint8Array;
  readonly ends: Uint32Array;
  /** Bytes of one plain signature (64 for a 256-bit curve). */
  readonly width: number;
}

/** Signatures back to back, or why the job failed. */
export type SignAnswer = { readonly id: number; readonly signatures: Uint8Array } | { readonly id: number; readonly error: string };

/** The keys given to this thread, by number (the pool gives a bounded number of keys per thread). */
const keys = new Map<number, KeyObject>();

parentPort?.on('message', (job: SignJob) => {
  try {
    for (const k of job.newKeys) {
      keys.set(k.number, createPrivateKey({ key: Buffer.from(k.pkcs8), format: 'der', type: 'pkcs8' }));
      k.pkcs8.fill(0);
    }
    const out = new Uint8Array(job.ends.length * job.width);
    let start = 0;
    for (let i = 0; i < job.ends.length; i++) {
      const end = job.ends[i]!;
      const s = sign('sha256', job.data.subarray(start, end), { key: keys.get(job.keyOf[i]!)!, dsaEncoding: 'ieee-p1363' });
      if (s.length !== job.width) throw new Error(`a signature of ${s.length} bytes, expected ${job.width}`);
      out.set(s, i * job.width);
      start = end;
    }
    const answer: SignAnswer = { id: job.id, signatures: out };
    parentPort!.postMessage(answer, [out.buffer]);
  } catch (e) {
    const answer: SignAnswer = { id: job.id, error: e instanceof Error ? e.message : String(e) };
    parentPort!.postMessage(answer);
  }
});
