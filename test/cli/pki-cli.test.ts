// `mcim pki init` / `mcim pki verify`: action functions, output formats, exit codes and help.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { formatPkiInit, formatPkiVerify, pkiInit, pkiVerify, registerPki } from '../../src/cli/commands/pki.js';
import { McimError } from '../../src/errors.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { fixturePath } from '../helpers/fixtures.js';
import { commonValidityMidpoint, sgp26 } from '../pki/sgp26.js';

const root = mkdtempSync(join(tmpdir(), 'mcim-pki-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

function badInput(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message));
}

/** Runs `mcim <args>` through commander with stdout captured; returns the output and the exit code set. */
async function run(args: readonly string[]): Promise<{ out: string; exitCode: number | undefined }> {
  const program = new Command().name('mcim').exitOverride();
  let out = '';
  program.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  registerPki(program);
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'mcim', ...args]);
  } catch (e) {
    if (!(e instanceof CommanderError && e.code === 'commander.helpDisplayed')) throw e;
  } finally {
    process.stdout.write = write;
  }
  const exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode);
  process.exitCode = undefined;
  return { out, exitCode };
}

describe('pki init', () => {
  test('issues a P-256 PKI and reports the files', () => {
    const dir = join(root, 'p256');
    const report = pkiInit(dir, {});
    assert.equal(report.curve, 'P-256');
    assert.equal(report.eid, '89049032123451234512345678901235');
    assert.equal(report.files.length, 22);
    const text = formatPkiInit(report, false);
    assert.match(text, /^test PKI \(P-256\) written to /);
    assert.match(text, /private-key-pem +.*euicc\.key\.pem/);
    const json = JSON.parse(formatPkiInit(report, true)) as { ciKeyId: string; files: unknown[] };
    assert.equal(json.ciKeyId, report.ciKeyId);
    assert.equal(json.files.length, 22);
  });

  test('brainpool with a given EID and SM-DP+ address', () => {
    const report = pkiInit(join(root, 'brp'), { curve: 'brainpool', eid: '89033023426200000000000012345606', smdpAddress: 'smdp.example.org' });
    assert.equal(report.curve, 'brainpoolP256r1');
    assert.equal(report.eid, '89033023426200000000000012345606');
    assert.equal(report.smdpAddress, 'smdp.example.org');
  });

  test('bad input is an McimError', () => {
    badInput(() => pkiInit(join(root, 'x'), { curve: 'p384' }), /unknown curve/);
    badInput(() => pkiInit(join(root, 'x'), { eid: '89049032123451234512345678901234' }), /check digits would be 35/);
    badInput(() => pkiInit(join(root, 'x'), { eid: '1234' }), /not an EID/);
    badInput(() => pkiInit(join(root, 'x'), { smdpAddress: 'not a host' }), /not a host name/);
    assert.throws(() => pkiInit(join(root, 'p256'), {}), (e: unknown) => e instanceof McimError && e.code === 'FILE_EXISTS');
  });
});

describe('pki verify', () => {
  const dir = join(root, 'verify');
  pkiInit(dir, { curve: 'brainpool' });
  const file = (name: string): string => join(dir, name);

  test('a valid eUICC chain, the role inferred from the certificate', () => {
    const outcome = pkiVerify(file('euicc.pem'), { chain: [file('eum.der')], ci: [file('ci.pem')] });
    assert.equal(outcome.valid, true);
    const text = formatPkiVerify(outcome, false);
    assert.match(text, /^VALID euicc certificate at /);
    assert.match(text, /EID: +89049032123451234512345678901235/);
    const json = JSON.parse(formatPkiVerify(outcome, true)) as { valid: boolean; eid: string; path: { roles: string[] }[] };
    assert.equal(json.valid, true);
    assert.deepEqual(
      json.path.map((p) => p.roles),
      [['euicc'], ['eum'], ['ci']],
    );
  });

  test('the eIM certificate with --role eim', () => {
    assert.equal(pkiVerify(file('eim.pem'), { ci: [file('ci.der')], role: 'eim' }).valid, true);
    badInput(() => pkiVerify(file('eim.pem'), { ci: [file('ci.der')] }), /pass --role/);
  });

  test('a typed failure is an outcome, not an exception', () => {
    const outcome = pkiVerify(file('dp-pb.pem'), { ci: [file('ci.pem')], role: 'dp-auth' });
    assert.equal(outcome.valid, false);
    assert.match(formatPkiVerify(outcome, false), /^INVALID WRONG_ROLE: /);
    assert.deepEqual(Object.keys(JSON.parse(formatPkiVerify(outcome, true)) as object), ['valid', 'code', 'message']);
    const expired = pkiVerify(file('dp-tls.pem'), { ci: [file('ci.pem')], at: '2100-01-01T00:00:00Z' });
    assert.equal(!expired.valid && expired.error.code, 'EXPIRED');
  });

  test('the SGP.26 eUICC chain at a time derived from the certificates', () => {
    const set = sgp26('NIST');
    const at = commonValidityMidpoint([set.ci, set.eum, set.euicc].map((d) => parseCertificate(d))).toISOString();
    const outcome = pkiVerify(fixturePath('sgp26', 'eUICC', 'CERT_EUICC_ECDSA_NIST.der'), {
      chain: [fixturePath('sgp26', 'EUM', 'CERT_EUM_ECDSA_NIST.der')],
      ci: [fixturePath('sgp26', 'CertificateIssuer', 'CERT_CI_ECDSA_NIST.pem')],
      at,
    });
    assert.equal(outcome.valid && outcome.result.eid, '89049032123451234512345678901235');
  });

  test('bad input is an McimError', () => {
    badInput(() => pkiVerify(file('missing.pem'), { ci: [file('ci.pem')] }), /cannot read/);
    badInput(() => pkiVerify(file('dp-auth.pem'), { ci: [] }), /trusted CI/);
    badInput(() => pkiVerify(file('dp-auth.pem'), { ci: [file('ci.pem')], role: 'smsr' }), /unknown role/);
    badInput(() => pkiVerify(file('dp-auth.pem'), { ci: [file('ci.pem')], at: 'yesterday' }), /ISO 8601/);
  });

  test('through commander: exit code 0 when valid, 1 with the reason when not', async () => {
    const ok = await run(['pki', 'verify', file('dp-auth.pem'), '--ci', file('ci.pem'), '--json']);
    assert.equal(ok.exitCode, undefined);
    assert.equal((JSON.parse(ok.out) as { role: string }).role, 'dp-auth');
    const bad = await run(['pki', 'verify', file('dp-auth.pem'), '--ci', file('ci.pem'), '--role', 'dp-pb']);
    assert.equal(bad.exitCode, 1);
    assert.match(bad.out, /^INVALID WRONG_ROLE: /);
  });

  test('through commander: init writes the PKI', async () => {
    const r = await run(['pki', 'init', join(root, 'commander'), '--curve', 'p256', '--smdp-address', 'smdp.test']);
    assert.equal(r.exitCode, undefined);
    assert.match(r.out, /SM-DP\+: +smdp\.test/);
  });

  test('help shows examples', async () => {
    assert.match((await run(['pki', 'init', '--help'])).out, /Examples:\n {2}\$ mcim pki init \.\/pki/);
    assert.match((await run(['pki', 'verify', '--help'])).out, /\$ mcim pki verify pki\/euicc\.pem --chain pki\/eum\.pem --ci pki\/ci\.pem/);
  });
});
