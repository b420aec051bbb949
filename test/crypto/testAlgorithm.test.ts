// TS 34.108 8.1.2 test algorithm: XDOUT = K xor RAND and the f-functions derived from it, with a full AKA round trip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { generateAuthenticationVector, generateAuts, verifyAuts } from '../../src/crypto/authenticationVector.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { SqnFreshnessState } from '../../src/crypto/sqnFreshness.js';
import { TestAlgorithm } from '../../src/crypto/testAlgorithm.js';
import { usimAuthenticate } from '../../src/crypto/usimAuthenticate.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

describe('TS 34.108 test algorithm', () => {
  it('derives RES, CK, IK, AK and MAC from XDOUT = K xor RAND', () => {
    const k = hex('000102030405060708090a0b0c0d0e0f');
    const rand = hex('ffffffffffffffffffffffffffffffff');
    const alg = new TestAlgorithm(k);
    // XDOUT = fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0
    const { res, ck, ik, ak } = alg.f2345(rand);
    assert.deepEqual(res, hex('fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0'));
    assert.deepEqual(ck, hex('fefdfcfbfaf9f8f7f6f5f4f3f2f1f0ff'));
    assert.deepEqual(ik, hex('fdfcfbfaf9f8f7f6f5f4f3f2f1f0fffe'));
    assert.deepEqual(ak, hex('fcfbfaf9f8f7'));
    assert.deepEqual(alg.f5star(rand), ak);
    assert.deepEqual(alg.f1(rand, hex('000000000021'), hex('8000')), hex('fffefdfcfbdb79f8'));
    assert.deepEqual(alg.f1star(rand, hex('000000000021'), hex('8000')), alg.f1(rand, hex('000000000021'), hex('8000')));
    assert.deepEqual(new TestAlgorithm(k, 8).f2345(rand).res, hex('fffefdfcfbfaf9f8'));
  });

  it('runs AKA: the USIM accepts a fresh vector, answers the replay with an AUTS that verifies (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 1, max: 2 ** 40 }), (k, rand, seq) => {
        const alg = new TestAlgorithm(k);
        const sqn = Buffer.alloc(6);
        sqn.writeUIntBE(seq * 32, 0, 6);
        const v = generateAuthenticationVector(alg, rand, sqn, hex('8000'));
        const state = new SqnFreshnessState();
        const ok = usimAuthenticate(alg, state, rand, v.autn);
        assert.ok(ok.status === 'success');
        assert.deepEqual(ok.res, v.xres);
        const replay = usimAuthenticate(alg, state, rand, v.autn);
        assert.ok(replay.status === 'sync_failure');
        assert.deepEqual(verifyAuts(alg, rand, replay.auts), sqn);
        assert.deepEqual(replay.auts, generateAuts(alg, rand, sqn));
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a K other than 16 bytes and a RES length outside 4..16', () => {
    assert.throws(() => new TestAlgorithm(Buffer.alloc(15)), (e: unknown) => e instanceof CryptoError && e.code === 'INVALID_ARGUMENT');
    assert.throws(() => new TestAlgorithm(Buffer.alloc(16), 3), (e: unknown) => e instanceof CryptoError && e.code === 'INVALID_ARGUMENT');
    assert.throws(() => new TestAlgorithm(Buffer.alloc(16)).f2345(Buffer.alloc(15)), (e: unknown) => e instanceof CryptoError && e.code === 'INVALID_ARGUMENT');
  });
});
