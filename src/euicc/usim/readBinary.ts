// ETSI TS 102 221 11.1.3 READ BINARY: bytes of the current transparent EF, or of one named by SFI in P1.
import { CardError, type CommandApdu } from '../apdu.js';
import { efBySfi } from './efBySfi.js';
import type { ProfileFileSystem } from './fileSystem.js';
import type { FileSelection } from './select.js';

/**
 * READ BINARY: P1 b8 = 0, offset P1 (7 bits) || P2 in the current EF; P1 b8 = 1, SFI in P1 b5-b1 and offset P2
 * (the EF becomes current). Le 00 reads up to 256 bytes to the end of the file; any other Le must fit in the file
 * (6700 otherwise). 6B00 for an offset at or beyond the end, 6981 for a record EF.
 */
export function readBinary(fs: ProfileFileSystem, current: FileSelection, command: CommandApdu): { selection: FileSelection; response: Buffer } {
  const { p1, p2, data, ne } = command;
  if (data.length > 0 || ne === undefined) throw new CardError('WRONG_LENGTH', 'READ BINARY is case 2: Le and no data');
  let sfi: number | undefined;
  let offset: number;
  if ((p1 & 0x80) !== 0) {
    if ((p1 & 0x60) !== 0 || (p1 & 0x1f) === 0) throw new CardError('INCORRECT_P1_P2', `READ BINARY P1 ${p1.toString(16)}: no valid SFI`);
    sfi = p1 & 0x1f;
    offset = p2;
  } else {
    offset = (p1 << 8) | p2;
  }
  const { ef, selection } = efBySfi(fs, current, sfi);
  if (ef.structure !== 'transparent') throw new CardError('COMMAND_INCOMPATIBLE_WITH_FILE', `EF ${ef.fid} is not transparent`);
  const size = ef.data.length;
  if (offset >= size) throw new CardError('WRONG_P1_P2', `offset ${offset} is beyond EF ${ef.fid} of ${size} bytes`);
  const remaining = size - offset;
  if (ne !== 256 && ne > remaining) throw new CardError('WRONG_LENGTH', `Le ${ne} exceeds the ${remaining} bytes from offset ${offset} of EF ${ef.fid}`);
  return { selection, response: Buffer.from(ef.data.subarray(offset, offset + Math.min(ne, remaining))) };
}
