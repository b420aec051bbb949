// Bulk registration files (issue 10): JSON Lines and CSV records, each bad line refused with its number, certificates as base64 DER or PEM.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistrationParser, registrationFormat } from '../../src/eim/fleet/registrationFile.js';
import { certificateToPem } from '../../src/pki/certificate.js';
import { issueTestPki } from '../../src/pki/testPki.js';

const pki = issueTestPki();
const euicc = pki.euicc.der.toString('base64');
const eum = pki.eum.der.toString('base64');

describe('registration file', () => {
  it('JSON Lines: fields, PEM or base64 DER, blank lines skipped; CSV: header in any order, tags by ";"', () => {
    const j = new RegistrationParser('jsonl');
    assert.equal(j.push(''), undefined);
    const r = j.push(JSON.stringify({ eid: pki.eid, euiccCertificate: certificateToPem(pki.euicc.der), eumCertificate: eum, associationToken: 3, tags: ['a', 'b'] }))!;
    assert.deepEqual([r.line, r.eid, r.associationToken, r.tags], [2, pki.eid, 3, ['a', 'b']]);
    assert.ok(r.euiccCertificate.equals(pki.euicc.der) && r.eumCertificate.equals(pki.eum.der));
    const c = new RegistrationParser('csv');
    assert.equal(c.push('eumCertificate,euiccCertificate,tags,eid'), undefined);
    const row = c.push(`${eum},${euicc},x;y,${pki.eid}`)!;
    assert.deepEqual([row.line, row.eid, row.tags, row.associationToken], [2, pki.eid, ['x', 'y'], undefined]);
    assert.equal(registrationFormat('devices.CSV', '{'), 'csv');
    assert.equal(registrationFormat('devices', ' {"eid"'), 'jsonl');
  });

  it('each bad line refused with its number', () => {
    const cases: [string, RegExp][] = [
      ['{"euiccCertificate": 1}', /line 1: euiccCertificate is missing/],
      [JSON.stringify({ euiccCertificate: euicc, eumCertificate: eum, extra: 1 }), /line 1: unknown field 'extra'/],
      [JSON.stringify({ euiccCertificate: euicc, eumCertificate: eum, eid: '12' }), /line 1: eid is 32 digits/],
      [JSON.stringify({ euiccCertificate: euicc, eumCertificate: 'not base64!' }), /line 1: eumCertificate is not base64/],
      [JSON.stringify({ euiccCertificate: 'AAAA', eumCertificate: eum }), /line 1: euiccCertificate is not a DER certificate/],
      [JSON.stringify({ euiccCertificate: euicc, eumCertificate: eum, associationToken: -1 }), /associationToken is a whole number/],
      [JSON.stringify({ euiccCertificate: euicc, eumCertificate: eum, tags: ['a b'] }), /tags are at most 32/],
      ['[1]', /line 1: not a JSON object/],
      ['{', /line 1: not JSON/],
      ['x'.repeat(17 * 1024), /line 1: longer than/],
    ];
    for (const [line, error] of cases) assert.throws(() => new RegistrationParser('jsonl').push(line), error);
    assert.throws(() => new RegistrationParser('csv').push('eid,euiccCertificate'), /line 1: the header names no eumCertificate column/);
    assert.throws(() => new RegistrationParser('csv').push('eid,euiccCertificate,eumCertificate,colour'), /unknown column 'colour'/);
    const c = new RegistrationParser('csv');
    c.push('euiccCertificate,eumCertificate');
    assert.throws(() => c.push(`${euicc}`), /line 2: 1 values for 2 columns/);
  });
});
