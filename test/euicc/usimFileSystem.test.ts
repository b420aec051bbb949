// The profile file system kept for the USIM (SAIP 8.3, TS 102 222 fill patterns): contents, links, bounds (typed errors naming the limit), fuzzing, and installation refusing a hostile one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BppCommandId, ErrorReason } from '../../src/asn1/definitions/rsp.js';
import {
  decodeProfilePackage,
  encodeProfilePackage,
  type Fcp,
  type FileManagementElement,
  type ProfileElement,
} from '../../src/asn1/definitions/saip.js';
import {
  FILE_SYSTEM_LIMITS,
  FileSystemError,
  buildProfileFileSystem,
  type ProfileFileSystem,
  type StoredDf,
  type StoredEf,
} from '../../src/euicc/usim/fileSystem.js';
import { h } from './cardHelpers.js';
import { assertPirError, download, rigsCleanedAfter, ts48 } from './harness.js';
import { metadataFor } from './smdpSimulator.js';

const makeRig = rigsCleanedAfter();

function gfm(...commands: FileManagementElement[][]): ProfileElement {
  return { type: 'genericFileManagement', value: { gfmHeader: { identification: 99 }, fileManagementCMD: commands } };
}

const path = (hex: string): FileManagementElement => ({ type: 'filePath', value: h(hex) });
const create = (fcp: Fcp): FileManagementElement => ({ type: 'createFCP', value: fcp });
const content = (hex: string): FileManagementElement => ({ type: 'fillFileContent', value: h(hex) });
const offset = (n: number): FileManagementElement => ({ type: 'fillFileOffset', value: n });
const ef = (fid: string, size: number, extra: Partial<Fcp> = {}): FileManagementElement =>
  create({ fileDescriptor: h('4121'), fileID: h(fid), efFileSize: Buffer.from(size > 0xff ? [size >> 8, size & 0xff] : [size]), ...extra });
const records = (fid: string, length: number, count: number, extra: Partial<Fcp> = {}): FileManagementElement =>
  create({ fileDescriptor: Buffer.from([0x42, 0x21, 0x00, length]), fileID: h(fid), efFileSize: Buffer.from([(length * count) >> 8, (length * count) & 0xff]), ...extra });
const df = (fid: string): FileManagementElement => create({ fileDescriptor: h('7821'), fileID: h(fid) });

function mfChild(fs: ProfileFileSystem, fid: string): StoredDf | StoredEf | undefined {
  return fs.mf.children.find((c) => c.fid === fid);
}

function data(fs: ProfileFileSystem, fid: string): Buffer {
  const file = mfChild(fs, fid);
  assert.ok(file?.kind === 'ef', `EF ${fid}`);
  return file.data;
}

function throwsLimit(elements: ProfileElement[], limit: keyof typeof FILE_SYSTEM_LIMITS): void {
  assert.throws(
    () => buildProfileFileSystem(elements),
    (e: unknown) => e instanceof FileSystemError && e.code === 'FILE_SYSTEM_LIMIT' && e.message.includes(`${limit} = ${FILE_SYSTEM_LIMITS[limit]}`),
  );
}

function throwsInvalid(elements: ProfileElement[], pattern: RegExp): void {
  assert.throws(() => buildProfileFileSystem(elements), (e: unknown) => e instanceof FileSystemError && e.code === 'INVALID_FILE_SYSTEM' && pattern.test(e.message));
}

describe('profile file system', () => {
  it('fills contents from the fill pattern (last byte repeated), the repeat pattern, or FF, per record for record EFs', () => {
    const fs = buildProfileFileSystem([
      gfm([
        path(''),
        ef('2F10', 5, { proprietaryEFInfo: { fillPattern: h('AABB') } }),
        ef('2F11', 5, { proprietaryEFInfo: { repeatPattern: h('AABB') } }),
        ef('2F12', 4),
        content('01'),
        offset(1),
        content('03'),
        records('2F13', 3, 2, { proprietaryEFInfo: { fillPattern: h('00FF') } }),
        offset(4),
        content('EEEE'),
      ]),
    ]);
    assert.deepEqual(data(fs, '2F10'), h('AABBBBBBBB'));
    assert.deepEqual(data(fs, '2F11'), h('AABBAABBAA'));
    assert.deepEqual(data(fs, '2F12'), h('01FF03FF'));
    assert.deepEqual(data(fs, '2F13'), h('00FFFF 00EEEE'));
    const recordEf = mfChild(fs, '2F13');
    assert.ok(recordEf?.kind === 'ef');
    assert.deepEqual([recordEf.structure, recordEf.recordLength], ['linearFixed', 3]);
  });

  it('gives linked EFs their target contents, drops links to nothing, and skips BER-TLV EFs and ISIM paths', () => {
    const fs = buildProfileFileSystem([
      gfm(
        [path(''), ef('2F20', 2), content('1234'), df('7F20')],
        [path('7F20'), create({ fileDescriptor: h('4121'), fileID: h('6F01'), linkPath: h('2F20') }), create({ fileDescriptor: h('4121'), fileID: h('6F02'), linkPath: h('2F99') })],
        [path(''), create({ fileDescriptor: h('7921'), fileID: h('2F30'), efFileSize: h('0400') }), content('00')],
        [path('7FB0'), ef('6F03', 2), content('0000')],
      ),
    ]);
    const sub = mfChild(fs, '7F20');
    assert.ok(sub?.kind === 'df');
    assert.deepEqual(
      sub.children.map((c) => [c.fid, c.kind === 'ef' ? c.data.toString('hex') : '']),
      [['6F01', '1234']],
    );
    assert.equal(mfChild(fs, '2F30'), undefined, 'BER-TLV EF not served');
    assert.equal(fs.adfUsim, undefined);
  });

  it('refuses malformed file systems with INVALID_FILE_SYSTEM', () => {
    throwsInvalid([gfm([path(''), ef('2F10', 2), content('010203')])], /exceed the file size 2/);
    throwsInvalid([gfm([path(''), ef('2F10', 2), ef('2F10', 2)])], /exists twice/);
    throwsInvalid([gfm([path(''), ef('7FFF', 2)])], /reserved/);
    throwsInvalid([gfm([path('3F'), ef('2F10', 2)])], /2-byte file IDs/);
    throwsInvalid([gfm([path(''), records('2F10', 0, 1)])], /record length 0/);
    throwsInvalid([gfm([path(''), create({ fileDescriptor: h('42210003'), fileID: h('2F10'), efFileSize: h('04') })])], /multiple of the record length/);
  });

  it('bounds file count, file size, record count, total bytes and depth with FILE_SYSTEM_LIMIT naming the limit', () => {
    const many = Array.from({ length: FILE_SYSTEM_LIMITS.maxFiles }, (_, i) => ef((0x1000 + i).toString(16), 1));
    throwsLimit([gfm([path(''), ...many])], 'maxFiles');
    throwsLimit([gfm([path(''), create({ fileDescriptor: h('4121'), fileID: h('2F10'), efFileSize: h('010000') })])], 'maxFileSize');
    throwsLimit([gfm([path(''), records('2F10', 1, FILE_SYSTEM_LIMITS.maxRecords + 1)])], 'maxRecords');
    const big = Array.from({ length: 9 }, (_, i) => ef((0x2f10 + i).toString(16), 0xffff));
    throwsLimit([gfm([path(''), ...big])], 'maxTotalBytes');
    throwsLimit([gfm([path(''), df('7F01'), df('7F02'), df('7F03'), df('7F04'), df('7F05')])], 'maxDepth');
  });

  it('builds or throws only FileSystemError for random file management commands, within the bounds (fuzz)', () => {
    const fid = fc.constantFrom('2F10', '2F11', '6F07', '7F10', '7FD0', '3F00', '7FFF', '5F3A');
    const fcp = fc.record(
      {
        fileDescriptor: fc.constantFrom(h('4121'), h('42210004'), h('46210010'), h('7821'), h('7921'), h('4721'), h('4221'), h('420000ff')),
        fileID: fid.map(h),
        efFileSize: fc.uint8Array({ maxLength: 3 }).map((b) => Buffer.from(b)),
        shortEFID: fc.uint8Array({ maxLength: 1 }).map((b) => Buffer.from(b)),
        linkPath: fc.array(fid, { maxLength: 3 }).map((l) => h(l.join(''))),
        proprietaryEFInfo: fc.record({ fillPattern: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => Buffer.from(b)) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    );
    const element: fc.Arbitrary<FileManagementElement> = fc.oneof(
      fc.uint8Array({ maxLength: 8 }).map((b) => ({ type: 'filePath' as const, value: Buffer.from(b) })),
      fc.array(fid, { maxLength: 3 }).map((l) => ({ type: 'filePath' as const, value: h(l.join('')) })),
      fcp.map((value) => ({ type: 'createFCP' as const, value })),
      fc.integer({ min: 0, max: 0xffff }).map((value) => ({ type: 'fillFileOffset' as const, value })),
      fc.uint8Array({ maxLength: 64 }).map((b) => ({ type: 'fillFileContent' as const, value: Buffer.from(b) })),
    );
    const count = (d: StoredDf): { files: number; bytes: number } =>
      d.children.reduce((acc, c) => {
        const sub = c.kind === 'df' ? count(c) : { files: 1, bytes: c.data.length };
        return { files: acc.files + sub.files, bytes: acc.bytes + sub.bytes };
      }, { files: 1, bytes: 0 });
    fc.assert(
      fc.property(fc.array(fc.array(element, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 }), (commands) => {
        try {
          const fs = buildProfileFileSystem([gfm(...commands)]);
          const { files, bytes } = count(fs.mf);
          assert.ok(files <= FILE_SYSTEM_LIMITS.maxFiles && bytes <= FILE_SYSTEM_LIMITS.maxTotalBytes);
        } catch (e) {
          if (!(e instanceof FileSystemError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('installation refuses a profile past a bound (insufficient memory) or malformed (PE processing error), keeping nothing', () => {
    const elements = decodeProfilePackage(ts48('TS48V2-SAIP2-1-BERTLV-UNIQUE')).elements;
    const withPe = (pe: ProfileElement): Buffer => encodeProfilePackage([...elements.slice(0, -1), pe, elements.at(-1)!]);
    const tooMany = withPe(gfm([path(''), ...Array.from({ length: FILE_SYSTEM_LIMITS.maxFiles }, (_, i) => ef((0x1000 + i).toString(16), 1))]));
    const malformed = withPe(gfm([path(''), ef('2F10', 1), content('0102')]));
    const r = makeRig();
    assertPirError(download(r, tooMany, metadataFor(tooMany, 'many files')), BppCommandId.loadProfileElements, ErrorReason.installFailedDueToInsufficientMemoryForProfile);
    assertPirError(download(r, malformed, metadataFor(malformed, 'overflow')), BppCommandId.loadProfileElements, ErrorReason.installFailedDueToPEProcessingError);
    assert.equal(r.euicc.profiles.length, 0);
  });
});
