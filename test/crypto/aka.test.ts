// AUTN and AUTS (TS 33.102 6.3), SQN freshness (Annex C) and the USIM side of AKA, with Milenage and Tuak.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  buildAutn,
  generateAuthenticationVector,
  generateAuts,
  verifyAuts,
  type AkaAlgorithm,
} from '../../src/crypto/authenticationVector.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { Milenage } from '../../src/crypto/milenage.js';
import { Tuak, type TuakParams } from '../../src/crypto/tuak.js';
import { SqnFreshnessState, sqnFromNumber, sqnToNumber } from '../../src/crypto/sqnFreshness.js';
import { usimAuthenticate } from '../../src/crypto/usimAuthenticate.js';
import { hex, readJsonFixture } from '../helpers/fixtures.js';

interface MilenageSet {
  name: string;
  k: string;
  opc: string;
  rand: string;
  sqn: string;
  amf: string;
  f1: string;
  f2: string;
  f3: string;
  f4: string;
  f5: string;
}

interface AutsSet {
  name: string;
  k: string;
  opc: string;
  rand: string;
  auts: string;
  amf_resync: string;
  expect_valid: boolean;
  sqn_ms?: string;
}

const MILENAGE = readJsonFixture<{ sets: MilenageSet[] }>('vectors', 'milenage-35207.json').sets;
const AUTS = readJsonFixture<{ sets: AutsSet[] }>('vectors', 'milenage-auts.json').sets;

const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
const TUAK_PARAMS = fc.record<TuakParams>({
  macBits: fc.constantFrom(64, 128, 256),
  resBits: fc.constantFrom(32, 64, 128, 256),
  ckBits: fc.constantFrom(128, 256),
  ikBits: fc.constantFrom(128, 256),
  keccakIterations: fc.integer({ min: 1, max: 3 }),
});
/** Milenage or Tuak with random keys and parameters */
const ALGORITHM: fc.Arbitrary<AkaAlgorithm> = fc.oneof(
  fc.tuple(bytes(16), bytes(16)).map(([k, opc]) => new Milenage(k, opc)),
  fc.tuple(fc.oneof(bytes(16), bytes(32)), bytes(32), TUAK_PARAMS).map(([k, topc, p]) => new Tuak(k, topc, p)),
);

const AMF = hex('8000');
/** SQN = SEQ || IND with a 5-bit IND */
const sqnOf = (seq: number, ind: number): Buffer => sqnFromNumber(seq * 32 + ind);

function flipBit(b: Uint8Array, bit: number): Buffer {
  const out = Buffer.from(b);
  out[bit >> 3]! ^= 0x80 >> (bit & 7);
  return out;
}

describe('AUTN and authentication vectors (TS 33.102 6.3.2)', () => {
  for (const s of MILENAGE) {
    it(`${s.name}: AUTN = (SQN xor AK) || AMF || MAC-A`, () => {
      const av = generateAuthenticationVector(new Milenage(hex(s.k), hex(s.opc)), hex(s.rand), hex(s.sqn), hex(s.amf));
      const sqnXorAk = Buffer.from(hex(s.sqn).map((b, i) => b ^ hex(s.f5)[i]!));
      assert.equal(av.autn.toString('hex'), sqnXorAk.toString('hex') + s.amf + s.f1);
      assert.deepEqual(
        [av.macA, av.xres, av.ck, av.ik, av.ak].map((b) => b.toString('hex')),
        [s.f1, s.f2, s.f3, s.f4, s.f5],
      );
      assert.deepEqual(buildAutn(hex(s.sqn), hex(s.f5), hex(s.amf), hex(s.f1)), av.autn);
    });
  }

  it('AUTN carries the full MAC-A of Tuak (64, 128 or 256 bits)', () => {
    fc.assert(
      fc.property(bytes(32), bytes(32), TUAK_PARAMS, bytes(16), bytes(6), (k, topc, p, rand, sqn) => {
        const av = generateAuthenticationVector(new Tuak(k, topc, p), rand, sqn, AMF);
        assert.equal(av.autn.length, 8 + p.macBits / 8);
        assert.deepEqual(av.autn.subarray(8), av.macA);
        assert.equal(av.xres.length, p.resBits / 8);
      }),
      { numRuns: 20 },
    );
  });

  it('rejects wrong lengths', () => {
    assert.throws(() => buildAutn(Buffer.alloc(6), Buffer.alloc(6), Buffer.alloc(2), Buffer.alloc(12)), {
      code: 'INVALID_ARGUMENT',
    });
    const m = new Milenage(Buffer.alloc(16), Buffer.alloc(16));
    assert.throws(() => generateAuthenticationVector(m, Buffer.alloc(16), Buffer.alloc(4), AMF), {
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('AUTS (TS 33.102 6.3.3, 6.3.5)', () => {
  it('uses every set of milenage-auts.json', () => assert.equal(AUTS.length, 4));

  for (const s of AUTS) {
    it(s.name, () => {
      assert.equal(s.amf_resync, '0000');
      const m = new Milenage(hex(s.k), hex(s.opc));
      if (s.expect_valid) {
        assert.equal(verifyAuts(m, hex(s.rand), hex(s.auts)).toString('hex'), s.sqn_ms);
        assert.equal(generateAuts(m, hex(s.rand), hex(s.sqn_ms!)).toString('hex'), s.auts);
      } else {
        assert.throws(
          () => verifyAuts(m, hex(s.rand), hex(s.auts)),
          (e: unknown) => e instanceof CryptoError && e.code === 'MAC_FAILURE',
        );
      }
    });
  }

  // Known answer from wmnsk/milenage milenage_test.go ("normal" case) @ 124b6d0841fcb22d4dd9f43d8bcf4f58595b8016:
  // K = OP = RAND = 00112233445566778899aabbccddeeff, SQN_MS = 000000000001.
  it('wmnsk/milenage known answer: AUTS for SQN_MS = 1', () => {
    const x = hex('00112233445566778899aabbccddeeff');
    const m = Milenage.fromOp(x, x);
    const auts = generateAuts(m, x, hex('000000000001'));
    assert.equal(auts.toString('hex'), 'b9ac50c48a82cdf74673bc86e7ab');
    assert.equal(verifyAuts(m, x, auts).toString('hex'), '000000000001');
  });

  it('round trip: the network recovers SQN_MS from the AUTS the USIM made (Milenage and Tuak)', () => {
    fc.assert(
      fc.property(ALGORITHM, bytes(16), bytes(6), (alg, rand, sqnMs) => {
        const auts = generateAuts(alg, rand, sqnMs);
        assert.equal(auts.length, 6 + alg.macLength);
        assert.deepEqual(verifyAuts(alg, rand, auts), Buffer.from(sqnMs));
      }),
      { numRuns: 60 },
    );
  });

  it('any flipped bit of AUTS is a MAC-S failure', () => {
    fc.assert(
      fc.property(ALGORITHM, bytes(16), bytes(6), fc.nat(), (alg, rand, sqnMs, n) => {
        const auts = generateAuts(alg, rand, sqnMs);
        assert.throws(() => verifyAuts(alg, rand, flipBit(auts, n % (auts.length * 8))), { code: 'MAC_FAILURE' });
      }),
      { numRuns: 60 },
    );
  });

  it('an AUTS for another RAND is a MAC-S failure', () => {
    const m = new Milenage(hex(AUTS[0]!.k), hex(AUTS[0]!.opc));
    assert.throws(() => verifyAuts(m, Buffer.alloc(16, 0x55), hex(AUTS[0]!.auts)), { code: 'MAC_FAILURE' });
  });

  it('rejects an AUTS whose length does not match the MAC length', () => {
    const t = new Tuak(Buffer.alloc(16), Buffer.alloc(32), {
      macBits: 128,
      resBits: 64,
      ckBits: 128,
      ikBits: 128,
      keccakIterations: 1,
    });
    assert.throws(() => verifyAuts(t, Buffer.alloc(16), Buffer.alloc(14)), /AUTS must be 22 bytes, got 14/);
  });
});

describe('SQN freshness on the USIM (TS 33.102 Annex C)', () => {
  it('splits SQN into SEQ and a 5-bit IND by default', () => {
    const state = new SqnFreshnessState();
    assert.deepEqual(state.split(sqnOf(1234, 17)), { seq: 1234, ind: 17 });
    assert.equal(state.seqArray.length, 32);
  });

  it('accepts increasing SEQ per IND and rejects a replay with SQN_MS = the highest accepted SQN', () => {
    const state = new SqnFreshnessState();
    assert.deepEqual(state.verify(sqnOf(5, 1)), { accepted: true, seq: 5, ind: 1 });
    const replay = state.verify(sqnOf(5, 1));
    assert.equal(replay.accepted, false);
    assert.ok(!replay.accepted && replay.reason === 'NOT_FRESH');
    assert.deepEqual(replay.sqnMs, sqnOf(5, 1));
  });

  it('keeps one SEQ_MS per IND: a lower SEQ is fresh under another IND (C.2.2 array)', () => {
    const state = new SqnFreshnessState();
    assert.equal(state.verify(sqnOf(9, 4)).accepted, true);
    assert.equal(state.verify(sqnOf(3, 2)).accepted, true, 'SEQ 3 < 9 but SEQ_MS(2) = 0');
    const r = state.verify(sqnOf(3, 4));
    assert.ok(!r.accepted && r.reason === 'NOT_FRESH');
    assert.deepEqual(r.sqnMs, sqnOf(9, 4), 'SQN_MS is the highest SEQ anywhere in the array, with its IND');
    assert.equal(state.verify(sqnOf(4, 2)).accepted, true);
  });

  it('delta: accepts SEQ - SEQ_MS = delta, rejects delta + 1 (C.2.1)', () => {
    const state = new SqnFreshnessState({ delta: 10 });
    assert.equal(state.verify(sqnOf(10, 0)).accepted, true);
    assert.equal(state.verify(sqnOf(20, 1)).accepted, true);
    const r = state.verify(sqnOf(31, 2));
    assert.ok(!r.accepted && r.reason === 'DELTA_EXCEEDED');
    assert.deepEqual(r.sqnMs, sqnOf(20, 1));
    assert.deepEqual(state.seqArray.slice(0, 3), [10, 20, 0], 'a rejected SQN is not recorded');
  });

  it('age limit L: accepts SEQ_MS - SEQ = L - 1, rejects SEQ_MS - SEQ = L (C.2.2)', () => {
    const state = new SqnFreshnessState({ ageLimit: 4 });
    assert.equal(state.verify(sqnOf(10, 0)).accepted, true);
    const old = state.verify(sqnOf(6, 3));
    assert.ok(!old.accepted && old.reason === 'AGE_LIMIT_EXCEEDED');
    assert.deepEqual(old.sqnMs, sqnOf(10, 0));
    assert.equal(state.verify(sqnOf(7, 3)).accepted, true);
  });

  it('without IND (0 bits) it is a plain counter', () => {
    const state = new SqnFreshnessState({ indBits: 0 });
    assert.equal(state.verify(sqnFromNumber(7)).accepted, true);
    assert.equal(state.verify(sqnFromNumber(6)).accepted, false);
    assert.deepEqual(state.sqnMs, sqnFromNumber(7));
  });

  it('restores a saved array', () => {
    const a = new SqnFreshnessState({ indBits: 2 });
    a.verify(sqnFromNumber(8 * 4 + 3));
    const b = new SqnFreshnessState({ indBits: 2 }, a.seqArray);
    assert.deepEqual(b.seqArray, [0, 0, 0, 8]);
    assert.equal(b.verify(sqnFromNumber(8 * 4 + 3)).accepted, false);
    assert.deepEqual(b.sqnMs, a.sqnMs);
  });

  it('random SQN sequences: no replay accepted, SEQ increasing per IND, SQN_MS = the highest SQN', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 40 }), fc.nat({ max: 3 })), { maxLength: 40 }), (sqns) => {
        const state = new SqnFreshnessState({ indBits: 2 });
        const accepted = new Set<number>();
        const lastSeq = [0, 0, 0, 0];
        let highest = 0; // SQN_MS before any acceptance
        for (const [seq, ind] of sqns) {
          const value = seq * 4 + ind;
          const r = state.verify(sqnFromNumber(value));
          if (r.accepted) {
            assert.ok(!accepted.has(value), 'replay accepted');
            assert.ok(seq > lastSeq[ind]!, 'SEQ not increasing');
            accepted.add(value);
            lastSeq[ind] = seq;
            highest = Math.max(highest, value);
          } else {
            assert.ok(seq <= lastSeq[ind]!, 'a fresh SQN was rejected');
            assert.equal(sqnToNumber(r.sqnMs), highest);
          }
        }
      }),
    );
  });

  it('rejects invalid options and saved arrays', () => {
    assert.throws(() => new SqnFreshnessState({ indBits: 17 }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new SqnFreshnessState({ delta: 0 }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new SqnFreshnessState({ ageLimit: 1.5 }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new SqnFreshnessState({ indBits: 1 }, [1]), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new SqnFreshnessState({ indBits: 1 }, [1, -1]), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => sqnFromNumber(2 ** 48), { code: 'INVALID_ARGUMENT' });
  });
});

describe('USIM authentication (TS 33.102 6.3.3)', () => {
  const s = MILENAGE[0]!;
  const usim = (): Milenage => new Milenage(hex(s.k), hex(s.opc));

  it('accepts the official vector and returns RES, CK, IK', () => {
    const state = new SqnFreshnessState();
    const autn = buildAutn(hex(s.sqn), hex(s.f5), hex(s.amf), hex(s.f1));
    const r = usimAuthenticate(usim(), state, hex(s.rand), autn);
    assert.ok(r.status === 'success');
    assert.deepEqual(
      [r.res, r.ck, r.ik, r.sqn, r.amf].map((b) => b.toString('hex')),
      [s.f2, s.f3, s.f4, s.sqn, s.amf],
    );
  });

  it('a wrong MAC-A is a MAC failure and leaves the SQN state alone', () => {
    const state = new SqnFreshnessState();
    const autn = buildAutn(hex(s.sqn), hex(s.f5), hex(s.amf), hex(s.f1));
    for (let bit = 0; bit < autn.length * 8; bit += 7) {
      assert.deepEqual(usimAuthenticate(usim(), state, hex(s.rand), flipBit(autn, bit)), { status: 'mac_failure' });
    }
    assert.ok(state.seqArray.every((x) => x === 0));
    assert.equal(usimAuthenticate(usim(), state, hex(s.rand), autn).status, 'success');
  });

  it('another K is a MAC failure', () => {
    const autn = buildAutn(hex(s.sqn), hex(s.f5), hex(s.amf), hex(s.f1));
    const other = new Milenage(Buffer.alloc(16, 1), hex(s.opc));
    assert.equal(usimAuthenticate(other, new SqnFreshnessState(), hex(s.rand), autn).status, 'mac_failure');
  });

  it('a replayed vector is a synchronisation failure whose AUTS gives the network SQN_MS', () => {
    const hn = usim();
    const state = new SqnFreshnessState();
    const av = generateAuthenticationVector(hn, hex(s.rand), sqnOf(100, 3), AMF);
    assert.equal(usimAuthenticate(hn, state, av.rand, av.autn).status, 'success');
    const r = usimAuthenticate(hn, state, av.rand, av.autn);
    assert.ok(r.status === 'sync_failure' && r.reason === 'NOT_FRESH');
    assert.deepEqual(r.sqnMs, sqnOf(100, 3));
    assert.deepEqual(verifyAuts(hn, av.rand, r.auts), sqnOf(100, 3));
    // The network re-synchronises above SQN_MS and the next vector is accepted.
    const next = generateAuthenticationVector(hn, Buffer.alloc(16, 9), sqnOf(101, 3), AMF);
    assert.equal(usimAuthenticate(hn, state, next.rand, next.autn).status, 'success');
  });

  it('a SQN beyond delta is a synchronisation failure with a valid AUTS', () => {
    const hn = usim();
    const state = new SqnFreshnessState({ delta: 2 ** 28 });
    const av = generateAuthenticationVector(hn, hex(s.rand), sqnOf(2 ** 28 + 1, 0), AMF);
    const r = usimAuthenticate(hn, state, av.rand, av.autn);
    assert.ok(r.status === 'sync_failure' && r.reason === 'DELTA_EXCEEDED');
    assert.deepEqual(verifyAuts(hn, av.rand, r.auts), sqnOf(0, 0));
  });

  it('a SQN older than the age limit is a synchronisation failure', () => {
    const hn = usim();
    const state = new SqnFreshnessState({ ageLimit: 50 });
    const fresh = generateAuthenticationVector(hn, hex(s.rand), sqnOf(200, 1), AMF);
    assert.equal(usimAuthenticate(hn, state, fresh.rand, fresh.autn).status, 'success');
    const old = generateAuthenticationVector(hn, hex(s.rand), sqnOf(150, 2), AMF);
    const r = usimAuthenticate(hn, state, old.rand, old.autn);
    assert.ok(r.status === 'sync_failure' && r.reason === 'AGE_LIMIT_EXCEEDED');
    assert.deepEqual(verifyAuts(hn, old.rand, r.auts), sqnOf(200, 1));
  });

  it('property: the USIM accepts what the network generated, with the same RES/CK/IK (Milenage and Tuak)', () => {
    fc.assert(
      fc.property(ALGORITHM, bytes(16), fc.integer({ min: 1, max: 2 ** 43 - 1 }), fc.nat({ max: 31 }), (alg, rand, seq, i) => {
        const state = new SqnFreshnessState();
        const av = generateAuthenticationVector(alg, rand, sqnOf(seq, i), AMF);
        const r = usimAuthenticate(alg, state, rand, av.autn);
        assert.ok(r.status === 'success');
        assert.deepEqual([r.res, r.ck, r.ik, r.sqn], [av.xres, av.ck, av.ik, av.sqn]);
        const again = usimAuthenticate(alg, state, rand, av.autn);
        assert.ok(again.status === 'sync_failure');
        assert.deepEqual(verifyAuts(alg, rand, again.auts), av.sqn);
      }),
      { numRuns: 60 },
    );
  });

  it('rejects an AUTN whose length does not match the MAC length', () => {
    assert.throws(() => usimAuthenticate(usim(), new SqnFreshnessState(), hex(s.rand), Buffer.alloc(24)), {
      code: 'INVALID_ARGUMENT',
    });
  });
});
