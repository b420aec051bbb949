// ECDSA-SHA256 (BSI TR-03111 plain r || s) on worker threads: a process signing many messages at once (an eIM's fleet operation, SGP.32 2.11.1.1 eimSignature) uses every core while its main thread does the rest.
import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { curveOfKey, PLAIN_SIGNATURE_LENGTH } from './ecdsa.js';
import { CryptoError } from './errors.js';
import type { SignAnswer, SignJob } from './signerWorker.js';

/** Messages one sign() call takes at most, and bytes of them together. */
export const MAX_JOB_MESSAGES = 4096;
export const MAX_JOB_BYTES = 4 * 1024 * 1024;
/** Threads a pool has at most. */
export const MAX_SIGNER_THREADS = 64;

export interface SignItem {
  readonly key: KeyObject;
  readonly data: Uint8Array;
}

interface Pending {
  readonly resolve: (signatures: Buffer[]) => void;
  readonly reject: (e: unknown) => void;
  readonly count: number;
}

interface Slot {
  worker: Worker;
  readonly pending: Map<number, Pending>;
}

const WORKER_URL = new URL('./signerWorker.js', import.meta.url);

/**
 * A fixed number of signing threads. Each sign() call is one job for the least busy thread (split a large lot into
 * several calls to use several threads). The threads keep the process alive only while a job is out; a thread that
 * dies fails its jobs and is replaced.
 */
export class SignerPool {
  readonly #slots: Slot[] = [];
  #nextId = 1;
  #closed = false;

  constructor(threads: number) {
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_SIGNER_THREADS) throw new CryptoError('INVALID_ARGUMENT', `a signer pool has 1 to ${MAX_SIGNER_THREADS} threads`);
    for (let i = 0; i < threads; i++) {
      const slot: Slot = { worker: undefined as unknown as Worker, pending: new Map() };
      this.#start(slot);
      this.#slots.push(slot);
    }
  }

  get threads(): number {
    return this.#slots.length;
  }

  #start(slot: Slot): void {
    const worker = new Worker(WORKER_URL);
    worker.unref();
    slot.worker = worker;
    worker.on('message', (answer: SignAnswer) => {
      const p = slot.pending.get(answer.id);
      if (p === undefined) return;
      slot.pending.delete(answer.id);
      if (slot.pending.size === 0) worker.unref();
      if ('error' in answer) {
        p.reject(new CryptoError('INVALID_KEY', `signing failed: ${answer.error}`));
        return;
      }
      const all = Buffer.from(answer.signatures.buffer, answer.signatures.byteOffset, answer.signatures.byteLength);
      const out: Buffer[] = [];
      for (let i = 0; i < p.count; i++) out.push(all.subarray(i * PLAIN_SIGNATURE_LENGTH, (i + 1) * PLAIN_SIGNATURE_LENGTH));
      p.resolve(out);
    });
    const fail = (why: string): void => {
      if (slot.worker !== worker) return;
      for (const p of slot.pending.values()) p.reject(new CryptoError('INVALID_ARGUMENT', `a signing thread stopped: ${why}`));
      slot.pending.clear();
      if (!this.#closed) this.#start(slot);
    };
    worker.on('error', (e) => fail(e.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
  }

  /** Signs each item's data with its key (ECDSA-SHA256, plain r || s), in one job on one thread. */
  sign(items: readonly SignItem[]): Promise<Buffer[]> {
    if (this.#closed) return Promise.reject(new CryptoError('INVALID_ARGUMENT', 'the signer pool is closed'));
    if (items.length === 0) return Promise.resolve([]);
    if (items.length > MAX_JOB_MESSAGES) return Promise.reject(new CryptoError('INVALID_ARGUMENT', `at most ${MAX_JOB_MESSAGES} messages per job`));
    const keys: KeyObject[] = [];
    const keyOf = new Uint16Array(items.length);
    const ends = new Uint32Array(items.length);
    let bytes = 0;
    for (const [i, item] of items.entries()) {
      let k = keys.indexOf(item.key);
      if (k < 0) {
        curveOfKey(item.key);
        if (item.key.type !== 'private') return Promise.reject(new CryptoError('INVALID_KEY', 'signing needs a private key'));
        k = keys.push(item.key) - 1;
      }
      keyOf[i] = k;
      bytes += item.data.length;
      ends[i] = bytes;
    }
    if (bytes > MAX_JOB_BYTES) return Promise.reject(new CryptoError('INVALID_ARGUMENT', `at most ${MAX_JOB_BYTES} bytes per job`));
    const data = new Uint8Array(bytes);
    let at = 0;
    for (const item of items) {
      data.set(item.data, at);
      at += item.data.length;
    }
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.#nextId++;
    const job: SignJob = { id, keys, keyOf, data, ends, width: PLAIN_SIGNATURE_LENGTH };
    return new Promise<Buffer[]>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, count: items.length });
      slot.worker.ref();
      slot.worker.postMessage(job, [data.buffer, keyOf.buffer, ends.buffer]);
    });
  }

  /** Stops the threads; jobs still out fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
