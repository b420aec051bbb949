// ETSI TS 102 221 8.3 (short file identifier): the EF of the current DF a READ BINARY / READ RECORD names by SFI.
import { CardError } from '../apdu.js';
import type { ProfileFileSystem, StoredEf } from './fileSystem.js';
import { FileSelection, currentEf, dfAt } from './select.js';

/**
 * The EF a file command addresses: the EF with short file identifier `sfi` in the current DF (it becomes the
 * current EF), or the current EF when `sfi` is undefined. 6A82 for an unknown SFI, 6986 without a current EF.
 */
export function efBySfi(fs: ProfileFileSystem, selection: FileSelection, sfi: number | undefined): { ef: StoredEf; selection: FileSelection } {
  if (sfi === undefined) {
    const ef = currentEf(fs, selection);
    if (ef === undefined) throw new CardError('NO_EF_SELECTED', 'no current EF on the channel');
    return { ef, selection };
  }
  const ef = dfAt(fs, selection.dfPath)?.children.find((c): c is StoredEf => c.kind === 'ef' && c.sfi === sfi);
  if (ef === undefined) throw new CardError('FILE_NOT_FOUND', `no EF with SFI ${sfi} in the current DF`);
  return { ef, selection: new FileSelection(selection.isdpAid, selection.usimActive, selection.dfPath, ef.fid) };
}
