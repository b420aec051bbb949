// `mcim asn1 dump`: the BER-TLV tree (X.690 8.1) of a DER, hex, base64 or PEM input, as text or JSON.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { McimError } from '../../errors.js';
import { decodeOid, decodeBigInteger } from '../../asn1/primitives.js';
import { decodeTlvList, tagHex, type Tlv } from '../../asn1/tlv.js';

export type InputFormat = 'der' | 'hex' | 'base64';

const UNIVERSAL_NAMES: Readonly<Record<number, string>> = {
  1: 'BOOLEAN',
  2: 'INTEGER',
  3: 'BIT STRING',
  4: 'OCTET STRING',
  5: 'NULL',
  6: 'OBJECT IDENTIFIER',
  10: 'ENUMERATED',
  12: 'UTF8String',
  16: 'SEQUENCE',
  17: 'SET',
  19: 'PrintableString',
  22: 'IA5String',
  23: 'UTCTime',
  24: 'GeneralizedTime',
  26: 'VisibleString',
  30: 'BMPString',
};

const PREVIEW_BYTES = 32;

/** Recognises binary DER, hexadecimal text, base64 text and PEM armour; returns the DER bytes. */
export function detectInput(data: Buffer): { format: InputFormat; bytes: Buffer } {
  const isText = data.length > 0 && data.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d);
  if (!isText) return { format: 'der', bytes: data };
  const text = data
    .toString('latin1')
    .split(/\r?\n/)
    .filter((line) => !/^-----(BEGIN|END) [A-Z0-9 ]+-----$/.test(line.trim()))
    .join('')
    .replace(/\s+/g, '');
  if (text.length > 0 && text.length % 2 === 0 && /^[0-9A-Fa-f]+$/.test(text)) {
    return { format: 'hex', bytes: Buffer.from(text, 'hex') };
  }
  if (text.length > 0 && text.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    return { format: 'base64', bytes: Buffer.from(text, 'base64') };
  }
  throw new McimError('INVALID_ARGUMENT', 'input is text but neither hexadecimal nor base64');
}

export interface DumpNode {
  offset: number;
  tag: string;
  class: Tlv['tagClass'];
  tagNumber: number;
  constructed: boolean;
  headerLength: number;
  length: number;
  /** The universal type name, for universal tags. */
  type?: string;
  /** Primitive contents in hexadecimal. */
  value?: string;
  /** Printable text, when the contents are. */
  text?: string;
  /** Decoded INTEGER, ENUMERATED or OBJECT IDENTIFIER. */
  decoded?: string;
  children?: DumpNode[];
}

function printable(value: Buffer): string | undefined {
  if (value.length < 3) return undefined;
  let s: string;
  try {
    s = new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch {
    return undefined;
  }
  return /^[\P{C}\t]+$/u.test(s) ? s : undefined;
}

function decodedUniversal(t: Tlv): string | undefined {
  try {
    if (t.tag === 0x06) return decodeOid(t.value);
    if ((t.tag === 0x02 || t.tag === 0x0a) && t.value.length <= 64) return decodeBigInteger(t.value).toString();
  } catch {
    return undefined;
  }
  return undefined;
}

function toNode(t: Tlv): DumpNode {
  const node: DumpNode = {
    offset: t.offset,
    tag: tagHex(t.tag),
    class: t.tagClass,
    tagNumber: t.tagNumber,
    constructed: t.constructed,
    headerLength: t.raw.length - t.value.length,
    length: t.value.length,
  };
  if (t.tagClass === 'universal' && UNIVERSAL_NAMES[t.tagNumber]) node.type = UNIVERSAL_NAMES[t.tagNumber];
  if (t.children) {
    node.children = t.children.map(toNode);
  } else {
    node.value = t.value.toString('hex');
    const text = printable(t.value);
    if (text !== undefined) node.text = text;
    const decoded = t.tagClass === 'universal' ? decodedUniversal(t) : undefined;
    if (decoded !== undefined) node.decoded = decoded;
  }
  return node;
}

function renderText(nodes: readonly DumpNode[], width: number, depth: number, out: string[]): void {
  for (const n of nodes) {
    const label = n.type ?? (n.class === 'universal' ? `[UNIVERSAL ${n.tagNumber}]` : `[${n.class.toUpperCase()} ${n.tagNumber}]`);
    let line = `${String(n.offset).padStart(width)}: ${'  '.repeat(depth)}${n.tag} ${label} len=${n.length}`;
    if (n.children) {
      out.push(line);
      renderText(n.children, width, depth + 1, out);
      continue;
    }
    if (n.length > 0) {
      const preview = n.value!.slice(0, PREVIEW_BYTES * 2).replace(/(..)(?!$)/g, '$1 ');
      line += `  ${preview}${n.length > PREVIEW_BYTES ? ' ...' : ''}`;
    }
    if (n.decoded !== undefined) line += `  = ${n.decoded}`;
    else if (n.text !== undefined) line += `  "${n.text.length > 64 ? `${n.text.slice(0, 64)}...` : n.text}"`;
    out.push(line);
  }
}

export interface DumpOptions {
  json?: boolean;
}

/**
 * Renders the TLV tree of the input (DER, hex, base64 or PEM; one element or a concatenation such as a
 * profile package). Malformed input raises the Asn1Error, whose message carries the offset and tag path.
 */
export function dumpAsn1(input: Buffer, options: DumpOptions = {}): string {
  const { bytes } = detectInput(input);
  if (bytes.length === 0) throw new McimError('INVALID_ARGUMENT', 'no data');
  const nodes = decodeTlvList(bytes).map(toNode);
  if (options.json) return `${JSON.stringify(nodes, null, 2)}\n`;
  const out: string[] = [];
  renderText(nodes, String(bytes.length).length, 0, out);
  return `${out.join('\n')}\n`;
}

async function readInput(file: string): Promise<Buffer> {
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    return await readFile(file);
  } catch (e) {
    throw new McimError('IO_ERROR', `cannot read ${file === '-' ? 'standard input' : file}: ${(e as Error).message}`);
  }
}

/** Registers `asn1 dump`; `write` receives the output (standard output unless a caller redirects it). */
export function registerAsn1(program: Command, write: (text: string) => void = (text) => void process.stdout.write(text)): void {
  const asn1 = program.command('asn1').description('ASN.1 / BER-TLV tools');
  asn1
    .command('dump')
    .description('print the TLV tree of DER data (binary, hex, base64 or PEM; concatenated elements too)')
    .argument('<file>', "input file, or '-' for standard input")
    .option('--json', 'print the tree as JSON')
    .addHelpText(
      'after',
      `
Each line shows the offset, the tag in hex, its class and number, the content length and, for
primitive elements, a hex preview with the decoded value or printable text.

Examples:
  mcim asn1 dump test/fixtures/sgp26/EUM/CERT_EUM_ECDSA_NIST.der
  mcim asn1 dump test/fixtures/ts48/TS48V1-A-UNIQUE.der     # a profile package (list of PEs)
  echo BF3E035C015A | mcim asn1 dump -
  mcim asn1 dump --json message.b64`,
    )
    .action(async (file: string, opts: DumpOptions) => {
      write(dumpAsn1(await readInput(file), opts));
    });
}
