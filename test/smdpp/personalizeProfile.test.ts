// Personalization (src/smdpp/personalizeProfile.ts, generateProfiles.ts): on every TS.48 fixture, for Milenage and TUAK
// 128/256, each package decodes, re-encodes byte for byte and carries exactly the values written; ICCIDs carry their Luhn
// digit, IMSIs the EF.IMSI coding, K is fresh per profile and OPc/TOPc is derived from the type's OP/TOP; hostile
// templates are refused with TEMPLATE_NOT_PATCHABLE.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { decodeProfilePackage, encodeIccid, encodeImsi, encodeProfilePackage, iccidDigitsFromHeader } from '../../src/asn1/definitions/saip.js';
import { computeOpc } from '../../src/crypto/milenage.js';
import { computeTopc } from '../../src/crypto/tuak.js';
import { decodeTlvList } from '../../src/asn1/tlv.js';
import { McimError } from '../../src/errors.js';
import { luhnDigit, personalizeProfiles } from '../../src/smdpp/generateProfiles.js';
import { MAX_TEMPLATE_SIZE, personalize, planPersonalization, prepareTemplate, readPersonalizedContents, type PatchPlan } from '../../src/smdpp/personalizeProfile.js';
import { CODE_NAMES, checkProfileTypeRules, type ProfileTypeRules } from '../../src/smdpp/profileType.js';
import { tuakParams } from '../../src/euicc/usim/akaAlgorithm.js';
import { fixturePath, readFixture } from '../helpers/fixtures.js';

const FIXTURES = readdirSync(fixturePath('ts48')).filter((f) => f.endsWith('.der'));
const OP = '63bfa50ee6523365ff14c1f45f88737d';
const TOP = '5555555555555555555555555555555555555555555555555555555555555555';
const ALGORITHMS: readonly { name: string; rules: ProfileTypeRules; id: number }[] = [
  { name: 'Milenage', rules: checkProfileTypeRules({ algorithm: 'milenage', op: OP }), id: 1 },
  { name: 'TUAK-128', rules: checkProfileTypeRules({ algorithm: 'tuak', keyLength: 16, op: TOP }), id: 2 },
  { name: 'TUAK-256', rules: checkProfileTypeRules({ algorithm: 'tuak', keyLength: 32, op: TOP, tuak: { keccakIterations: 3 } }), id: 2 },
];

function notPatchable(e: unknown): boolean {
  return e instanceof McimError && e.code === 'TEMPLATE_NOT_PATCHABLE';
}

/** A value of `n` random decimal digits. */
const digits = (min: number, max: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

it('the fixtures are the six TS.48 profiles', () => {
  assert.equal(FIXTURES.length, 6);
});

it("luhnDigit gives each TS.48 fixture's ICCID check digit and the ISO/IEC 7812 example", () => {
  assert.equal(luhnDigit('7992739871'), '3');
  for (const f of FIXTURES) {
    const header = decodeProfilePackage(readFixture('ts48', f)).elements.find((e) => e.type === 'header')!;
    const iccid = iccidDigitsFromHeader(header.type === 'header' ? header.value.iccid : Buffer.alloc(0));
    assert.equal(luhnDigit(iccid.slice(0, -1)), iccid.at(-1), f);
  }
});

for (const alg of ALGORITHMS) {
  describe(`personalization, ${alg.name}`, () => {
    const plans = new Map<string, PatchPlan>(FIXTURES.map((f) => [f, planPersonalization(prepareTemplate(readFixture('ts48', f), alg.rules), alg.rules)]));

    it('the prepared template names the algorithm in the AKA parameters and the mandatory services', () => {
      for (const [f, plan] of plans) {
        const elements = decodeProfilePackage(plan.template).elements;
        const header = elements.find((e) => e.type === 'header');
        assert.ok(header?.type === 'header');
        const service = alg.rules.algorithm === 'milenage' ? 'milenage' : alg.rules.keyLength === 16 ? 'tuak128' : 'tuak256';
        assert.equal(header.value.eUICCMandatoryServices[service], null, f);
        assert.equal(header.value.eUICCMandatoryServices.usimTestAlgorithm, undefined, f);
        const back = readPersonalizedContents(plan.template);
        assert.equal(back.algorithmIds.length, 2, `${f}: USIM and ISIM AKA parameters`);
        assert.ok(back.algorithmIds.every((id) => id === alg.id));
        // Preparing again changes nothing: a template already of the type's algorithm is kept as it is.
        assert.ok(prepareTemplate(plan.template, alg.rules).equals(plan.template), f);
      }
    });

    it('every package decodes, re-encodes identically and carries exactly the values written (property)', () => {
      const opcLength = alg.rules.algorithm === 'milenage' ? 16 : 32;
      fc.assert(
        fc.property(
          fc.constantFrom(...FIXTURES),
          digits(18, 19),
          digits(6, 15),
          fc.uint8Array({ minLength: alg.rules.keyLength, maxLength: alg.rules.keyLength }),
          fc.uint8Array({ minLength: opcLength, maxLength: opcLength }),
          fc.record(Object.fromEntries(CODE_NAMES.map((n) => [n, digits(n.startsWith('pin') ? 4 : 8, 8)])) as Record<(typeof CODE_NAMES)[number], fc.Arbitrary<string>>),
          (f, body, imsi, k, opc, codes) => {
            const plan = plans.get(f)!;
            const iccid = body + luhnDigit(body);
            const pkg = personalize(plan, { iccid, imsi, k: Buffer.from(k), opc: Buffer.from(opc), codes });
            assert.equal(pkg.length, plan.template.length);
            assert.ok(encodeProfilePackage(decodeProfilePackage(pkg).elements).equals(pkg));
            const back = readPersonalizedContents(pkg);
            assert.equal(back.iccid, iccid);
            assert.equal(back.imsi, imsi);
            assert.ok(back.keys.every((x) => x.equals(Buffer.from(k))));
            assert.ok(back.opcs.every((x) => x.equals(Buffer.from(opc))));
            for (const n of CODE_NAMES) assert.ok(back.codes[n].length > 0 && back.codes[n].every((v) => v === codes[n]), n);
            // The codings, byte for byte: EF.ICCID (swapped BCD), header (BCD in order), EF.IMSI (TS 31.102 4.2.2).
            assert.ok(pkg.subarray(plan.efIccid, plan.efIccid + 10).equals(encodeIccid(iccid)));
            assert.equal(pkg.subarray(plan.headerIccid, plan.headerIccid + 10).toString('hex'), iccid.padEnd(20, 'f'));
            assert.ok(pkg.subarray(plan.efImsi, plan.efImsi + 9).equals(encodeImsi(imsi)));
          },
        ),
        { numRuns: 40 },
      );
    });

    it('generated profiles: consecutive ICCIDs with their Luhn digit and IMSIs, fresh distinct K, OPc/TOPc from OP/TOP, codes of the template lengths', () => {
      const plan = plans.get(FIXTURES[0]!)!;
      const rules = { ...alg.rules, iccidPrefix: '8988', imsiPrefix: '00101' };
      const profiles = [...personalizeProfiles(plan, rules, { count: 60, iccidStart: '898800000000000099', imsiStart: '001010000000098' })];
      assert.equal(new Set(profiles.map((p) => p.secrets.k)).size, 60);
      profiles.forEach((p, i) => {
        const body = (898800000000000099n + BigInt(i)).toString();
        assert.equal(p.iccid, body + luhnDigit(body));
        assert.equal(p.imsi, (1010000000098 + i).toString().padStart(15, '0'));
        const k = Buffer.from(p.secrets.k, 'hex');
        assert.equal(k.length, rules.keyLength);
        const expected = rules.algorithm === 'milenage' ? computeOpc(k, Buffer.from(OP, 'hex')) : computeTopc(k, Buffer.from(TOP, 'hex'), rules.tuak!.keccakIterations);
        assert.equal(p.secrets.opc, expected.toString('hex'));
        const back = readPersonalizedContents(p.package);
        assert.equal(back.iccid, p.iccid);
        assert.equal(back.imsi, p.imsi);
        assert.ok(back.keys.every((x) => x.equals(k)) && back.opcs.every((x) => x.equals(expected)));
        // TS.48: PIN1 and PIN2 of 4 digits, ADM1 and the PUKs of 8.
        assert.deepEqual(CODE_NAMES.map((n) => p.secrets.codes[n]!.length), [4, 4, 8, 8, 8]);
        for (const n of CODE_NAMES) assert.ok(back.codes[n].every((v) => v === p.secrets.codes[n]));
      });
      assert.ok(new Set(profiles.map((p) => p.secrets.codes.adm1)).size > 50, 'ADM1 random per profile');
    });
  });
}

describe('profile type rules', () => {
  const template = readFixture('ts48', FIXTURES[0]!);

  it('fixed and template codes: fixed values written everywhere, template values kept', () => {
    const rules = checkProfileTypeRules({ op: OP, codes: { pin1: '1234', pin2: 'template', adm1: '12345678', puk1: { mode: 'fixed', value: '87654321' } } });
    const plan = planPersonalization(prepareTemplate(template, rules), rules);
    const [p] = [...personalizeProfiles(plan, rules, { count: 1, iccidStart: '898800000000000000', imsiStart: '001010000000001' })];
    const back = readPersonalizedContents(p!.package);
    assert.deepEqual(back.codes.pin1, ['1234']);
    assert.deepEqual(back.codes.pin2, ['9999', '9999', '9999', '9999']);
    assert.deepEqual(back.codes.adm1, ['12345678']);
    assert.deepEqual(back.codes.puk1, ['87654321']);
    assert.equal(p!.secrets.codes.pin2, undefined);
  });

  it('refuses rules it cannot apply', () => {
    for (const input of [
      {},
      { op: 'zz' },
      { algorithm: 'milenage', keyLength: 32, op: OP },
      { algorithm: 'tuak', op: OP },
      { algorithm: 'xor', op: OP },
      { op: OP, codes: { pin3: '1234' } },
      { op: OP, codes: { pin1: '12' } },
      { op: OP, codes: { adm1: '1234' } },
      { op: OP, amf: '80000' },
      { algorithm: 'tuak', op: TOP, tuak: { macLength: 12 } },
    ]) {
      assert.throws(() => checkProfileTypeRules(input), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT', JSON.stringify(input));
    }
  });

  it("TUAK: the prepared template gives the card the type's output lengths and Keccak iterations (algorithmOptions as the eUICC reads it)", () => {
    let combinations = 0;
    for (const macLength of [8, 16, 32])
      for (const resLength of [4, 8, 16, 32])
        for (const ckLength of [16, 32])
          for (const ikLength of [16, 32]) {
            const keccakIterations = 1 + (combinations % 3);
            const tuakRules = checkProfileTypeRules({ algorithm: 'tuak', keyLength: 32, op: TOP, tuak: { macLength, resLength, ckLength, ikLength, keccakIterations } });
            const plan = planPersonalization(prepareTemplate(template, tuakRules), tuakRules);
            const params = decodeProfilePackage(plan.template).elements.flatMap((e) => (e.type === 'akaParameter' && e.value.algoConfiguration.type === 'algoParameter' ? [e.value.algoConfiguration.value] : []));
            assert.equal(params.length, 2);
            for (const p of params) {
              assert.deepEqual(tuakParams(p.algorithmOptions[0]!, p.numberOfKeccak ?? 1), { macBits: macLength * 8, resBits: resLength * 8, ckBits: ckLength * 8, ikBits: ikLength * 8, keccakIterations });
            }
            combinations++;
          }
    assert.equal(combinations, 48);
  });

  it('generation refuses ranges that overflow or leave the prefixes', () => {
    const rules = checkProfileTypeRules({ op: OP, iccidPrefix: '8988', imsiPrefix: '00101' });
    const plan = planPersonalization(prepareTemplate(template, rules), rules);
    for (const r of [
      { count: 2, iccidStart: '899999999999999999', imsiStart: '001010000000001' },
      { count: 1, iccidStart: '898700000000000000', imsiStart: '001010000000001' },
      { count: 1, iccidStart: '898800000000000000', imsiStart: '001020000000001' },
      { count: 2, iccidStart: '898800000000000000', imsiStart: '001019999999999' },
      { count: 0, iccidStart: '898800000000000000', imsiStart: '001010000000001' },
      { count: 1, iccidStart: '8988000000000000000000', imsiStart: '001010000000001' },
    ]) {
      assert.throws(() => [...personalizeProfiles(plan, rules, r)], (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT', JSON.stringify(r));
    }
  });
});

describe('hostile templates', () => {
  const rules = ALGORITHMS[0]!.rules;
  const template = readFixture('ts48', FIXTURES[2]!);

  /** The fixture with its elements edited through the codec. */
  function edited(edit: (elements: ReturnType<typeof decodeProfilePackage>['elements']) => void): Buffer {
    const elements = decodeProfilePackage(template).elements;
    edit(elements);
    return encodeProfilePackage(elements);
  }

  it('truncated templates are refused with TEMPLATE_NOT_PATCHABLE', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: template.length - 1 }), (cut) => {
        // Every cut, at an element boundary too: a template must end with its PE-End.
        assert.throws(() => prepareTemplate(template.subarray(0, cut), rules), notPatchable);
      }),
      { numRuns: 200 },
    );
  });

  it('a template cut at any profile element boundary is refused', () => {
    const ends = decodeTlvList(template).map((tlv) => tlv.offset + tlv.raw.length);
    assert.equal(ends.at(-1), template.length);
    for (const end of ends.slice(0, -1)) assert.throws(() => prepareTemplate(template.subarray(0, end), rules), notPatchable, `cut at ${end}`);
  });

  it('mutated templates are refused with TEMPLATE_NOT_PATCHABLE or personalized correctly (the plan proves itself)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: template.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (flips) => {
        const mutated = Buffer.from(template);
        for (const [at, value] of flips) mutated[at] = value;
        let plan: PatchPlan;
        try {
          plan = planPersonalization(prepareTemplate(mutated, rules), rules);
        } catch (e) {
          assert.ok(notPatchable(e), String(e));
          return;
        }
        const [p] = [...personalizeProfiles(plan, rules, { count: 1, iccidStart: '898800000000000007', imsiStart: '001019876543210' })];
        const back = readPersonalizedContents(p!.package);
        assert.equal(back.iccid, p!.iccid);
        assert.equal(back.imsi, p!.imsi);
      }),
      { numRuns: 40 },
    );
  });

  it('templates missing a field, or whose field is not one fixed-length run, are refused', () => {
    const cases: Record<string, Buffer> = {
      'no PE-USIM': edited((pes) => pes.splice(pes.findIndex((e) => e.type === 'usim'), 1)),
      'no PE-MF': edited((pes) => pes.splice(pes.findIndex((e) => e.type === 'mf'), 1)),
      'cut after a profile element (no PE-End)': edited((pes) => pes.pop()),
      'ProfileHeader not first': edited((pes) => pes.push(pes.shift()!)),
      'no AKA parameters': edited((pes) => {
        for (let i = pes.length - 1; i >= 0; i--) if (pes[i]!.type === 'akaParameter') pes.splice(i, 1);
      }),
      'no PE-PUKCodes': edited((pes) => pes.splice(pes.findIndex((e) => e.type === 'pukCodes'), 1)),
      'EF.IMSI written at an offset': edited((pes) => {
        const usim = pes.find((e) => e.type === 'usim');
        if (usim?.type === 'usim') usim.value.efImsi.splice(1, 0, { type: 'fillFileOffset', value: 1 });
      }),
      'EF.IMSI shorter than 9 bytes': edited((pes) => {
        const usim = pes.find((e) => e.type === 'usim');
        if (usim?.type === 'usim') usim.value.efImsi[1] = { type: 'fillFileContent', value: Buffer.from('0809101010325406', 'hex') };
      }),
      'too large': Buffer.concat([template, Buffer.alloc(MAX_TEMPLATE_SIZE)]),
      'not DER (non-minimal length)': Buffer.concat([Buffer.of(template[0]!, 0x83, 0x00), template.subarray(2)]),
    };
    for (const [name, t] of Object.entries(cases)) {
      assert.throws(() => planPersonalization(prepareTemplate(t, rules), rules), notPatchable, name);
    }
    // Without PUKs the template is still usable when the PUKs are kept from it.
    const keepPuks = checkProfileTypeRules({ op: OP, codes: { puk1: 'template', puk2: 'template' } });
    assert.ok(planPersonalization(prepareTemplate(cases['no PE-PUKCodes']!, keepPuks), keepPuks));
  });

  it('a template whose AKA parameters are not the type algorithm is refused by the plan (prepare first)', () => {
    assert.throws(() => planPersonalization(template, rules), notPatchable);
    const tuak = ALGORITHMS[2]!.rules;
    assert.throws(() => planPersonalization(prepareTemplate(template, rules), tuak), notPatchable);
    // Prepared for TUAK with other output lengths or Keccak iterations: the card would not compute what the AuC does.
    const otherLengths = checkProfileTypeRules({ algorithm: 'tuak', keyLength: 32, op: TOP, tuak: { resLength: 16, keccakIterations: 3 } });
    const otherIterations = checkProfileTypeRules({ algorithm: 'tuak', keyLength: 32, op: TOP });
    assert.throws(() => planPersonalization(prepareTemplate(template, otherLengths), tuak), notPatchable);
    assert.throws(() => planPersonalization(prepareTemplate(template, otherIterations), tuak), notPatchable);
    assert.ok(planPersonalization(prepareTemplate(template, tuak), tuak));
  });
});
