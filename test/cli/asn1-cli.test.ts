// `mcim asn1 dump`: input detection (DER, hex, base64, PEM), text and JSON trees, errors with offsets, commander wiring.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { McimError } from '../../src/errors.js';
import { Asn1Error } from '../../src/asn1/errors.js';
import { decodeTlvList } from '../../src/asn1/tlv.js';
import { detectInput, dumpAsn1, registerAsn1, type DumpNode } from '../../src/cli/commands/asn1.js';
import { fixturePath, hex, readFixture } from '../helpers/fixtures.js';

const CERT = readFixture('sgp26', 'EUM', 'CERT_EUM_ECDSA_NIST.der');

describe('asn1 dump: input formats', () => {
  it('detects binary DER, hex (any case, spaced) and base64, and PEM armour', () => {
    assert.equal(detectInput(CERT).format, 'der');
    const asHex = Buffer.from(CERT.toString('hex').toUpperCase().replace(/(.{64})/g, '$1\n'));
    assert.deepStrictEqual(detectInput(asHex), { format: 'hex', bytes: CERT });
    const asB64 = Buffer.from(CERT.toString('base64'));
    assert.deepStrictEqual(detectInput(asB64), { format: 'base64', bytes: CERT });
    const pem = Buffer.from(`-----BEGIN CERTIFICATE-----\n${CERT.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
    assert.deepStrictEqual(detectInput(pem), { format: 'base64', bytes: CERT });
  });

  it('gives the same tree whatever the input format', () => {
    const tree = dumpAsn1(CERT);
    assert.equal(dumpAsn1(Buffer.from(CERT.toString('hex'))), tree);
    assert.equal(dumpAsn1(Buffer.from(CERT.toString('base64'))), tree);
  });

  it('rejects text that is neither hex nor base64, and empty input', () => {
    assert.throws(() => dumpAsn1(Buffer.from('hello, world')), (e) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
    assert.throws(() => dumpAsn1(Buffer.from('abc')), (e) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
    assert.throws(() => dumpAsn1(Buffer.alloc(0)), (e) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
  });
});

describe('asn1 dump: output', () => {
  it('prints offsets, tags, classes, lengths, hex previews and decoded values', () => {
    const lines = dumpAsn1(Buffer.from('bf2009820302050099025a41'))
      .trimEnd()
      .split('\n');
    assert.deepStrictEqual(lines, [
      ' 0: BF20 [CONTEXT 32] len=9',
      ' 3:   82 [CONTEXT 2] len=3  02 05 00',
      ' 8:   99 [CONTEXT 25] len=2  5a 41',
    ]);
    const cert = dumpAsn1(CERT);
    assert.match(cert, /^ {2}0: 30 SEQUENCE len=632$/m);
    assert.match(cert, /^ {2}8: {5}A0 \[CONTEXT 0\] len=3$/m);
    assert.match(cert, /06 OBJECT IDENTIFIER len=8 {2}2a 86 48 ce 3d 04 03 02 {2}= 1\.2\.840\.10045\.4\.3\.2$/m);
    assert.match(cert, /0C UTF8String len=12 {2}52 53 50 20 54 65 73 74 20 45 55 4d {2}"RSP Test EUM"$/m);
    assert.match(cert, /03 BIT STRING len=66 {2}00 04 .* \.\.\.$/m);
  });

  it('dumps a profile package as a list of top-level elements', () => {
    const profile = readFixture('ts48', 'TS48V1-A-UNIQUE.der');
    const tree = JSON.parse(dumpAsn1(profile, { json: true })) as DumpNode[];
    assert.equal(tree.length, decodeTlvList(profile).length);
    assert.equal(tree[0]!.tag, 'A0');
    assert.equal(tree.at(-1)!.tag, 'AA');
    const text = dumpAsn1(profile).split('\n');
    assert.match(text[0]!, /^ {4}0: A0 \[CONTEXT 0\] len=137$/);
  });

  it('JSON nodes carry offsets, header and content lengths, values, text and decoded forms', () => {
    const [root] = JSON.parse(dumpAsn1(hex('300f' + '0603550403' + '0c0454657374' + '020200ff'), { json: true })) as DumpNode[];
    assert.deepStrictEqual(root, {
      offset: 0,
      tag: '30',
      class: 'universal',
      tagNumber: 16,
      constructed: true,
      headerLength: 2,
      length: 15,
      type: 'SEQUENCE',
      children: [
        { offset: 2, tag: '06', class: 'universal', tagNumber: 6, constructed: false, headerLength: 2, length: 3, type: 'OBJECT IDENTIFIER', value: '550403', decoded: '2.5.4.3' },
        { offset: 7, tag: '0C', class: 'universal', tagNumber: 12, constructed: false, headerLength: 2, length: 4, type: 'UTF8String', value: '54657374', text: 'Test' },
        { offset: 13, tag: '02', class: 'universal', tagNumber: 2, constructed: false, headerLength: 2, length: 2, type: 'INTEGER', value: '00ff', decoded: '255' },
      ],
    });
  });

  it('reports malformed data with the Asn1Error offset and path', () => {
    assert.throws(
      () => dumpAsn1(hex('bf2008a106048101010000')),
      (e) => e instanceof Asn1Error && e.code === 'NON_MINIMAL_LENGTH' && /offset 5 at BF20\/A1/.test(e.message),
    );
    assert.throws(() => dumpAsn1(CERT.subarray(0, 100)), (e) => e instanceof Asn1Error && e.code === 'TRUNCATED');
  });
});

describe('asn1 dump: command line', () => {
  async function run(args: string[]): Promise<string> {
    const program = new Command().exitOverride();
    let out = '';
    registerAsn1(program, (text) => (out += text));
    await program.parseAsync(['node', 'mcim', 'asn1', 'dump', ...args]);
    return out;
  }

  it('dumps a file as text and as JSON', async () => {
    const path = fixturePath('sgp26', 'EUM', 'CERT_EUM_ECDSA_NIST.der');
    assert.equal(await run([path]), dumpAsn1(CERT));
    assert.equal(await run(['--json', path]), dumpAsn1(CERT, { json: true }));
  });

  it('reads hex text from a file and fails with an McimError on bad input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcim-asn1-'));
    try {
      writeFileSync(join(dir, 'ok.hex'), 'BF3E035C015A\n');
      assert.match(await run([join(dir, 'ok.hex')]), /^0: BF3E \[CONTEXT 62\] len=3\n3: {3}5C \[APPLICATION 28\] len=1 {2}5a\n$/);
      writeFileSync(join(dir, 'bad.hex'), 'BF3E045C015A');
      await assert.rejects(run([join(dir, 'bad.hex')]), (e) => e instanceof Asn1Error && e.code === 'TRUNCATED');
      await assert.rejects(run([join(dir, 'missing.der')]), (e) => e instanceof McimError && e.code === 'IO_ERROR');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('documents examples in --help', () => {
    const program = new Command();
    registerAsn1(program);
    const dump = program.commands.find((c) => c.name() === 'asn1')!.commands.find((c) => c.name() === 'dump')!;
    let help = '';
    dump.configureOutput({ writeOut: (s) => (help += s) });
    dump.outputHelp();
    assert.match(help, /Examples:/);
    assert.match(help, /--json/);
    assert.match(help, /mcim asn1 dump -/);
  });
});
