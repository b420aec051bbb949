// `mcim device usim imsi|iccid|authenticate`: the enabled profile's USIM through the CLI, over the card's APDUs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { decode, encode } from '../../src/asn1/schema.js';
import { EnableProfileRequest, EnableProfileResponse } from '../../src/asn1/definitions/rsp.js';
import { generateAuthenticationVector } from '../../src/crypto/authenticationVector.js';
import { sqnFromNumber } from '../../src/crypto/sqnFreshness.js';
import { TestAlgorithm } from '../../src/crypto/testAlgorithm.js';
import { registerDevice } from '../../src/cli/commands/device.js';
import { McimError } from '../../src/errors.js';
import { assertSuccess, downloadTs48, rigsCleanedAfter } from '../euicc/harness.js';

async function cli(args: readonly string[]): Promise<Record<string, string>> {
  const program = new Command().exitOverride();
  let out = '';
  registerDevice(program, (text) => {
    out += text;
  });
  await program.parseAsync(['node', 'mcim', ...args]);
  return JSON.parse(out) as Record<string, string>;
}

describe('mcim device usim', () => {
  const r = rigsCleanedAfter()();
  assertSuccess(downloadTs48(r, 'TS48V3-SAIP2-3-BERTLV-UNIQUE'));
  const profile = r.euicc.profiles[0]!;
  const enabled = decode(EnableProfileResponse, r.client.command(encode(EnableProfileRequest, { profileIdentifier: { type: 'iccid', value: profile.iccid }, refreshFlag: false })));
  assert.equal(enabled.enableResult, 0);
  const secretFile = join(r.dir, 'secret.hex');
  writeFileSync(secretFile, r.secret.toString('hex'));
  const common = ['--state', r.path, '--secret-file', secretFile, '--json'];

  it('reads the IMSI and the ICCID', async () => {
    assert.deepEqual(await cli(['device', 'usim', 'imsi', ...common]), { imsi: profile.usim.essentials.imsi });
    assert.deepEqual(await cli(['device', 'usim', 'iccid', ...common]), { iccid: profile.usim.essentials.iccidDigits });
  });

  it('authenticates, then answers the replay with AUTS, and a bad MAC with mac_failure', async () => {
    const alg = new TestAlgorithm(profile.usim.essentials.aka!.key);
    const v = generateAuthenticationVector(alg, randomBytes(16), sqnFromNumber(32 * 12), Buffer.from('8000', 'hex'));
    const args = ['device', 'usim', 'authenticate', '--rand', v.rand.toString('hex'), '--autn', v.autn.toString('hex'), ...common];
    const ok = await cli(args);
    assert.deepEqual([ok.status, ok.res, ok.ck, ok.ik], ['success', ...[v.xres, v.ck, v.ik].map((b) => b.toString('hex').toUpperCase())]);
    assert.equal((await cli(args)).status, 'sync_failure', 'the SQN was sealed by the first call');
    const bad = Buffer.from(v.autn);
    bad[8]! ^= 0xff;
    assert.deepEqual(await cli(['device', 'usim', 'authenticate', '--rand', v.rand.toString('hex'), '--autn', bad.toString('hex'), ...common]), { status: 'mac_failure' });
  });

  it('refuses an unknown query and authenticate without RAND', async () => {
    await assert.rejects(cli(['device', 'usim', 'msisdn', ...common]), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
    await assert.rejects(cli(['device', 'usim', 'authenticate', ...common]), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
  });
});
