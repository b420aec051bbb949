// ETSI TS 102 221 11.1.1 SELECT (8.4.1 selection by file ID, 8.4.2 by path, 8.5 by DF name) with the FCP template of 11.1.1.3.
import { encodeTlv } from '../../asn1/tlv.js';
import { CardError, type CommandApdu } from '../apdu.js';
import type { ProfileFileSystem, StoredDf, StoredEf } from './fileSystem.js';

/** The root of the ADF in a selection path (the ADF itself is reached by AID or 7FFF, never by its file ID). */
const ADF_ROOT = 'ADF';
const MF = '3F00';
const CURRENT_ADF = '7FFF';

/** A channel's place in one profile's file system: current DF (a path from the MF or the ADF), current EF, active application. */
export class FileSelection {
  constructor(
    /** The profile (its ISD-P AID) the selection belongs to: a selection in another profile is stale. */
    readonly isdpAid: Buffer,
    /** ADF.USIM is the channel's current application (selected by AID). */
    readonly usimActive: boolean,
    /** FIDs from the root: ['3F00', ...] or [ADF_ROOT, ...]. */
    readonly dfPath: readonly string[],
    /** The current EF's FID in the current DF. */
    readonly ef: string | undefined,
  ) {}

  /** After a reset or on a fresh channel: the MF, no EF, no application. */
  static initial(isdpAid: Buffer): FileSelection {
    return new FileSelection(isdpAid, false, [MF], undefined);
  }
}

/** The DF at `path` of `fs`; undefined when it no longer exists. */
export function dfAt(fs: ProfileFileSystem, path: readonly string[]): StoredDf | undefined {
  let node: StoredDf | undefined = path[0] === ADF_ROOT ? fs.adfUsim : path[0] === MF ? fs.mf : undefined;
  for (const fid of path.slice(1)) {
    const child: StoredDf | StoredEf | undefined = node?.children.find((c) => c.fid === fid);
    node = child?.kind === 'df' ? child : undefined;
  }
  return node;
}

/** The current EF of `selection`, or undefined. */
export function currentEf(fs: ProfileFileSystem, selection: FileSelection): StoredEf | undefined {
  if (selection.ef === undefined) return undefined;
  const child = dfAt(fs, selection.dfPath)?.children.find((c) => c.fid === selection.ef);
  return child?.kind === 'ef' ? child : undefined;
}

function fidOf(data: Buffer, at: number): string {
  return data.subarray(at, at + 2).toString('hex').toUpperCase();
}

function notFound(what: string): CardError {
  return new CardError('FILE_NOT_FOUND', `${what} not found`);
}

type Target = { path: readonly string[]; ef: StoredEf | undefined; df: StoredDf };

/** One step of a path below `at` (a DF): its child DF or EF. */
function child(fs: ProfileFileSystem, at: readonly string[], fid: string): Target {
  const df = dfAt(fs, at);
  const node = df?.children.find((c) => c.fid === fid);
  if (df === undefined || node === undefined) throw notFound(`file ${fid} in DF ${at.at(-1)!}`);
  return node.kind === 'df' ? { path: [...at, fid], ef: undefined, df: node } : { path: at, ef: node, df };
}

/** Walks `fids` from the DF at `start`; every step but the last must be a DF. */
function walk(fs: ProfileFileSystem, start: readonly string[], fids: readonly string[]): Target {
  let target: Target = { path: start, ef: undefined, df: dfAt(fs, start)! };
  for (const [i, fid] of fids.entries()) {
    if (target.ef !== undefined) throw notFound(`path element ${i}: ${fid} below an EF`);
    target = child(fs, target.path, fid);
  }
  return target;
}

/** TS 102 221 8.4.1: the MF, the current ADF (7FFF), the current DF, its children, its parent, or a DF beside it. */
function byFileId(fs: ProfileFileSystem, current: FileSelection, fid: string): Target {
  if (fid === MF) return { path: [MF], ef: undefined, df: fs.mf };
  if (fid === CURRENT_ADF) {
    if (!current.usimActive || fs.adfUsim === undefined) throw notFound('7FFF (no current application)');
    return { path: [ADF_ROOT], ef: undefined, df: fs.adfUsim };
  }
  const here = current.dfPath;
  const df = dfAt(fs, here)!;
  if (df.fid === fid && here.length > 1) return { path: here, ef: undefined, df };
  if (df.children.some((c) => c.fid === fid)) return child(fs, here, fid);
  if (here.length > 1) {
    const parentPath = here.slice(0, -1);
    const parent = dfAt(fs, parentPath)!;
    if (parent.fid === fid && parentPath.length > 1) return { path: parentPath, ef: undefined, df: parent };
    const sibling = parent.children.find((c) => c.fid === fid && c.kind === 'df');
    if (sibling !== undefined) return child(fs, parentPath, fid);
  }
  throw notFound(`file ${fid}`);
}

/** TS 102 221 8.4.2: a path from the MF (P1 08) or from the current DF (P1 09); 7FFF first stands for the current ADF. */
function byPath(fs: ProfileFileSystem, current: FileSelection, path: Buffer, fromMf: boolean): Target {
  const fids: string[] = [];
  for (let i = 0; i < path.length; i += 2) fids.push(fidOf(path, i));
  if (fids[0] === CURRENT_ADF) {
    if (!current.usimActive || fs.adfUsim === undefined) throw notFound('7FFF (no current application)');
    return walk(fs, [ADF_ROOT], fids.slice(1));
  }
  if (fromMf && fids[0] === MF) throw notFound('a path from the MF that names the MF');
  return walk(fs, fromMf ? [MF] : current.dfPath, fids);
}

/** TS 102 221 8.5 / ISO 7816-4: ADF.USIM by its AID or a right-truncated part of it; one application, no next occurrence. */
function byDfName(fs: ProfileFileSystem, name: Buffer, occurrence: number): Target {
  const adf = fs.adfUsim;
  if (adf?.aid === undefined || occurrence !== 0 || name.length > adf.aid.length || !adf.aid.subarray(0, name.length).equals(name)) {
    throw new CardError('FILE_NOT_FOUND', `no application with AID ${name.toString('hex').toUpperCase()} in the enabled profile`);
  }
  return { path: [ADF_ROOT], ef: undefined, df: adf };
}

const DESCRIPTOR_CODING = 0x21;

/** The FCP template (TS 102 221 11.1.1.3) of an EF or a DF/ADF. */
function fcpOf(node: StoredDf | StoredEf): Buffer {
  const parts: Buffer[] = [];
  if (node.kind === 'ef') {
    const { structure, recordLength, data } = node;
    const fdb = structure === 'transparent' ? 0x41 : structure === 'linearFixed' ? 0x42 : 0x46;
    const descriptor =
      recordLength === undefined
        ? Buffer.from([fdb, DESCRIPTOR_CODING])
        : Buffer.from([fdb, DESCRIPTOR_CODING, recordLength >> 8, recordLength & 0xff, data.length / recordLength]);
    parts.push(encodeTlv(0x82, descriptor), encodeTlv(0x83, Buffer.from(node.fid, 'hex')));
    parts.push(encodeTlv(0x8a, Buffer.from([node.lcsi])));
    if (node.security !== undefined) parts.push(encodeTlv(0x8b, node.security));
    parts.push(encodeTlv(0x80, Buffer.from([data.length >> 8, data.length & 0xff])));
    parts.push(encodeTlv(0x88, node.sfi !== undefined ? Buffer.from([node.sfi << 3]) : Buffer.alloc(0)));
  } else {
    parts.push(encodeTlv(0x82, Buffer.from([0x78, DESCRIPTOR_CODING])));
    parts.push(node.aid !== undefined ? encodeTlv(0x84, node.aid) : encodeTlv(0x83, Buffer.from(node.fid, 'hex')));
    parts.push(encodeTlv(0x8a, Buffer.from([node.lcsi])));
    if (node.security !== undefined) parts.push(encodeTlv(0x8b, node.security));
  }
  return encodeTlv(0x62, parts);
}

/** Largest path accepted: MF or 7FFF, then up to 5 levels. */
const MAX_PATH_LENGTH = 12;

/**
 * SELECT in the enabled profile's file system. P1 00 (file ID), 04 (DF name, ADF.USIM), 08 (path from the MF),
 * 09 (path from the current DF); P2 04 (or 00) returns the FCP, 0C nothing. A failed SELECT leaves the selection.
 */
export function select(fs: ProfileFileSystem, current: FileSelection, command: CommandApdu): { selection: FileSelection; response: Buffer } {
  const { p1, p2, data } = command;
  const answer = p2 & ~0x03;
  if (answer !== 0x00 && answer !== 0x04 && answer !== 0x0c) throw new CardError('INCORRECT_P1_P2', `SELECT P2 ${p2.toString(16)} is not 00, 04 or 0C`);
  if (p1 !== 0x04 && (p2 & 0x03) !== 0) throw new CardError('INCORRECT_P1_P2', 'SELECT by file ID or path takes no occurrence option');
  let target: Target;
  switch (p1) {
    case 0x00:
      if (data.length !== 2) throw new CardError('WRONG_LENGTH', `SELECT by file ID takes 2 bytes, got ${data.length}`);
      target = byFileId(fs, current, fidOf(data, 0));
      break;
    case 0x04:
      if (data.length < 1 || data.length > 16) throw new CardError('WRONG_LENGTH', `SELECT by DF name takes 1 to 16 bytes, got ${data.length}`);
      target = byDfName(fs, data, p2 & 0x03);
      break;
    case 0x08:
    case 0x09:
      if (data.length < 2 || data.length % 2 !== 0 || data.length > MAX_PATH_LENGTH) {
        throw new CardError('WRONG_LENGTH', `SELECT by path takes 1 to ${MAX_PATH_LENGTH / 2} file IDs, got ${data.length} bytes`);
      }
      target = byPath(fs, current, data, p1 === 0x08);
      break;
    default:
      throw new CardError('INCORRECT_P1_P2', `SELECT P1 ${p1.toString(16)} is not 00, 04, 08 or 09`);
  }
  const usimActive = p1 === 0x04 ? true : current.usimActive;
  const selection = new FileSelection(current.isdpAid, usimActive, target.path, target.ef?.fid);
  const response = answer === 0x0c ? Buffer.alloc(0) : fcpOf(target.ef ?? target.df);
  return { selection, response };
}
