// MILENAGE (TS 35.206) against every set of TS 35.207 and TS 35.208, and the batch path against the single-vector one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MILENAGE_RECORD,
  Milenage,
  computeOpc,
  f1,
  f1star,
  f2345,
  f5star,
  milenageBatch,
  type MilenageBatchInput,
} from '../../src/crypto/milenage.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { hex, readJsonFixture } from '../helpers/fixtures.js';

interface MilenageSet {
  name: string;
  k: string;
  rand: string;
  sqn: string;
  amf: string;
  op: string;
  opc: string;
  f1: string;
  f1star: string;
  f2: string;
  f3: string;
  f4: string;
  f5: string;
  f5star: string;
}

const SETS = ['milenage-35207.json', 'milenage-35208.json'].flatMap(
  (file) => readJsonFixture<{ sets: MilenageSet[] }>('vectors', file).sets,
);

const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
const batchInput = fc.record({ rand: bytes(16), sqn: bytes(6), amf: bytes(2) });

function rejectsLength(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => e instanceof CryptoError && e.code === 'INVALID_ARGUMENT' && e.message.includes(field));
}

describe('Milenage: TS 35.207 / TS 35.208 test sets', () => {
  it('uses every set of both files', () => assert.equal(SETS.length, 15));

  for (const s of SETS) {
    it(s.name, () => {
      const [k, opc, rand, sqn, amf] = [hex(s.k), hex(s.opc), hex(s.rand), hex(s.sqn), hex(s.amf)];
      assert.equal(computeOpc(k, hex(s.op)).toString('hex'), s.opc);
      assert.equal(f1(k, opc, rand, sqn, amf).toString('hex'), s.f1);
      assert.equal(f1star(k, opc, rand, sqn, amf).toString('hex'), s.f1star);
      const r = f2345(k, opc, rand);
      assert.equal(r.res.toString('hex'), s.f2);
      assert.equal(r.ck.toString('hex'), s.f3);
      assert.equal(r.ik.toString('hex'), s.f4);
      assert.equal(r.ak.toString('hex'), s.f5);
      assert.equal(f5star(k, opc, rand).toString('hex'), s.f5star);
    });

    it(`${s.name} inside a batch of other vectors (batch API)`, () => {
      const [k, rand, sqn, amf] = [hex(s.k), hex(s.rand), hex(s.sqn), hex(s.amf)];
      const others = [0, 1, 2].map((i) => ({
        rand: Buffer.alloc(16, i),
        sqn: Buffer.alloc(6, i),
        amf: Buffer.alloc(2, i),
      }));
      const v = milenageBatch(k, hex(s.opc), [...others.slice(0, 2), { rand, sqn, amf }, others[2]!])[2]!;
      assert.equal(v.macA.toString('hex'), s.f1);
      assert.equal(v.xres.toString('hex'), s.f2);
      assert.equal(v.ck.toString('hex'), s.f3);
      assert.equal(v.ik.toString('hex'), s.f4);
      assert.equal(v.ak.toString('hex'), s.f5);
      const sqnXorAk = Buffer.from(sqn.map((b, i) => b ^ hex(s.f5)[i]!));
      assert.equal(v.autn.toString('hex'), sqnXorAk.toString('hex') + s.amf + s.f1);
      assert.deepEqual([v.rand, v.sqn, v.amf], [rand, sqn, amf]);
      const packed = Milenage.fromOp(k, hex(s.op)).computePacked(rand, sqn, amf, 1);
      const at = (field: keyof typeof MILENAGE_RECORD, n: number): string =>
        packed.subarray(MILENAGE_RECORD[field], MILENAGE_RECORD[field] + n).toString('hex');
      assert.equal(at('macS', 8), s.f1star);
      assert.equal(at('akStar', 6), s.f5star);
    });
  }
});

describe('Milenage batch', () => {
  it('every vector equals the single-vector functions (random keys and inputs)', () => {
    fc.assert(
      fc.property(bytes(16), bytes(16), fc.array(batchInput, { minLength: 1, maxLength: 12 }), (k, opc, inputs) => {
        const vectors = milenageBatch(k, opc, inputs);
        assert.equal(vectors.length, inputs.length);
        inputs.forEach(({ rand, sqn, amf }, i) => {
          const v = vectors[i]!;
          const r = f2345(k, opc, rand);
          assert.deepEqual(v.macA, f1(k, opc, rand, sqn, amf));
          assert.deepEqual([v.xres, v.ck, v.ik, v.ak], [r.res, r.ck, r.ik, r.ak]);
          assert.deepEqual(v.autn.subarray(0, 6), Buffer.from(sqn.map((b, j) => b ^ r.ak[j]!)));
          assert.deepEqual(v.autn.subarray(6), Buffer.concat([amf, v.macA]));
        });
      }),
      { numRuns: 50 },
    );
  });

  it('packed records carry MAC-S and AK*; shared AMF, per-vector AMFs and unaligned inputs agree', () => {
    fc.assert(
      fc.property(bytes(16), bytes(16), fc.array(batchInput, { minLength: 1, maxLength: 8 }), bytes(2), (k, opc, xs, amf) => {
        const m = new Milenage(k, opc);
        const rands = Buffer.concat(xs.map((x) => x.rand));
        const sqns = Buffer.concat(xs.map((x) => x.sqn));
        const shared = m.computePacked(rands, sqns, amf, xs.length);
        const perVector = m.computePacked(rands, sqns, Buffer.concat(xs.map(() => amf)), xs.length);
        assert.deepEqual(shared, perVector);
        const unaligned = (b: Uint8Array): Buffer => Buffer.concat([Buffer.of(0), b]).subarray(1);
        assert.deepEqual(m.computePacked(unaligned(rands), unaligned(sqns), unaligned(amf), xs.length), shared);
        const { macS, akStar, size } = MILENAGE_RECORD;
        xs.forEach(({ rand, sqn }, i) => {
          assert.deepEqual(shared.subarray(i * size + macS, i * size + macS + 8), m.f1star(rand, sqn, amf));
          assert.deepEqual(shared.subarray(i * size + akStar, i * size + akStar + 6), m.f5star(rand));
        });
      }),
      { numRuns: 30 },
    );
  });

  it('crosses the internal chunk boundary (4096 vectors per cipher call) correctly', () => {
    const s = SETS[0]!;
    const k = hex(s.k);
    const opc = hex(s.opc);
    const count = 4096 * 2 + 3;
    const inputs: MilenageBatchInput[] = Array.from({ length: count }, (_, i) => {
      const rand = Buffer.alloc(16);
      rand.writeUInt32BE(i, 12);
      return { rand, sqn: Buffer.from([0, 0, 0, 0, i >> 8, i & 0xff]), amf: Buffer.from([0x80, i & 0xff]) };
    });
    inputs[4096] = { rand: hex(s.rand), sqn: hex(s.sqn), amf: hex(s.amf) };
    const vectors = new Milenage(k, opc).generateVectors(inputs);
    assert.equal(vectors[4096]!.macA.toString('hex'), s.f1);
    assert.equal(vectors[4096]!.ck.toString('hex'), s.f3);
    for (const i of [0, 4095, 4097, 8191, 8192, count - 1]) {
      const { rand, sqn, amf } = inputs[i]!;
      assert.deepEqual(vectors[i]!.macA, f1(k, opc, rand, sqn, amf), `vector ${i}`);
      assert.deepEqual(vectors[i]!.ik, f2345(k, opc, rand).ik, `vector ${i}`);
    }
  });

  it('an empty batch gives no vectors', () => {
    assert.deepEqual(milenageBatch(Buffer.alloc(16), Buffer.alloc(16), []), []);
  });

  it('copies inputs that are not Buffers, so the vector holds Buffers', () => {
    const [v] = milenageBatch(Buffer.alloc(16), Buffer.alloc(16), [
      { rand: new Uint8Array(16).fill(7), sqn: new Uint8Array(6), amf: new Uint8Array(2) },
    ]);
    assert.ok(Buffer.isBuffer(v!.rand) && Buffer.isBuffer(v!.sqn) && Buffer.isBuffer(v!.amf));
    assert.equal(v!.rand.toString('hex'), '07'.repeat(16));
  });
});

describe('Milenage input validation', () => {
  const k = Buffer.alloc(16);
  it('rejects wrong key, OP and OPc lengths', () => {
    rejectsLength(() => new Milenage(Buffer.alloc(15), k), 'K must be 16 bytes, got 15');
    rejectsLength(() => new Milenage(k, Buffer.alloc(17)), 'OPc must be 16 bytes, got 17');
    rejectsLength(() => computeOpc(k, Buffer.alloc(8)), 'OP must be 16 bytes');
  });
  it('rejects wrong RAND, SQN and AMF lengths', () => {
    const m = new Milenage(k, k);
    rejectsLength(() => m.f1(Buffer.alloc(15), Buffer.alloc(6), Buffer.alloc(2)), 'RAND');
    rejectsLength(() => m.f1star(Buffer.alloc(16), Buffer.alloc(5), Buffer.alloc(2)), 'SQN');
    rejectsLength(() => m.f1(Buffer.alloc(16), Buffer.alloc(6), Buffer.alloc(3)), 'AMF');
    rejectsLength(() => m.f2345(Buffer.alloc(0)), 'RAND');
  });
  it('names the offending vector of a batch', () => {
    const good = { rand: Buffer.alloc(16), sqn: Buffer.alloc(6), amf: Buffer.alloc(2) };
    rejectsLength(() => milenageBatch(k, k, [good, { ...good, sqn: Buffer.alloc(7) }]), 'SQN[1]');
    const m = new Milenage(k, k);
    rejectsLength(() => m.computePacked(Buffer.alloc(32), Buffer.alloc(12), Buffer.alloc(3), 2), 'AMF batch');
    assert.throws(() => new Milenage(k, k).computePacked(Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(2), -1), {
      code: 'INVALID_ARGUMENT',
    });
  });
});
