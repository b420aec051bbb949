// TCA SAIP PEDefinitions 8.3 (templated file-system PEs, PE-GenericFileManagement) and ETSI TS 102 222 6.3 (fill / repeat patterns): the MF and ADF.USIM a profile creates.
import type { Fcp, FileManagementElement, File as SaipFile, ProfileElement } from '../../asn1/definitions/saip.js';
import { McimError } from '../../errors.js';

/** EF structures served (TS 102 221 11.1.1.4.3); BER-TLV EFs are not kept. */
export type EfStructure = 'transparent' | 'linearFixed' | 'cyclic';

/** An elementary file as kept in the sealed state. */
export interface StoredEf {
  readonly kind: 'ef';
  /** File identifier, 4 upper-case hex digits. */
  readonly fid: string;
  readonly structure: EfStructure;
  /** Record length (linear fixed and cyclic EFs). */
  readonly recordLength?: number;
  /** Short file identifier 1-30 (TS 102 221 8.3). */
  readonly sfi?: number;
  /** Life cycle status integer (TS 102 221 11.1.1.4.9); 05 (operational, activated) by default. */
  readonly lcsi: number;
  /** Security attributes, referenced format (tag 8B). */
  readonly security?: Buffer;
  /** The whole contents: size bytes, records one after the other. */
  readonly data: Buffer;
}

/** A DF, the MF or an ADF as kept in the sealed state. */
export interface StoredDf {
  readonly kind: 'df';
  readonly fid: string;
  /** DF name (AID) of an ADF. */
  readonly aid?: Buffer;
  readonly lcsi: number;
  readonly security?: Buffer;
  readonly children: readonly (StoredDf | StoredEf)[];
}

/** What the USIM serves of a profile: the MF tree and ADF.USIM (kept under its SAIP file ID, reached by AID or 7FFF). */
export interface ProfileFileSystem {
  readonly mf: StoredDf;
  readonly adfUsim?: StoredDf;
}

/** Bounds on what one profile may create (a profile package is hostile input). */
export const FILE_SYSTEM_LIMITS = {
  /** Files (MF, DFs, ADF and EFs) in one profile. */
  maxFiles: 1024,
  /** Bytes of one EF (TS 102 221: 2-byte file size). */
  maxFileSize: 0xffff,
  /** Records of one linear fixed or cyclic EF (TS 102 221 record numbers 01-FE). */
  maxRecords: 254,
  /** Bytes of all EFs together. */
  maxTotalBytes: 512 * 1024,
  /** DF levels below the MF (or the ADF). */
  maxDepth: 4,
} as const;

export type FileSystemErrorCode = 'FILE_SYSTEM_LIMIT' | 'INVALID_FILE_SYSTEM';

/** A profile's file system beyond a bound of FILE_SYSTEM_LIMITS, or malformed. */
export class FileSystemError extends McimError {
  declare readonly code: FileSystemErrorCode;
  constructor(code: FileSystemErrorCode, message: string) {
    super(code, message);
  }
}

/** LCSI 05: operational state, activated (TS 102 221 11.1.1.4.9). */
const LCSI_ACTIVATED = 0x05;
const MF_FID = '3F00';
/** FIDs a file may not take (TS 102 221 8.4.1): MF, current ADF, RFU. */
const RESERVED_FIDS = new Set([MF_FID, '7FFF', 'FFFF']);

/** What a SAIP template gives a file the profile's FCP leaves out (FID; size and SFI of transparent EFs; record files need their descriptor in the profile). */
interface TemplateFile {
  readonly fid: string;
  readonly size?: number;
  readonly sfi?: number;
}

/* Template defaults of the files whose FCP TS.48 profiles shorten (FIDs, sizes and SFIs of TS 102 221 13 and TS 31.102 4.2, 4.4). */
const MF_TEMPLATE: Readonly<Record<string, TemplateFile>> = {
  mf: { fid: MF_FID },
  efPl: { fid: '2F05', sfi: 0x05 },
  efIccid: { fid: '2FE2', size: 10, sfi: 0x02 },
  efDir: { fid: '2F00', sfi: 0x1e },
  efArr: { fid: '2F06', sfi: 0x06 },
  efUmpc: { fid: '2F08', size: 5, sfi: 0x08 },
};
const USIM_TEMPLATE: Readonly<Record<string, TemplateFile>> = {
  adfUsim: { fid: '7FD0' },
  efImsi: { fid: '6F07', size: 9, sfi: 0x07 },
  efArr: { fid: '6F06', sfi: 0x17 },
  efKeys: { fid: '6F08', size: 33, sfi: 0x08 },
  efKeysPS: { fid: '6F09', size: 33, sfi: 0x09 },
  efHpplmn: { fid: '6F31', size: 1, sfi: 0x12 },
  efUst: { fid: '6F38', sfi: 0x04 },
  efSmss: { fid: '6F43', size: 2 },
  efSpn: { fid: '6F46', size: 17 },
  efEst: { fid: '6F56', size: 1, sfi: 0x05 },
  efStartHfn: { fid: '6F5B', size: 6, sfi: 0x0f },
  efThreshold: { fid: '6F5C', size: 3, sfi: 0x10 },
  efPsloci: { fid: '6F73', size: 14, sfi: 0x0c },
  efAcc: { fid: '6F78', size: 2, sfi: 0x06 },
  efFplmn: { fid: '6F7B', size: 12, sfi: 0x0d },
  efLoci: { fid: '6F7E', size: 11, sfi: 0x0b },
  efAd: { fid: '6FAD', size: 4, sfi: 0x03 },
  efEcc: { fid: '6FB7', sfi: 0x01 },
  efEpsloci: { fid: '6FE3', size: 18, sfi: 0x1e },
  efEpsnsc: { fid: '6FE4', sfi: 0x18 },
};
const OPT_USIM_TEMPLATE: Readonly<Record<string, TemplateFile>> = {
  efLi: { fid: '6F05', sfi: 0x02 },
  efAcmax: { fid: '6F37', size: 3 },
  efPuct: { fid: '6F41', size: 5 },
  efDck: { fid: '6F2C', size: 16 },
  efVgcss: { fid: '6FB2', size: 7 },
  efVbss: { fid: '6FB4', size: 7 },
  efEmlpp: { fid: '6FB5', size: 2 },
  efAaem: { fid: '6FB6', size: 1 },
  efHiddenkey: { fid: '6FC3', size: 4 },
  efEhplmnpi: { fid: '6FDB', size: 1 },
  efLrplmnsi: { fid: '6FDC', size: 1 },
};
const GSM_ACCESS_TEMPLATE: Readonly<Record<string, TemplateFile>> = {
  dfGsmAccess: { fid: '5F3B' },
  efKc: { fid: '4F20', size: 9, sfi: 0x01 },
  efKcgprs: { fid: '4F52', size: 9, sfi: 0x02 },
  efInvscan: { fid: '4F64', size: 1 },
};
const DF_5GS_TEMPLATE: Readonly<Record<string, TemplateFile>> = {
  dfDf5gs: { fid: '5FC0' },
  ef5gs3gpploci: { fid: '4F01', size: 20, sfi: 0x01 },
  ef5gsn3gpploci: { fid: '4F02', size: 20, sfi: 0x02 },
  efUacAic: { fid: '4F06', size: 4, sfi: 0x06 },
  efRoutingIndicator: { fid: '4F0A', size: 4, sfi: 0x0a },
};
const TELECOM_TEMPLATE: Readonly<Record<string, TemplateFile>> = {
  dfTelecom: { fid: '7F10' },
  efPsc: { fid: '4F22', size: 4 },
  efCc: { fid: '4F23', size: 2 },
  efPuid: { fid: '4F24', size: 2 },
};

/** Where a templated PE puts its files: under the MF, under ADF.USIM, or it is ADF.USIM. */
type Placement = 'mf' | 'adfUsim' | 'inAdfUsim' | 'underAdfUsim';

/** The templated PEs kept and their placement; ISIM, CSIM, EAP and IoT PEs are not served by the USIM. */
const KEPT_PES: Readonly<Record<string, { placement: Placement; template: Readonly<Record<string, TemplateFile>> }>> = {
  mf: { placement: 'mf', template: MF_TEMPLATE },
  cd: { placement: 'mf', template: { dfCd: { fid: '7F11' } } },
  telecom: { placement: 'mf', template: TELECOM_TEMPLATE },
  usim: { placement: 'adfUsim', template: USIM_TEMPLATE },
  optUsim: { placement: 'inAdfUsim', template: OPT_USIM_TEMPLATE },
  phonebook: { placement: 'underAdfUsim', template: { dfPhonebook: { fid: '5F3A' } } },
  gsmAccess: { placement: 'underAdfUsim', template: GSM_ACCESS_TEMPLATE },
  df5gs: { placement: 'underAdfUsim', template: DF_5GS_TEMPLATE },
  dfSaip: { placement: 'underAdfUsim', template: { dfDfSaip: { fid: '5FD0' } } },
  dfSnpn: { placement: 'underAdfUsim', template: { dfDfSnpn: { fid: '5FE0' } } },
  df5gprose: { placement: 'underAdfUsim', template: { dfDf5gProse: { fid: '5FF0' } } },
};

/** A DF while the tree is built. */
interface DfBuild {
  readonly fid: string;
  aid?: Buffer;
  lcsi: number;
  security?: Buffer;
  readonly children: (DfBuild | EfBuild)[];
  readonly depth: number;
}

interface EfBuild {
  readonly fid: string;
  readonly structure: EfStructure;
  readonly recordLength?: number;
  readonly sfi?: number;
  readonly lcsi: number;
  readonly security?: Buffer;
  data: Buffer;
  /** linkPath (SAIP): the file shares the contents of the file at this path from the MF. */
  readonly link?: string[];
  /** Neither the FCP nor the template gives the size: the file takes the size of what the profile writes. */
  readonly open?: boolean;
}

function isDf(node: DfBuild | EfBuild): node is DfBuild {
  return 'children' in node;
}

function invalid(message: string): never {
  throw new FileSystemError('INVALID_FILE_SYSTEM', message);
}

function hex(b: Buffer): string {
  return b.toString('hex').toUpperCase();
}

/** Splits a path (concatenated FIDs) into upper-case FIDs. */
function splitPath(path: Buffer, what: string): string[] {
  if (path.length % 2 !== 0) invalid(`${what} ${hex(path)} is not a sequence of 2-byte file IDs`);
  const out: string[] = [];
  for (let i = 0; i < path.length; i += 2) out.push(hex(path.subarray(i, i + 2)));
  return out;
}

/** ETSI TS 102 222 6.3: the initial contents of `length` bytes from a fill pattern (last byte repeated) or a repeat pattern. */
function filled(length: number, fcp: Fcp | undefined): Buffer {
  const info = fcp?.proprietaryEFInfo;
  const out = Buffer.alloc(length, 0xff);
  if (info?.fillPattern !== undefined) {
    const p = info.fillPattern;
    for (let i = 0; i < length; i++) out[i] = p[Math.min(i, p.length - 1)]!;
  } else if (info?.repeatPattern !== undefined) {
    const p = info.repeatPattern;
    for (let i = 0; i < length; i++) out[i] = p[i % p.length]!;
  }
  return out;
}

/** The integer of a big-endian byte string (a file size). */
function sizeOf(bytes: Buffer, what: string): number {
  if (bytes.length === 0 || bytes.length > 3) invalid(`${what}: file size of ${bytes.length} bytes`);
  return bytes.readUIntBE(0, bytes.length);
}

/** The builder: tracks counts against FILE_SYSTEM_LIMITS. */
class Builder {
  readonly mf: DfBuild = { fid: MF_FID, lcsi: LCSI_ACTIVATED, children: [], depth: 0 };
  adfUsim: DfBuild | undefined;
  #files = 1;
  #bytes = 0;

  #count(): void {
    this.#files++;
    if (this.#files > FILE_SYSTEM_LIMITS.maxFiles) {
      throw new FileSystemError('FILE_SYSTEM_LIMIT', `the profile creates more than maxFiles = ${FILE_SYSTEM_LIMITS.maxFiles} files`);
    }
  }

  addDf(parent: DfBuild, fid: string, fcp: Fcp | undefined): DfBuild {
    if (parent.depth + 1 > FILE_SYSTEM_LIMITS.maxDepth) {
      throw new FileSystemError('FILE_SYSTEM_LIMIT', `DF ${fid} is deeper than maxDepth = ${FILE_SYSTEM_LIMITS.maxDepth} levels`);
    }
    this.#checkFid(parent, fid);
    this.#count();
    const df: DfBuild = { fid, lcsi: LCSI_ACTIVATED, children: [], depth: parent.depth + 1 };
    applyDfFcp(df, fcp);
    parent.children.push(df);
    return df;
  }

  newAdf(fid: string, fcp: Fcp | undefined): DfBuild {
    if (this.adfUsim) invalid('the profile has two PE-USIM');
    if (RESERVED_FIDS.has(fid)) invalid(`ADF.USIM takes the reserved file ID ${fid}`);
    this.#count();
    const adf: DfBuild = { fid, lcsi: LCSI_ACTIVATED, children: [], depth: 0 };
    applyDfFcp(adf, fcp);
    if (adf.aid === undefined) invalid('ADF.USIM has no DF name (AID)');
    this.adfUsim = adf;
    return adf;
  }

  /** An EF from its FCP (profile first, template defaults after) with `writes` applied; undefined for an EF not served (BER-TLV). */
  addEf(parent: DfBuild, fcp: Fcp | undefined, template: TemplateFile | undefined, what: string): EfBuild | undefined {
    const fid = fcp?.fileID !== undefined ? hex(fcp.fileID) : template?.fid;
    if (fid === undefined) return undefined;
    const descriptor = fcp?.fileDescriptor;
    const fdb = descriptor?.[0] ?? 0x41;
    if ((fdb & 0x38) === 0x38) {
      if ((fdb & 0x07) === 0x01) return undefined; // BER-TLV EF: not served
      invalid(`${what}: file descriptor ${hex(descriptor!)} is a DF where an EF is expected`);
    }
    const structureBits = fdb & 0x07;
    const structure: EfStructure | undefined = structureBits === 1 ? 'transparent' : structureBits === 2 ? 'linearFixed' : structureBits === 6 ? 'cyclic' : undefined;
    if (structure === undefined) invalid(`${what}: file descriptor byte ${fdb.toString(16)} is not a transparent, linear fixed or cyclic EF`);
    this.#checkFid(parent, fid);
    this.#count();
    let recordLength: number | undefined;
    if (structure !== 'transparent') {
      if (descriptor === undefined || descriptor.length < 4) invalid(`${what}: a record EF needs a file descriptor with its record length`);
      recordLength = descriptor.readUInt16BE(2);
      if (recordLength < 1 || recordLength > 255) invalid(`${what}: record length ${recordLength} is not 1 to 255`);
    }
    const declared = fcp?.efFileSize !== undefined ? sizeOf(fcp.efFileSize, what) : template?.size;
    const link = fcp?.linkPath !== undefined ? splitPath(fcp.linkPath, `${what} linkPath`) : undefined;
    const size = declared ?? recordLength ?? 0;
    if (size > FILE_SYSTEM_LIMITS.maxFileSize) {
      throw new FileSystemError('FILE_SYSTEM_LIMIT', `${what}: ${size} bytes exceed maxFileSize = ${FILE_SYSTEM_LIMITS.maxFileSize}`);
    }
    if (recordLength !== undefined) {
      if (size % recordLength !== 0 || size === 0) invalid(`${what}: file size ${size} is not a positive multiple of the record length ${recordLength}`);
      if (size / recordLength > FILE_SYSTEM_LIMITS.maxRecords) {
        throw new FileSystemError('FILE_SYSTEM_LIMIT', `${what}: ${size / recordLength} records exceed maxRecords = ${FILE_SYSTEM_LIMITS.maxRecords}`);
      }
    }
    this.#addBytes(size, what);
    const data = recordLength === undefined ? filled(size, fcp) : Buffer.concat(Array.from({ length: size / recordLength }, () => filled(recordLength, fcp)));
    const shortEfid = fcp?.shortEFID;
    const sfi = shortEfid === undefined ? template?.sfi : shortEfid.length === 0 ? undefined : shortEfid[0]! >> 3;
    const ef: EfBuild = {
      fid,
      structure,
      ...(recordLength !== undefined ? { recordLength } : {}),
      ...(sfi !== undefined && sfi >= 1 && sfi <= 30 ? { sfi } : {}),
      lcsi: fcp?.lcsi?.[0] ?? LCSI_ACTIVATED,
      ...(fcp?.securityAttributesReferenced !== undefined ? { security: fcp.securityAttributesReferenced } : {}),
      data,
      ...(link !== undefined ? { link } : {}),
      ...(declared === undefined && recordLength === undefined ? { open: true } : {}),
    };
    parent.children.push(ef);
    return ef;
  }

  /** Writes `data` at `offset` of `ef` (SAIP fillFileContent); a transparent EF of open size grows to hold it. */
  write(ef: EfBuild, offset: number, data: Buffer, what: string): void {
    const end = offset + data.length;
    if (end > ef.data.length) {
      if (ef.open !== true) invalid(`${what}: contents up to byte ${end} exceed the file size ${ef.data.length}`);
      if (end > FILE_SYSTEM_LIMITS.maxFileSize) {
        throw new FileSystemError('FILE_SYSTEM_LIMIT', `${what}: ${end} bytes exceed maxFileSize = ${FILE_SYSTEM_LIMITS.maxFileSize}`);
      }
      this.#addBytes(end - ef.data.length, what);
      ef.data = Buffer.concat([ef.data, Buffer.alloc(end - ef.data.length, 0xff)]);
    }
    data.copy(ef.data, offset);
  }

  #addBytes(n: number, what: string): void {
    this.#bytes += n;
    if (this.#bytes > FILE_SYSTEM_LIMITS.maxTotalBytes) {
      throw new FileSystemError('FILE_SYSTEM_LIMIT', `${what}: the profile's files exceed maxTotalBytes = ${FILE_SYSTEM_LIMITS.maxTotalBytes}`);
    }
  }

  #checkFid(parent: DfBuild, fid: string): void {
    if (RESERVED_FIDS.has(fid) || fid === parent.fid) invalid(`file ID ${fid} is reserved or names its parent`);
    if (parent.children.some((c) => c.fid === fid)) invalid(`file ID ${fid} exists twice in DF ${parent.fid}`);
  }

  /** The DF at `path` (FIDs from the MF; an empty path is the MF; ADF.USIM by its FID first); undefined when absent. */
  dfAt(path: readonly string[]): DfBuild | undefined {
    let node: DfBuild | undefined = this.mf;
    let rest = path;
    if (path[0] === MF_FID) rest = path.slice(1);
    else if (this.adfUsim && path[0] === this.adfUsim.fid) {
      node = this.adfUsim;
      rest = path.slice(1);
    }
    for (const fid of rest) {
      const next: DfBuild | EfBuild | undefined = node?.children.find((c) => c.fid === fid);
      node = next !== undefined && isDf(next) ? next : undefined;
    }
    return node;
  }

  efAt(path: readonly string[]): EfBuild | undefined {
    const parent = this.dfAt(path.slice(0, -1));
    const ef = parent?.children.find((c) => c.fid === path.at(-1));
    return ef !== undefined && !isDf(ef) ? ef : undefined;
  }
}

function applyDfFcp(df: DfBuild, fcp: Fcp | undefined): void {
  if (fcp?.fileDescriptor !== undefined && (fcp.fileDescriptor[0]! & 0x3f) !== 0x38) {
    invalid(`DF ${df.fid}: file descriptor ${hex(fcp.fileDescriptor)} is not a DF`);
  }
  if (fcp?.dfName !== undefined) df.aid = fcp.dfName;
  if (fcp?.lcsi !== undefined) df.lcsi = fcp.lcsi[0]!;
  if (fcp?.securityAttributesReferenced !== undefined) df.security = fcp.securityAttributesReferenced;
}

/** The FCP and the contents writes of a SAIP File. */
function splitFile(file: SaipFile): { fcp: Fcp | undefined; doNotCreate: boolean } {
  let fcp: Fcp | undefined;
  let doNotCreate = false;
  for (const e of file) {
    if (e.type === 'fileDescriptor') fcp = e.value;
    else if (e.type === 'doNotCreate') doNotCreate = true;
  }
  return { fcp, doNotCreate };
}

/** Applies fillFileOffset / fillFileContent elements in order, from offset 0 (SAIP 8.3.3). */
function applyWrites(builder: Builder, ef: EfBuild, elements: readonly (FileManagementElement | SaipFile[number])[], what: string): void {
  let pos = 0;
  for (const e of elements) {
    if (e.type === 'fillFileOffset') pos += e.value;
    else if (e.type === 'fillFileContent') {
      builder.write(ef, pos, e.value, what);
      pos += e.value.length;
    }
  }
}

/**
 * A templated PE: its first DF goes under the MF (or ADF.USIM for the USIM's sub-DFs) and further DFs under that
 * first one; EFs go into the latest DF (PE-OPT-USIM: into ADF.USIM).
 */
function templatedPe(builder: Builder, type: string, value: Record<string, unknown>): void {
  const kept = KEPT_PES[type]!;
  let root: DfBuild | undefined = kept.placement === 'inAdfUsim' ? builder.adfUsim : undefined;
  let current = root;
  for (const [name, raw] of Object.entries(value)) {
    if (name === 'templateID' || name.endsWith('Header') || !Array.isArray(raw)) continue;
    const file = raw as SaipFile;
    const { fcp, doNotCreate } = splitFile(file);
    const template = kept.template[name];
    const what = `${type}.${name}`;
    if (name === 'mf') {
      // The MF always exists; the PE may only describe it.
      if (fcp?.fileID !== undefined && hex(fcp.fileID) !== MF_FID) invalid(`the MF has file ID ${hex(fcp.fileID)}`);
      if (!doNotCreate) applyDfFcp(builder.mf, fcp);
      root = current = builder.mf;
      continue;
    }
    if (doNotCreate) continue;
    if (/^(adf|df)[A-Z0-9]/.test(name)) {
      const fid = fcp?.fileID !== undefined ? hex(fcp.fileID) : template?.fid;
      if (fid === undefined) invalid(`${what} has no file ID`);
      if (kept.placement === 'adfUsim') {
        root = current = builder.newAdf(fid, fcp);
      } else if (root === undefined) {
        const parent = kept.placement === 'underAdfUsim' ? builder.adfUsim : builder.mf;
        if (parent === undefined) return; // a USIM sub-DF without ADF.USIM: nothing to serve it under
        root = current = builder.addDf(parent, fid, fcp);
      } else {
        current = builder.addDf(root, fid, fcp);
      }
      continue;
    }
    if (current === undefined) return;
    const ef = builder.addEf(current, fcp, template, what);
    if (ef) applyWrites(builder, ef, file, what);
  }
}

/** PE-GenericFileManagement: filePath selects the DF (from the MF), createFCP creates a file in it (a DF becomes current), fills write the last EF. */
function genericFileManagement(builder: Builder, commands: readonly FileManagementElement[][]): void {
  for (const [i, command] of commands.entries()) {
    let current: DfBuild | undefined = builder.mf;
    let ef: EfBuild | undefined;
    let pending: FileManagementElement[] = [];
    const what = `genericFileManagement[${i}]`;
    const flush = (): void => {
      if (ef) applyWrites(builder, ef, pending, what);
      pending = [];
    };
    for (const e of command) {
      if (e.type === 'filePath') {
        flush();
        ef = undefined;
        current = builder.dfAt(splitPath(e.value, `${what} filePath`));
      } else if (e.type === 'createFCP') {
        flush();
        ef = undefined;
        if (current === undefined) continue; // a path outside the MF tree and ADF.USIM (ISIM, CSIM): not served
        const fdb = e.value.fileDescriptor?.[0];
        if (fdb !== undefined && (fdb & 0x3f) === 0x38) {
          if (e.value.fileID === undefined) invalid(`${what}: a DF without file ID`);
          current = builder.addDf(current, hex(e.value.fileID), e.value);
        } else {
          if (e.value.fileID === undefined) invalid(`${what}: an EF without file ID`);
          ef = builder.addEf(current, e.value, undefined, `${what} EF ${hex(e.value.fileID)}`);
        }
      } else {
        pending.push(e);
      }
    }
    flush();
  }
}

/** Linked EFs take the contents of their target (looked up after every PE is processed); a link to nothing is dropped. */
function resolveLinks(builder: Builder, df: DfBuild): void {
  for (let i = df.children.length - 1; i >= 0; i--) {
    const child = df.children[i]!;
    if (isDf(child)) resolveLinks(builder, child);
    else if (child.link !== undefined) {
      const target = builder.efAt(child.link);
      if (target === undefined || target.link !== undefined) df.children.splice(i, 1);
      else child.data = Buffer.from(target.data);
    }
  }
}

function freeze(df: DfBuild): StoredDf {
  return {
    kind: 'df',
    fid: df.fid,
    ...(df.aid !== undefined ? { aid: Buffer.from(df.aid) } : {}),
    lcsi: df.lcsi,
    ...(df.security !== undefined ? { security: Buffer.from(df.security) } : {}),
    children: df.children.map((c) =>
      isDf(c)
        ? freeze(c)
        : {
            kind: 'ef' as const,
            fid: c.fid,
            structure: c.structure,
            ...(c.recordLength !== undefined ? { recordLength: c.recordLength } : {}),
            ...(c.sfi !== undefined ? { sfi: c.sfi } : {}),
            lcsi: c.lcsi,
            ...(c.security !== undefined ? { security: Buffer.from(c.security) } : {}),
            data: c.data,
          },
    ),
  };
}

/**
 * The file system a profile package creates for the USIM: the MF with its EFs and DFs (PE-MF, PE-CD, PE-TELECOM),
 * ADF.USIM (PE-USIM, PE-OPT-USIM, and the DFs of PE-PHONEBOOK, PE-GSM-ACCESS, PE-DF-5GS, PE-DF-SAIP, ...), and what
 * PE-GenericFileManagement creates in them. FCP values absent from the profile come from the template table above;
 * contents start from the fill or repeat pattern (FF without one). Throws FileSystemError past FILE_SYSTEM_LIMITS.
 */
export function buildProfileFileSystem(elements: readonly ProfileElement[]): ProfileFileSystem {
  const builder = new Builder();
  for (const e of elements) {
    if (e.type === 'genericFileManagement') genericFileManagement(builder, e.value.fileManagementCMD);
    else if (KEPT_PES[e.type] !== undefined && !Buffer.isBuffer(e.value)) templatedPe(builder, e.type, e.value as unknown as Record<string, unknown>);
  }
  resolveLinks(builder, builder.mf);
  if (builder.adfUsim) resolveLinks(builder, builder.adfUsim);
  return { mf: freeze(builder.mf), ...(builder.adfUsim ? { adfUsim: freeze(builder.adfUsim) } : {}) };
}

/** The AID given to ADF.USIM of a profile installed before its file system was kept: the 3GPP USIM RID and application code, F padded. */
export const FALLBACK_USIM_AID = Buffer.from('A0000000871002FFFFFFFF89', 'hex');

/**
 * The file system of a profile installed before mcim kept profile file systems (its package is gone): EF_ICCID in
 * the MF and ADF.USIM (FALLBACK_USIM_AID) with EF_IMSI, rebuilt from the stored essentials.
 */
export function essentialFileSystem(iccid: Buffer, imsi: Buffer | undefined): ProfileFileSystem {
  const ef = (fid: string, sfi: number, data: Buffer): StoredEf => ({ kind: 'ef', fid, structure: 'transparent', sfi, lcsi: LCSI_ACTIVATED, data });
  return {
    mf: { kind: 'df', fid: MF_FID, lcsi: LCSI_ACTIVATED, children: [ef('2FE2', 0x02, Buffer.from(iccid))] },
    adfUsim: {
      kind: 'df',
      fid: '7FD0',
      aid: Buffer.from(FALLBACK_USIM_AID),
      lcsi: LCSI_ACTIVATED,
      children: imsi !== undefined ? [ef('6F07', 0x07, imsi)] : [],
    },
  };
}
