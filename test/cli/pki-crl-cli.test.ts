// `mcim pki crl` (a CRL from a CA key, for tests and labs) and the `mcim serve` revocation flags (--crl, --crl-fetch, --crl-refresh, --crl-stale).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { formatPkiCrl, pkiCrl, pkiInit } from '../../src/cli/commands/pki.js';
import { revocationOptions, type ServeCliOptions } from '../../src/cli/commands/serve.js';
import { McimError } from '../../src/errors.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { crlsFromFile, isRevoked, parseCrl, verifyCrlIssuer } from '../../src/pki/crl.js';

const root = mkdtempSync(join(tmpdir(), 'mcim-pki-crl-'));
after(() => rmSync(root, { recursive: true, force: true }));
const pkiDir = join(root, 'pki');
pkiInit(pkiDir, {});
const file = (name: string): string => join(pkiDir, name);

function refused(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof McimError && e.code === code && pattern.test(e.message));
}

describe('mcim pki crl', () => {
  test("the CI revokes the EUM (certificate file) and a serial: a CRL that verifies under the CI's certificate", () => {
    const out = join(root, 'ci.crl');
    const report = pkiCrl(out, { issuer: file('ci.pem'), key: file('ci.key.pem'), revoke: [file('eum.pem'), '0a1b'], number: '3', days: '2' });
    const crl = parseCrl(readFileSync(out));
    const ci = parseCertificate(readFileSync(file('ci.der')));
    verifyCrlIssuer(crl, ci);
    assert.ok(isRevoked(crl, parseCertificate(readFileSync(file('eum.der')))));
    assert.ok(crl.revoked.has('0a1b'));
    assert.equal(crl.crlNumber, 3n);
    assert.equal(crl.nextUpdate.getTime() - crl.thisUpdate.getTime(), 2 * 86_400_000);
    assert.match(formatPkiCrl(report, false), /^CRL 3 of 'CN=mcim Test CI/);
    assert.equal((JSON.parse(formatPkiCrl(report, true)) as { revoked: string[] }).revoked.length, 2);
  });

  test('the EUM revokes its eUICC, written as PEM', () => {
    const out = join(root, 'eum.pem.crl');
    pkiCrl(out, { issuer: file('eum.pem'), key: file('eum.key.pem'), revoke: [file('euicc.pem')], pem: true });
    const [der] = crlsFromFile(readFileSync(out));
    const crl = parseCrl(der!);
    verifyCrlIssuer(crl, parseCertificate(readFileSync(file('eum.der'))));
    assert.ok(isRevoked(crl, parseCertificate(readFileSync(file('euicc.der')))));
  });

  test('refuses a key that is not the issuer\'s, an eUICC as issuer, bad numbers, and overwriting', () => {
    refused(() => pkiCrl(join(root, 'x1.crl'), { issuer: file('ci.pem'), key: file('eum.key.pem') }), 'INVALID_ARGUMENT', /do not make a valid CRL/);
    refused(() => pkiCrl(join(root, 'x2.crl'), { issuer: file('euicc.pem'), key: file('euicc.key.pem') }), 'INVALID_ARGUMENT', /may not sign CRLs/);
    refused(() => pkiCrl(join(root, 'x3.crl'), { issuer: file('ci.pem'), key: file('ci.key.pem'), number: '-1' }), 'INVALID_ARGUMENT', /--number/);
    refused(() => pkiCrl(join(root, 'x4.crl'), { issuer: file('ci.pem'), key: file('ci.key.pem'), days: '0' }), 'INVALID_ARGUMENT', /--days/);
    refused(() => pkiCrl(join(root, 'ci.crl'), { issuer: file('ci.pem'), key: file('ci.key.pem') }), 'FILE_EXISTS', /refusing to overwrite/);
  });
});

describe('mcim serve revocation flags', () => {
  const base = { data: 'd', listen: '127.0.0.1' } as ServeCliOptions;

  test('no --crl and no --crl-fetch: no revocation store', () => {
    assert.equal(revocationOptions(base), undefined);
  });

  test('files, fetching, refresh and the stale policy (default fail-open)', () => {
    const a = join(root, 'ci.crl');
    const b = join(root, 'eum.pem.crl');
    assert.deepEqual(revocationOptions({ ...base, crl: [a, b] }), { files: [a, b], fetch: false, stalePolicy: 'fail-open' });
    assert.deepEqual(revocationOptions({ ...base, crlFetch: true, crlRefresh: '600', crlStale: 'fail-closed' }), {
      files: [],
      fetch: true,
      stalePolicy: 'fail-closed',
      refreshSeconds: 600,
    });
  });

  test('bad values are refused before anything starts', () => {
    refused(() => revocationOptions({ ...base, crl: [join(root, 'no-such.crl')] }), 'INVALID_ARGUMENT', /--crl .*no-such\.crl: no such readable file/);
    refused(() => revocationOptions({ ...base, crl: [join(root, 'ci.crl')], crlRefresh: '5' }), 'INVALID_ARGUMENT', /--crl-refresh/);
    refused(() => revocationOptions({ ...base, crl: [join(root, 'ci.crl')], crlRefresh: 'soon' }), 'INVALID_ARGUMENT', /--crl-refresh/);
    refused(() => revocationOptions({ ...base, crl: [join(root, 'ci.crl')], crlStale: 'maybe' }), 'INVALID_ARGUMENT', /--crl-stale/);
  });
});
