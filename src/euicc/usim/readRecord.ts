// ETSI TS 102 221 11.1.5 READ RECORD: one record (absolute mode) of the current linear fixed or cyclic EF, or of one named by SFI in P2.
import { CardError, type CommandApdu } from '../apdu.js';
import { efBySfi } from './efBySfi.js';
import type { ProfileFileSystem } from './fileSystem.js';
import type { FileSelection } from './select.js';

const MODE_ABSOLUTE = 0x04;

/**
 * READ RECORD: P1 the record number (01-FE), P2 b3-b1 = 100 (absolute) with the SFI in b8-b4 (0: the current EF).
 * Le is the record length, or 00. 6A83 for a record the EF does not have, 6981 for a transparent EF; the next,
 * previous and current-record modes are not offered (6A86).
 */
export function readRecord(fs: ProfileFileSystem, current: FileSelection, command: CommandApdu): { selection: FileSelection; response: Buffer } {
  const { p1, p2, data, ne } = command;
  if (data.length > 0 || ne === undefined) throw new CardError('WRONG_LENGTH', 'READ RECORD is case 2: Le and no data');
  if ((p2 & 0x07) !== MODE_ABSOLUTE || p1 === 0x00 || p1 === 0xff) {
    throw new CardError('INCORRECT_P1_P2', `READ RECORD P1 ${p1.toString(16)} P2 ${p2.toString(16)}: only absolute mode with a record number 01-FE`);
  }
  const sfi = p2 >> 3;
  const { ef, selection } = efBySfi(fs, current, sfi === 0 ? undefined : sfi);
  const length = ef.recordLength;
  if (length === undefined) throw new CardError('COMMAND_INCOMPATIBLE_WITH_FILE', `EF ${ef.fid} is not a record EF`);
  const records = ef.data.length / length;
  if (p1 > records) throw new CardError('RECORD_NOT_FOUND', `EF ${ef.fid} has ${records} records, not ${p1}`);
  if (ne !== 256 && ne !== length) throw new CardError('WRONG_LENGTH', `Le ${ne} is not the record length ${length} of EF ${ef.fid}`);
  const at = (p1 - 1) * length;
  return { selection, response: Buffer.from(ef.data.subarray(at, at + length)) };
}
