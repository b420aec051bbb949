// One thread of SignerPool (src/crypto/signerPool.ts): ECDSA-SHA256 signatures, plain r || s, over slices of one transferred buffer.
import { sign, type KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/** A job: `data` holds the messages back to back, message i is data[ends[i-1]..ends[i]), signed with keys[keyOf[i]]. */
export interface SignJob {
  readonly id: number;
  readonly keys: readonly KeyObject[];
  readonly keyOf: Uint16Array;
  readonly data: Uint8Array;
  readonly ends: Uint32Array;
  /** Bytes of one plain signature (64 for a 256-bit curve). */
  readonly width: number;
}

/** Signatures back to back, or why the job failed. */
export type SignAnswer = { readonly id: number; readonly signatures: Uint8Array } | { readonly id: number; readonly error: string };

parentPort?.on('message', (job: SignJob) => {
  try {
    const out = new Uint8Array(job.ends.length * job.width);
    let start = 0;
    for (let i = 0; i < job.ends.length; i++) {
      const end = job.ends[i]!;
      const s = sign('sha256', job.data.subarray(start, end), { key: job.keys[job.keyOf[i]!]!, dsaEncoding: 'ieee-p1363' });
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
