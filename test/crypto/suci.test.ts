// SUCI concealment (TS 33.501 Annex C.3/C.4): the Annex C.4 test data, public SUCI strings, round trips, rejections.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ECDH } from 'node:crypto';
import fc from 'fast-check';
import {
  concealSuci,
  deconcealSuci,
  decodeMsinBcd,
  eciesDecrypt,
  eciesEncrypt,
  encodeMsinBcd,
  formatSuci,
  hnPublicKeyOf,
  parseSuci,
} from '../../src/crypto/suci.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { hex, readJsonFixture } from '../helpers/fixtures.js';

interface EciesSet {
  name: string;
  type: 'ecies';
  profile: 'A' | 'B';
  hn_private_key: string;
  hn_public_key: string;
  eph_private_key: string;
  eph_public_key: string;
  plaintext: string;
  ciphertext: string;
  mac_tag: string;
}

interface SuciSet {
  name: string;
  type: 'suci';
  suci: string;
  protection_scheme: string;
  hn_key_id: number;
  hn_private_key?: string;
  expected_supi?: string;
  expect_reject: boolean;
}

const SETS = readJsonFixture<{ sets: (EciesSet | SuciSet)[] }>('vectors', 'suci-33501.json').sets;
const ECIES = SETS.filter((s): s is EciesSet => s.type === 'ecies');
const SUCIS = SETS.filter((s): s is SuciSet => s.type === 'suci');
const PROFILE_A = ECIES.find((s) => s.profile === 'A')!;
const PROFILE_B = ECIES.find((s) => s.profile === 'B')!;

function code(c: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof CryptoError && e.code === c;
}

/** A compressed secp256r1 encoding whose x has no point on the curve (x^3 - 3x + b is not a square). */
function offCurvePoint(): Buffer {
  const p = Buffer.alloc(33);
  p[0] = 0x02;
  for (let x = 1; ; x++) {
    p.writeUInt32BE(x, 29);
    try {
      ECDH.convertKey(p, 'prime256v1', undefined, undefined, 'uncompressed');
    } catch {
      return p;
    }
  }
}

describe('ECIES: TS 33.501 Annex C.4 test data', () => {
  it('uses both profiles', () => assert.deepEqual(ECIES.map((s) => s.profile).sort(), ['A', 'B']));

  for (const s of ECIES) {
    it(`${s.name}: conceal with the given ephemeral key`, () => {
      const out = eciesEncrypt(s.profile, hex(s.hn_public_key), hex(s.plaintext), hex(s.eph_private_key));
      assert.equal(out.toString('hex'), s.eph_public_key + s.ciphertext + s.mac_tag);
    });

    it(`${s.name}: deconceal with the home network private key`, () => {
      const output = hex(s.eph_public_key + s.ciphertext + s.mac_tag);
      assert.equal(eciesDecrypt(s.profile, hex(s.hn_private_key), output).toString('hex'), s.plaintext);
      assert.equal(hnPublicKeyOf(s.profile, hex(s.hn_private_key)).toString('hex'), s.hn_public_key);
    });

    it(`${s.name}: the scheme input is the BCD MSIN`, () => {
      const msin = decodeMsinBcd(hex(s.plaintext));
      assert.equal(encodeMsinBcd(msin).toString('hex'), s.plaintext);
    });
  }

  it('profile B accepts the HN public key uncompressed as well', () => {
    const hn = ECDH.convertKey(hex(PROFILE_B.hn_public_key), 'prime256v1', undefined, undefined, 'uncompressed') as Buffer;
    assert.equal(hn.length, 65);
    const out = eciesEncrypt('B', hn, hex(PROFILE_B.plaintext), hex(PROFILE_B.eph_private_key));
    assert.equal(out.toString('hex'), PROFILE_B.eph_public_key + PROFILE_B.ciphertext + PROFILE_B.mac_tag);
  });
});

describe('SUCI strings (free5gc/udm TestToSupi)', () => {
  it('uses every SUCI set', () => assert.equal(SUCIS.length, 6));

  for (const s of SUCIS) {
    it(s.name, () => {
      const key = s.hn_private_key === undefined ? undefined : hex(s.hn_private_key);
      if (s.expect_reject) {
        assert.throws(() => deconcealSuci(s.suci, key), code('INVALID_POINT'));
        return;
      }
      const r = deconcealSuci(s.suci, key);
      assert.equal(r.supi, s.expected_supi);
      assert.equal(r.hnKeyId, s.hn_key_id);
      assert.equal(r.profile, { 0: 'null', 1: 'A', 2: 'B' }[s.protection_scheme]);
      assert.equal(formatSuci(parseSuci(s.suci)), s.suci);
    });
  }

  it('conceal with the C.4.3 ephemeral key gives the profile A SUCI string of the set', () => {
    const set = SUCIS.find((s) => s.protection_scheme === '1')!;
    const { mcc, mnc, routingIndicator, hnKeyId } = parseSuci(set.suci);
    const supi = set.expected_supi!;
    const suci = concealSuci({
      mcc,
      mnc,
      msin: supi.slice(5 + mcc.length + mnc.length),
      routingIndicator,
      profile: 'A',
      hnKeyId,
      hnPublicKey: hex(PROFILE_A.hn_public_key),
      ephemeralPrivateKey: hex(PROFILE_A.eph_private_key),
    });
    assert.equal(suci, set.suci);
  });
});

describe('SUCI round trips', () => {
  const profileKeys = fc.constantFrom(
    { profile: 'A' as const, priv: hex(PROFILE_A.hn_private_key) },
    { profile: 'B' as const, priv: hex(PROFILE_B.hn_private_key) },
  );
  const imsi = fc
    .tuple(fc.stringMatching(/^\d{3}$/), fc.stringMatching(/^\d{2,3}$/))
    .chain(([mcc, mnc]) =>
      fc.stringMatching(new RegExp(`^\\d{1,${15 - 3 - mnc.length}}$`)).map((msin) => ({ mcc, mnc, msin })),
    );

  it('conceal then deconceal gives back the SUPI (random MSIN, profiles A and B, random ephemeral keys)', () => {
    fc.assert(
      fc.property(profileKeys, imsi, fc.stringMatching(/^\d{1,4}$/), fc.nat({ max: 255 }), (key, id, ri, keyId) => {
        const suci = concealSuci({
          ...id,
          routingIndicator: ri,
          profile: key.profile,
          hnKeyId: keyId,
          hnPublicKey: hnPublicKeyOf(key.profile, key.priv),
        });
        const output = parseSuci(suci).schemeOutput;
        const ephLength = key.profile === 'A' ? 32 : 33;
        assert.equal(output.length / 2, ephLength + Math.ceil(id.msin.length / 2) + 8);
        const r = deconcealSuci(suci, key.priv);
        assert.deepEqual(r, {
          supi: `imsi-${id.mcc}${id.mnc}${id.msin}`,
          ...id,
          routingIndicator: ri,
          profile: key.profile,
          hnKeyId: keyId,
        });
      }),
      { numRuns: 60 },
    );
  });

  it('profile B with random ephemeral keys: one in 256 private keys has a leading zero byte', () => {
    const hn = hex(PROFILE_B.hn_public_key);
    const priv = hex(PROFILE_B.hn_private_key);
    const plaintext = hex(PROFILE_B.plaintext);
    for (let i = 0; i < 2000; i++) {
      assert.deepEqual(eciesDecrypt('B', priv, eciesEncrypt('B', hn, plaintext)), plaintext);
    }
  });

  it('the null-scheme carries the MSIN in clear', () => {
    const imsi = { mcc: '001', mnc: '01', msin: '0123456789' };
    const suci = concealSuci({ ...imsi, routingIndicator: '0', profile: 'null', hnKeyId: 0 });
    assert.equal(suci, 'suci-0-001-01-0-0-0-0123456789');
    assert.equal(deconcealSuci(suci).supi, 'imsi-001010123456789');
  });

  it('MSIN BCD round trip for every length', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{1,10}$/), (msin) => {
        const bcd = encodeMsinBcd(msin);
        assert.equal(bcd.length, Math.ceil(msin.length / 2));
        assert.equal(decodeMsinBcd(bcd), msin);
      }),
    );
  });
});

describe('SUCI rejections', () => {
  const outputA = hex(PROFILE_A.eph_public_key + PROFILE_A.ciphertext + PROFILE_A.mac_tag);
  const outputB = hex(PROFILE_B.eph_public_key + PROFILE_B.ciphertext + PROFILE_B.mac_tag);

  it('a tampered MAC tag or ciphertext is a MAC failure', () => {
    for (const [profile, output, priv] of [
      ['A', outputA, PROFILE_A.hn_private_key],
      ['B', outputB, PROFILE_B.hn_private_key],
    ] as const) {
      for (const at of [output.length - 1, output.length - 9]) {
        const tampered = Buffer.from(output);
        tampered[at]! ^= 1;
        assert.throws(() => eciesDecrypt(profile, hex(priv), tampered), code('MAC_FAILURE'));
      }
    }
  });

  it('a tampered SUCI string is a MAC failure', () => {
    const set = SUCIS.find((s) => s.protection_scheme === '2' && !s.expect_reject)!;
    const tampered = set.suci.slice(0, -1) + (set.suci.endsWith('0') ? '1' : '0');
    assert.throws(() => deconcealSuci(tampered, hex(set.hn_private_key!)), code('MAC_FAILURE'));
  });

  it('profile B: an ephemeral or HN public key that is not on the curve', () => {
    const bad = offCurvePoint();
    const withBadEph = Buffer.concat([bad, outputB.subarray(33)]);
    assert.throws(() => eciesDecrypt('B', hex(PROFILE_B.hn_private_key), withBadEph), code('INVALID_POINT'));
    assert.throws(() => eciesEncrypt('B', bad, hex(PROFILE_B.plaintext)), code('INVALID_POINT'));
  });

  it('profile A: a low-order public key (all-zero shared secret)', () => {
    assert.throws(() => eciesEncrypt('A', Buffer.alloc(32), hex(PROFILE_A.plaintext)), code('INVALID_POINT'));
    const lowOrderEph = Buffer.concat([Buffer.alloc(32), outputA.subarray(32)]);
    assert.throws(() => eciesDecrypt('A', hex(PROFILE_A.hn_private_key), lowOrderEph), code('INVALID_POINT'));
  });

  it('wrong key lengths', () => {
    assert.throws(() => eciesEncrypt('A', Buffer.alloc(31, 9), hex(PROFILE_A.plaintext)), code('INVALID_ARGUMENT'));
    assert.throws(() => eciesEncrypt('B', Buffer.alloc(32, 2), hex(PROFILE_B.plaintext)), code('INVALID_ARGUMENT'));
    assert.throws(() => eciesDecrypt('A', Buffer.alloc(31), outputA), code('INVALID_ARGUMENT'));
    assert.throws(() => eciesDecrypt('B', Buffer.alloc(33), outputB), code('INVALID_ARGUMENT'));
    const hnA = hex(PROFILE_A.hn_public_key);
    assert.throws(() => eciesEncrypt('A', hnA, Buffer.of(1), Buffer.alloc(16)), code('INVALID_ARGUMENT'), 'ephemeral key');
    assert.throws(() => eciesDecrypt('B', Buffer.alloc(32), outputB), code('INVALID_KEY'), 'zero is no private key');
    const privA = hex(PROFILE_A.hn_private_key);
    assert.throws(() => eciesDecrypt('A', privA, outputA.subarray(0, 40)), code('INVALID_ARGUMENT'), 'truncated');
  });

  it('malformed SUCI strings and unsupported schemes', () => {
    for (const s of [
      'suci-1-001-01-0-0-0-0123',
      'suci-0-01-01-0-0-0-0123',
      'suci-0-001-01-00000-0-0-0123',
      'suci-0-001-01-0-16-0-0123',
      'suci-0-001-01-0-1-256-00',
      'suci-0-001-01-0-1-1-abc',
      'suci-0-001-01-0-0-0-12ab',
      'imsi-001010123456789',
    ]) {
      assert.throws(() => deconcealSuci(s), code('INVALID_SUCI'), s);
    }
    assert.throws(() => deconcealSuci('suci-0-001-01-0-5-1-00'), code('UNSUPPORTED_SCHEME'));
    assert.throws(() => deconcealSuci(`suci-0-208-93-0-1-1-${outputA.toString('hex')}`), code('INVALID_ARGUMENT'));
  });

  it('malformed BCD MSIN', () => {
    assert.throws(() => decodeMsinBcd(hex('1f32')), code('INVALID_SUCI'), 'filler F before the last nibble');
    assert.throws(() => decodeMsinBcd(hex('a1')), code('INVALID_SUCI'));
    assert.throws(() => decodeMsinBcd(hex('ff')), code('INVALID_SUCI'));
    assert.throws(() => decodeMsinBcd(Buffer.alloc(0)), code('INVALID_SUCI'));
  });

  it('conceal rejects malformed SUPI parts and the null-scheme with a key id', () => {
    const base = { mcc: '001', mnc: '01', msin: '0123456789', routingIndicator: '0', hnKeyId: 0 };
    const profile = 'null' as const;
    assert.throws(() => concealSuci({ ...base, profile, msin: '01234567890' }), code('INVALID_ARGUMENT'), 'IMSI > 15 digits');
    assert.throws(() => concealSuci({ ...base, profile, mnc: '1' }), code('INVALID_ARGUMENT'));
    assert.throws(() => concealSuci({ ...base, profile, routingIndicator: '12345' }), code('INVALID_ARGUMENT'));
    assert.throws(() => concealSuci({ ...base, profile, hnKeyId: 1 }), code('INVALID_ARGUMENT'));
    assert.throws(() => concealSuci({ ...base, profile: 'A', hnKeyId: 1 }), code('INVALID_ARGUMENT'), 'no HN key');
  });
});
