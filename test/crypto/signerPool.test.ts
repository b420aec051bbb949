// ECDSA-SHA256 on signer threads (src/crypto/signerPool.ts): every signature verifies under its own key, jobs beyond the threads wait their turn, bad keys and a closed pool are refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CryptoError } from '../../src/crypto/errors.js';
import { generateKeyPair, verifyPlain } from '../../src/crypto/ecdsa.js';
import { SignerPool, MAX_JOB_MESSAGES } from '../../src/crypto/signerPool.js';

describe('SignerPool', () => {
  it('signs jobs of several keys and curves on 2 threads, more jobs than threads at once; each signature verifies over its own message', async () => {
    const pool = new SignerPool(2);
    try {
      const keys = [generateKeyPair('P-256'), generateKeyPair('brainpoolP256r1'), generateKeyPair('P-256')];
      const jobs = Array.from({ length: 7 }, (_, j) => Array.from({ length: 1 + j * 9 }, (_, i) => ({ pair: keys[(i + j) % keys.length]!, data: randomBytes(1 + ((i * 37) % 300)) })));
      const answers = await Promise.all(jobs.map((job) => pool.sign(job.map((m) => ({ key: m.pair.privateKey, data: m.data })))));
      for (const [j, job] of jobs.entries()) {
        assert.equal(answers[j]!.length, job.length);
        for (const [i, m] of job.entries()) {
          assert.equal(answers[j]![i]!.length, 64);
          assert.ok(verifyPlain(m.pair.publicKey, m.data, answers[j]![i]!), `job ${j} message ${i}`);
          assert.ok(!verifyPlain(keys[(i + j + 1) % keys.length]!.publicKey, m.data, answers[j]![i]!), 'not under another key');
        }
      }
      assert.deepEqual(await pool.sign([]), []);
    } finally {
      await pool.close();
    }
  });

  it('refuses a public key, an oversized job, a wrong thread count; a closed pool refuses work', async () => {
    assert.throws(() => new SignerPool(0), (e) => e instanceof CryptoError && e.code === 'INVALID_ARGUMENT');
    const pool = new SignerPool(1);
    const { privateKey, publicKey } = generateKeyPair('P-256');
    await assert.rejects(pool.sign([{ key: publicKey, data: Buffer.from('x') }]), (e) => e instanceof CryptoError && e.code === 'INVALID_KEY');
    await assert.rejects(pool.sign(Array.from({ length: MAX_JOB_MESSAGES + 1 }, () => ({ key: privateKey, data: Buffer.from('x') }))), (e) => e instanceof CryptoError && e.code === 'INVALID_ARGUMENT');
    const [s] = await pool.sign([{ key: privateKey, data: Buffer.from('still works') }]);
    assert.ok(verifyPlain(publicKey, Buffer.from('still works'), s!));
    await pool.close();
    await assert.rejects(pool.sign([{ key: privateKey, data: Buffer.from('x') }]), (e) => e instanceof CryptoError && e.code === 'INVALID_ARGUMENT');
  });
});
