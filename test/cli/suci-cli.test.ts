// `mcim suci conceal|deconceal`: the action functions against the TS 33.501 Annex C.4 data and public SUCI strings.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runSuciConceal, runSuciDeconceal } from '../../src/cli/commands/suci.js';
import { McimError } from '../../src/errors.js';
import { readJsonFixture } from '../helpers/fixtures.js';

interface SuciFixture {
  type: 'ecies' | 'suci';
  profile?: 'A' | 'B';
  protection_scheme?: string;
  suci?: string;
  hn_private_key?: string;
  hn_public_key?: string;
  eph_private_key?: string;
  expected_supi?: string;
  expect_reject?: boolean;
}

const SETS = readJsonFixture<{ sets: SuciFixture[] }>('vectors', 'suci-33501.json').sets;
const A = SETS.find((s) => s.type === 'ecies' && s.profile === 'A')!;
const B = SETS.find((s) => s.type === 'ecies' && s.profile === 'B')!;
const SUCI_A = SETS.find((s) => s.protection_scheme === '1')!;

function invalidArgument(text: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT' && e.message.includes(text);
}

describe('mcim suci conceal', () => {
  const common = {
    profile: 'A',
    hnKeyId: '1',
    routingIndicator: '0',
    hnPublicKey: A.hn_public_key,
    ephPrivateKey: A.eph_private_key,
  };
  const parts = { mcc: '208', mnc: '93', msin: '1' };

  it('--supi with --mnc-length, or --mcc/--mnc/--msin: the profile A SUCI of the test data', () => {
    const bySupi = runSuciConceal({ ...common, supi: SUCI_A.expected_supi, mncLength: '2' });
    assert.deepEqual(bySupi, { suci: SUCI_A.suci, supi: SUCI_A.expected_supi });
    const byParts = runSuciConceal({ ...common, mcc: '208', mnc: '93', msin: '001002086' });
    assert.deepEqual(byParts, bySupi);
  });

  it('profile B with a random ephemeral key deconceals to the same SUPI', () => {
    const imsi = { mcc: '001', mnc: '01', msin: '0123456789' };
    const r = runSuciConceal({ ...imsi, profile: 'B', hnKeyId: '2', routingIndicator: '0000', hnPublicKey: B.hn_public_key });
    assert.match(r.suci, /^suci-0-001-01-0000-2-2-0[23][0-9a-f]{90}$/);
    assert.equal(runSuciDeconceal({ suci: r.suci, hnPrivateKey: B.hn_private_key }).supi, 'imsi-001010123456789');
  });

  it('rejects ambiguous or incomplete SUPI options, bad keys and key ids', () => {
    assert.throws(() => runSuciConceal({ ...common, supi: SUCI_A.expected_supi }), invalidArgument('--mnc-length'));
    const supi = SUCI_A.expected_supi;
    assert.throws(() => runSuciConceal({ ...common, supi, mncLength: '2', mcc: '208' }), invalidArgument('either --supi'));
    assert.throws(() => runSuciConceal({ ...common, mcc: '208', mnc: '93' }), invalidArgument('go together'));
    assert.throws(() => runSuciConceal({ ...common, supi: 'imsi-12', mncLength: '2' }), invalidArgument('--supi'));
    assert.throws(() => runSuciConceal({ ...common, ...parts, hnKeyId: '256' }), invalidArgument('--hn-key-id'));
    assert.throws(() => runSuciConceal({ ...common, ...parts, hnPublicKey: 'ab' }), invalidArgument('--hn-public-key'));
    assert.throws(() => runSuciConceal({ ...common, ...parts, profile: 'C' }), invalidArgument('--profile'));
  });
});

describe('mcim suci deconceal', () => {
  for (const s of SETS.filter((x) => x.type === 'suci' && x.expect_reject === false)) {
    it(s.suci!, () => {
      assert.equal(runSuciDeconceal({ suci: s.suci!, hnPrivateKey: s.hn_private_key }).supi, s.expected_supi);
    });
  }

  it('rejects a private key of the wrong length', () => {
    const suci = SUCI_A.suci!;
    assert.throws(() => runSuciDeconceal({ suci, hnPrivateKey: '00' }), invalidArgument('--hn-private-key'));
  });
});
