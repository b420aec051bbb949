// ECDSA-SHA256 (BSI TR-03111 plain r || s) on worker threads: a process signing many messages at once (an eIM's fleet operation, SGP.32 2.11.1.1 eimSignature) uses every core while its main thread does the rest.
import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { curveOfKey, PLAIN_SIGNATURE_LENGTH } from './ecdsa.js';
import { CryptoError } from './errors.js';
import type { SignAnswer, SignJob } from './signerWorker.js';

/** Messages one sign() call takes at most, and bytes of them together. */
export const MAX_JOB_MESSAGES = 4096;
export const MAX_JOB_BYTES = 4 * 1024 * 1024;
/** Threads a pool has at most; distinct keys it signs with at most (an eIM's key generations); jobs waiting at most. */
export const MAX_SIGNER_THREADS = 64;
export const MAX_SIGNER_KEYS = 1024;
export const MAX_QUEUED_JOBS = 4096;

export interface SignItem {
  readonly key: KeyObject;
  readonly data: Uint8Array;
}

interface Job {
  readonly id: number;
  readonly items: readonly SignItem[];
  readonly resolve: (signatures: Buffer[]) => void;
  readonly reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  /** The job the thread is signing (one at a time: a thread given a second one while busy signs both far slower). */
  busy: Job | undefined;
  /** The key numbers this thread has been given. */
  readonly given: Set<number>;
}

const WORKER_URL = new URL('./signerWorker.js', import.meta.url);

/**
 * A fixed number of signing threads. Each sign() call is one job; jobs wait in order for a free thread (split a large
 * lot into several calls to use several threads). The threads keep the process alive only while a job is out; a
 * thread that dies fails its job and is replaced.
 */
export class SignerPool {
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  /** Each key signed with so far, by its number. */
  readonly #keys = new Map<KeyObject, number>();
  #nextId = 1;
  #closed = false;

  constructor(threads: number) {
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_SIGNER_THREADS) throw new CryptoError('INVALID_ARGUMENT', `a signer pool has 1 to ${MAX_SIGNER_THREADS} threads`);
    for (let i = 0; i < threads; i++) {
      const slot: Slot = { worker: undefined as unknown as Worker, busy: undefined, given: new Set() };
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
    slot.given.clear();
    worker.on('message', (answer: SignAnswer) => {
      const job = slot.busy;
      if (job === undefined || job.id !== answer.id) return;
      slot.busy = undefined;
      worker.unref();
      this.#dispatch();
      if ('error' in answer) {
        job.reject(new CryptoError('INVALID_KEY', `signing failed: ${answer.error}`));
        return;
      }
      const all = Buffer.from(answer.signatures.buffer, answer.signatures.byteOffset, answer.signatures.byteLength);
      const out: Buffer[] = [];
      for (let i = 0; i < job.items.length; i++) out.push(all.subarray(i * PLAIN_SIGNATURE_LENGTH, (i + 1) * PLAIN_SIGNATURE_LENGTH));
      job.resolve(out);
    });
    const fail = (why: string): void => {
      if (slot.worker !== worker) return;
      slot.busy?.reject(new CryptoError('INVALID_ARGUMENT', `a signing thread stopped: ${why}`));
      slot.busy = undefined;
      if (this.#closed) return;
      this.#start(slot);
      this.#dispatch();
    };
    worker.on('error', (e) => fail(e.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
  }

  /** Signs each item's data with its key (ECDSA-SHA256, plain r || s), in one job on one thread. */
  sign(items: readonly SignItem[]): Promise<Buffer[]> {
    if (this.#closed) return Promise.reject(new CryptoError('INVALID_ARGUMENT', 'the signer pool is closed'));
    if (items.length === 0) return Promise.resolve([]);
    if (items.length > MAX_JOB_MESSAGES) return Promise.reject(new CryptoError('INVALID_ARGUMENT', `at most ${MAX_JOB_MESSAGES} messages per job`));
    if (this.#queue.length >= MAX_QUEUED_JOBS) return Promise.reject(new CryptoError('INVALID_ARGUMENT', `at most ${MAX_QUEUED_JOBS} jobs wait for a signing thread`));
    let bytes = 0;
    for (const item of items) {
      bytes += item.data.length;
      if (this.#keys.has(item.key)) continue;
      curveOfKey(item.key);
      if (item.key.type !== 'private') return Promise.reject(new CryptoError('INVALID_KEY', 'signing needs a private key'));
      if (this.#keys.size >= MAX_SIGNER_KEYS) return Promise.reject(new CryptoError('INVALID_ARGUMENT', `a signer pool signs with at most ${MAX_SIGNER_KEYS} keys`));
      this.#keys.set(item.key, this.#keys.size);
    }
    if (bytes > MAX_JOB_BYTES) return Promise.reject(new CryptoError('INVALID_ARGUMENT', `at most ${MAX_JOB_BYTES} bytes per job`));
    return new Promise<Buffer[]>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, items, resolve, reject });
      this.#dispatch();
    });
  }

  /** Hands waiting jobs to free threads. */
  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (slot.busy !== undefined) continue;
      const job = this.#queue.shift()!;
      const keyOf = new Uint32Array(job.items.length);
      const ends = new Uint32Array(job.items.length);
      // Keys new to the thread travel once, as PKCS#8 (the thread imports its own copy and zeroes these bytes).
      const newKeys: { number: number; pkcs8: Uint8Array }[] = [];
      let bytes = 0;
      for (const [i, item] of job.items.entries()) {
        const k = this.#keys.get(item.key)!;
        keyOf[i] = k;
        bytes += item.data.length;
        ends[i] = bytes;
        if (slot.given.has(k)) continue;
        slot.given.add(k);
        const der = item.key.export({ type: 'pkcs8', format: 'der' });
        newKeys.push({ number: k, pkcs8: new Uint8Array(der) });
        der.fill(0);
      }
      const data = new Uint8Array(bytes);
      let at = 0;
      for (const item of job.items) {
        data.set(item.data, at);
        at += item.data.length;
      }
      const message: SignJob = { id: job.id, newKeys, keyOf, data, ends, width: PLAIN_SIGNATURE_LENGTH };
      slot.busy = job;
      slot.worker.ref();
      slot.worker.postMessage(message, [data.buffer, keyOf.buffer, ends.buffer, ...newKeys.map((k) => k.pkcs8.buffer as ArrayBuffer)]);
    }
  }

  /** Stops the threads; jobs still out or waiting fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new CryptoError('INVALID_ARGUMENT', 'the signer pool is closed'));
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
