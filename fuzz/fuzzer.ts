// Mutation fuzzer for the X.690 TLV layer and the typed SGP.22/SAIP/X.509 codecs: the only acceptable failure is an Asn1Error.
import { roleTargets } from './roleTargets.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { McimError } from '../src/errors.js';
import { decodeTlv, decodeTlvList, encodeLength } from '../src/asn1/tlv.js';
import { decode, decodeWithReport, type Codec } from '../src/asn1/schema.js';
import { RSP_MESSAGES } from '../src/asn1/definitions/rsp.js';
import { SGP32_MESSAGES } from '../src/asn1/definitions/sgp32.js';
import { decodeProfilePackage, encodeProfilePackage, extractProfileEssentials } from '../src/asn1/definitions/saip.js';
import { certificateList } from '../src/asn1/definitions/x509.js';
import { buildProfileFileSystem } from '../src/euicc/usim/fileSystem.js';
import { issueCrl, parseCrl } from '../src/pki/crl.js';
import { issueTestCertificate } from '../src/pki/testPki.js';
import { RSP_ARBITRARIES } from '../test/asn1/rsp-arbitraries.js';
import { SGP32_ARBITRARIES } from '../test/asn1/sgp32-arbitraries.js';
import { fixturePath } from '../test/helpers/fixtures.js';

// ---------------------------------------------------------------------------------------------
// Seeded PRNG: xoshiro128** seeded through splitmix32
// ---------------------------------------------------------------------------------------------

export class Rng {
  private s: Uint32Array;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = new Uint32Array([next(), next(), next(), next()]);
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Lenient TLV tree: lets mutations keep the framing valid so inputs reach the typed codecs
// ---------------------------------------------------------------------------------------------

interface Node {
  tag: Buffer;
  children?: Node[];
  value?: Buffer;
  /** Verbatim bytes standing for the whole element (spliced or deliberately malformed). */
  raw?: Buffer;
  /** Set by measure() before writing. */
  contentLength?: number;
}

function parseNodes(buf: Buffer, start: number, end: number, depth: number): Node[] | undefined {
  const out: Node[] = [];
  let p = start;
  while (p < end) {
    const t0 = p;
    if ((buf[p++]! & 0x1f) === 0x1f) {
      let n = 0;
      while (p < end && (buf[p]! & 0x80) !== 0 && n < 4) {
        p++;
        n++;
      }
      p++;
    }
    if (p >= end) return undefined;
    const tag = buf.subarray(t0, p);
    const l0 = buf[p++]!;
    let len = l0;
    if (l0 >= 0x80) {
      const n = l0 & 0x7f;
      if (n === 0 || n > 4 || p + n > end) return undefined;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
      p += n;
    }
    if (p + len > end) return undefined;
    const value = buf.subarray(p, p + len);
    const kids = (tag[0]! & 0x20) !== 0 && depth < 64 ? parseNodes(buf, p, p + len, depth + 1) : undefined;
    out.push(kids ? { tag, children: kids } : { tag, value });
    p += len;
  }
  return out;
}

function cloneNode(n: Node): Node {
  if (n.raw) return { tag: n.tag, raw: n.raw };
  return n.children ? { tag: n.tag, children: n.children.map(cloneNode) } : { tag: n.tag, value: n.value! };
}

function lengthBytes(len: number): number {
  return len < 0x80 ? 1 : len <= 0xff ? 2 : len <= 0xffff ? 3 : len <= 0xffffff ? 4 : 5;
}

/** Content length of every node (stored in `contentLength`), and the node's total length. */
function measure(n: Node): number {
  if (n.raw) return n.raw.length;
  let len = 0;
  if (n.children) for (const c of n.children) len += measure(c);
  else len = n.value!.length;
  n.contentLength = len;
  return n.tag.length + lengthBytes(len) + len;
}

function writeNode(n: Node, out: Buffer, o: number): number {
  if (n.raw) return o + n.raw.copy(out, o);
  o += n.tag.copy(out, o);
  const len = n.contentLength!;
  if (len < 0x80) out[o++] = len;
  else {
    const k = lengthBytes(len) - 1;
    out[o++] = 0x80 | k;
    for (let i = k - 1; i >= 0; i--) out[o++] = Math.floor(len / 2 ** (8 * i)) & 0xff;
  }
  if (n.children) for (const c of n.children) o = writeNode(c, out, o);
  else o += n.value!.copy(out, o);
  return o;
}

/** DER framing (minimal lengths) of a list of nodes, in one allocation. */
function serializeAll(nodes: readonly Node[]): Buffer {
  const out = Buffer.allocUnsafe(nodes.reduce((sum, n) => sum + measure(n), 0));
  let o = 0;
  for (const n of nodes) o = writeNode(n, out, o);
  return out;
}

function serialize(n: Node): Buffer {
  return serializeAll([n]);
}

interface Located {
  node: Node;
  parent: Node[];
  index: number;
}

function allNodes(list: Node[], out: Located[] = []): Located[] {
  list.forEach((node, index) => {
    out.push({ node, parent: list, index });
    if (node.children) allNodes(node.children, out);
  });
  return out;
}

/** Header positions of every element (tag start, length start, value start), for length and tag corruption. */
function headers(buf: Buffer): { tag: number; len: number; value: number }[] {
  const out: { tag: number; len: number; value: number }[] = [];
  const walk = (start: number, end: number, depth: number): void => {
    let p = start;
    while (p < end && out.length < 4096) {
      const t0 = p;
      if ((buf[p++]! & 0x1f) === 0x1f) while (p < end && (buf[p++]! & 0x80) !== 0);
      if (p >= end) return;
      const l = p;
      const l0 = buf[p++]!;
      let len = l0;
      if (l0 >= 0x80) {
        const n = l0 & 0x7f;
        if (n === 0 || n > 4 || p + n > end) return;
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
        p += n;
      }
      out.push({ tag: t0, len: l, value: p });
      if (p + len > end) return;
      if ((buf[t0]! & 0x20) !== 0 && depth < 64) walk(p, p + len, depth + 1);
      p += len;
    }
  };
  walk(0, buf.length, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

const INTERESTING_BYTES = [0x00, 0x01, 0x1f, 0x20, 0x30, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0xa0, 0xbf, 0xff];
const DICTIONARY_TAGS = ['30', '31', '04', '02', '01', '05', '06', '03', '0c', '80', '81', 'a0', 'a1', 'a2', '5a', '4f', '5f37', '5f49', '9f70', 'bf20', 'bf22', 'bf2f', 'bf37', 'e3', '1f05', '9f8001', 'bf818001', '1f1f', 'bf8100'].map(
  (h) => Buffer.from(h, 'hex'),
);
const LENGTH_CORRUPTIONS = [
  Buffer.from('80', 'hex'),
  Buffer.from('84ffffffff', 'hex'),
  Buffer.from('847fffffff', 'hex'),
  Buffer.from('83ffffff', 'hex'),
  Buffer.from('850000000001', 'hex'),
  Buffer.from('ff', 'hex'),
  Buffer.from('8100', 'hex'),
  Buffer.from('820005', 'hex'),
  Buffer.from('00', 'hex'),
];

type ByteMutator = (b: Buffer, rng: Rng, donors: readonly Buffer[]) => Buffer;

const BYTE_MUTATORS: ByteMutator[] = [
  // bit flip
  (b, rng) => {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    c[rng.int(c.length)]! ^= 1 << rng.int(8);
    return c;
  },
  // byte set
  (b, rng) => {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    c[rng.int(c.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
    return c;
  },
  // truncation
  (b, rng) => b.subarray(0, rng.int(b.length + 1)),
  // insertion
  (b, rng) => {
    const at = rng.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at)]);
  },
  // deletion of a range
  (b, rng) => {
    const at = rng.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(16)))]);
  },
  // length corruption: indefinite, huge, non-minimal, off by one
  (b, rng) => {
    const hs = headers(b);
    if (hs.length === 0) return b;
    const h = rng.pick(hs);
    let repl: Buffer;
    if (rng.chance(0.4)) {
      const cur = h.value - h.len === 1 ? b[h.len]! : -1;
      repl = cur >= 0 && cur < 0x80 ? Buffer.from([(cur + (rng.chance(0.5) ? 1 : 0x7f)) & 0x7f]) : rng.pick(LENGTH_CORRUPTIONS);
    } else {
      repl = rng.pick(LENGTH_CORRUPTIONS);
    }
    return Buffer.concat([b.subarray(0, h.len), repl, b.subarray(h.value)]);
  },
  // tag corruption: constructed bit, class bits, long and non-minimal forms
  (b, rng) => {
    const hs = headers(b);
    if (hs.length === 0) return b;
    const h = rng.pick(hs);
    if (rng.chance(0.5)) {
      const c = Buffer.from(b);
      c[h.tag]! ^= rng.pick([0x20, 0x40, 0x80, 0xc0, 0x1f]);
      return c;
    }
    return Buffer.concat([b.subarray(0, h.tag), rng.pick(DICTIONARY_TAGS), b.subarray(h.len)]);
  },
  // deep nesting: indefinite-length SEQUENCEs, thousands of them
  (b, rng) => {
    const at = rng.int(b.length + 1);
    const nest = Buffer.alloc(2 * (1 + rng.int(rng.chance(0.9) ? 60 : 3000))).fill(Buffer.from([0x30, 0x80]));
    return Buffer.concat([b.subarray(0, at), nest, b.subarray(at)]);
  },
  // splicing with another input at random cut points
  (b, rng, donors) => {
    const d = rng.pick(donors);
    const at = rng.int(b.length + 1);
    const from = rng.int(d.length + 1);
    return Buffer.concat([b.subarray(0, at), d.subarray(from, from + rng.int(d.length - from + 1))]);
  },
];

function headerLength(len: number): number {
  return len < 0x80 ? 2 : len <= 0xff ? 3 : len <= 0xffff ? 4 : len <= 0xffffff ? 5 : 6;
}

/** `depth` properly nested elements of a one-byte constructed tag around `inner`, in one allocation. */
function nestDeep(inner: Buffer, depth: number, tag: number): Buffer {
  const lens: number[] = [inner.length];
  for (let i = 0; i < depth; i++) lens.push(lens[i]! + headerLength(lens[i]!));
  const out = Buffer.alloc(lens[depth]!);
  let o = 0;
  for (let i = depth - 1; i >= 0; i--) {
    out[o++] = tag;
    o += encodeLength(lens[i]!).copy(out, o);
  }
  inner.copy(out, o);
  return out;
}

type TreeMutator = (root: Node[], rng: Rng, donors: readonly Node[][]) => boolean;

function donorNode(rng: Rng, donors: readonly Node[][]): Node | undefined {
  const list = rng.pick(donors);
  const all = allNodes(list);
  return all.length ? rng.pick(all).node : undefined;
}

const TREE_MUTATORS: TreeMutator[] = [
  // mutate a primitive's contents (lengths stay right)
  (root, rng) => {
    const prims = allNodes(root).filter((l) => l.node.value);
    if (!prims.length) return false;
    const n = rng.pick(prims).node;
    const v = n.value!;
    const choice = rng.int(7);
    if (choice === 6) n.value = rng.bytes(v.length);
    else if (choice === 0) n.value = Buffer.alloc(0);
    else if (choice === 1) n.value = rng.bytes(rng.chance(0.9) ? rng.int(40) : 200 + rng.int(2000));
    else if (choice === 2) n.value = Buffer.from([rng.pick(INTERESTING_BYTES), ...rng.bytes(rng.int(3))]);
    else if (choice === 3) n.value = v.subarray(0, rng.int(v.length + 1));
    else if (choice === 4) n.value = Buffer.concat([v, rng.bytes(1 + rng.int(4))]);
    else n.value = BYTE_MUTATORS[rng.int(2)]!(v, rng, []);
    return true;
  },
  // delete an element
  (root, rng) => {
    const all = allNodes(root);
    if (all.length < 2) return false;
    const l = rng.pick(all);
    l.parent.splice(l.index, 1);
    return true;
  },
  // duplicate an element
  (root, rng) => {
    const all = allNodes(root);
    if (!all.length) return false;
    const l = rng.pick(all);
    l.parent.splice(l.index, 0, cloneNode(l.node));
    return true;
  },
  // flood: repeat an element many times (lists beyond their SIZE bound)
  (root, rng) => {
    const all = allNodes(root);
    if (!all.length) return false;
    const l = rng.pick(all);
    const copies = rng.chance(0.8) ? 8 + rng.int(24) : 100 + rng.int(400);
    l.parent.splice(l.index, 0, ...Array.from({ length: copies }, () => cloneNode(l.node)));
    return true;
  },
  // swap neighbours
  (root, rng) => {
    const all = allNodes(root).filter((l) => l.index + 1 < l.parent.length);
    if (!all.length) return false;
    const l = rng.pick(all);
    [l.parent[l.index], l.parent[l.index + 1]] = [l.parent[l.index + 1]!, l.parent[l.index]!];
    return true;
  },
  // replace an element with one from another input
  (root, rng, donors) => {
    const all = allNodes(root);
    const d = donorNode(rng, donors);
    if (!all.length || !d) return false;
    const l = rng.pick(all);
    l.parent[l.index] = cloneNode(d);
    return true;
  },
  // insert an element from another input into a constructed one
  (root, rng, donors) => {
    const cons = allNodes(root).filter((l) => l.node.children);
    const d = donorNode(rng, donors);
    if (!cons.length || !d) return false;
    const kids = rng.pick(cons).node.children!;
    kids.splice(rng.int(kids.length + 1), 0, cloneNode(d));
    return true;
  },
  // retag an element (dictionary tag, flipped constructed bit, other class)
  (root, rng) => {
    const all = allNodes(root);
    if (!all.length) return false;
    const n = rng.pick(all).node;
    const tag = rng.chance(0.5) ? Buffer.from(rng.pick(DICTIONARY_TAGS)) : Buffer.from(n.tag);
    if (tag.equals(n.tag)) tag[0]! ^= rng.pick([0x20, 0x40, 0x80, 0x01]);
    const bytes = n.children ? Buffer.concat(n.children.map(serialize)) : n.value!;
    n.tag = tag;
    if ((tag[0]! & 0x20) !== 0) {
      const kids = parseNodes(bytes, 0, bytes.length, 0);
      if (kids) {
        n.children = kids;
        delete n.value;
        return true;
      }
    }
    n.value = bytes;
    delete n.children;
    return true;
  },
  // wrap an element in an explicit tag, or unwrap a constructed one
  (root, rng) => {
    const all = allNodes(root);
    if (!all.length) return false;
    const l = rng.pick(all);
    if (l.node.children && rng.chance(0.5)) l.parent.splice(l.index, 1, ...l.node.children);
    else l.parent[l.index] = { tag: Buffer.from(rng.pick(DICTIONARY_TAGS.filter((t) => (t[0]! & 0x20) !== 0))), children: [l.node] };
    return true;
  },
  // deep nesting with correct lengths, up to thousands of levels
  (root, rng) => {
    const all = allNodes(root);
    if (!all.length) return false;
    const l = rng.pick(all);
    const depth = 1 + (rng.chance(0.9) ? rng.int(60) : rng.int(5000));
    l.parent[l.index] = { tag: l.node.tag, raw: nestDeep(serialize(l.node), depth, rng.pick([0x30, 0xa0, 0x31])) };
    return true;
  },
];

function mutate(input: Buffer, rng: Rng, byteDonors: readonly Buffer[], treeDonors: readonly Node[][]): Buffer {
  let b = input;
  // Mostly one or two mutations, so that many inputs stay well-formed enough to reach the typed codecs.
  const rounds = rng.chance(0.5) ? 1 : rng.chance(0.6) ? 2 : 3 + rng.int(2);
  for (let r = 0; r < rounds; r++) {
    if (rng.chance(0.75)) {
      const tree = parseNodes(b, 0, b.length, 0);
      if (tree) {
        // Content changes keep the structure: favour them so more inputs reach the codecs' value checks.
        const op = rng.chance(0.4) ? TREE_MUTATORS[0]! : rng.pick(TREE_MUTATORS);
        if (op(tree, rng, treeDonors)) {
          b = serializeAll(tree);
          continue;
        }
      }
    }
    b = rng.pick(BYTE_MUTATORS)(b, rng, byteDonors);
  }
  return b;
}

// ---------------------------------------------------------------------------------------------
// Targets and oracle
// ---------------------------------------------------------------------------------------------

/** Raised by a target when a successful decode does not survive re-encoding: always a finding. */
export class RoundTripError extends Error {}

export interface FuzzTarget {
  readonly name: string;
  /** Inputs mutated for this target. */
  readonly seeds: readonly Buffer[];
  /** Must return normally or throw an Asn1Error / McimError; anything else is a finding. */
  parse(input: Buffer): void;
}

function codecTarget(name: string, codec: Codec<unknown>, seeds: readonly Buffer[]): FuzzTarget {
  return {
    name,
    seeds,
    parse(input) {
      const r = decodeWithReport(codec, input);
      const again = codec.encode(r.value);
      if (r.unknown.length === 0) {
        if (!again.equals(input)) throw new RoundTripError(`re-encoding differs: ${again.toString('hex')}`);
      } else if (!isDeepStrictEqual(decode(codec, again), r.value)) {
        throw new RoundTripError(`re-decoding differs after dropping unknown components: ${again.toString('hex')}`);
      }
    },
  };
}

function derFiles(dir: string): Buffer[] {
  const out: Buffer[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...derFiles(path));
    else if (name.endsWith('.der')) out.push(readFileSync(path));
  }
  return out;
}

/** Encoded samples of each message of a registry (24 each), from its fast-check arbitrary, reproducible from `seed`. */
function messageSeeds(
  messages: Readonly<Record<string, Codec<unknown>>>,
  arbitraries: Readonly<Record<string, fc.Arbitrary<unknown>>>,
  seed: number,
): Map<string, Buffer[]> {
  const seeds = new Map<string, Buffer[]>();
  for (const [name, codec] of Object.entries(messages)) {
    const arbitrary = arbitraries[name];
    if (arbitrary === undefined) throw new Error(`no arbitrary for the message ${name}`);
    seeds.set(name, fc.sample(arbitrary, { numRuns: 24, seed: (seed ^ hashName(name)) | 0 }).map((v) => codec.encode(v)));
  }
  return seeds;
}

/** The fuzz targets: TLV decoders, every RSP and SGP.32 message codec, the SAIP decoder and, when present, the X.509 codec. */
export async function defaultTargets(seed: number): Promise<FuzzTarget[]> {
  const profiles = derFiles(fixturePath('ts48'));
  const pes = profiles.flatMap((p) => decodeTlvList(p).map((t) => Buffer.from(t.raw)));
  const certs = derFiles(fixturePath('sgp26'));
  const rspSeeds = messageSeeds(RSP_MESSAGES, RSP_ARBITRARIES, seed);
  const sgp32Seeds = messageSeeds(SGP32_MESSAGES, SGP32_ARBITRARIES, seed);
  const allRsp = [...rspSeeds.values()].flat();
  const allSgp32 = [...sgp32Seeds.values()].flat();
  const everything = [...profiles, ...pes, ...certs, ...allRsp, ...allSgp32];

  const targets: FuzzTarget[] = [
    {
      name: 'tlv.decodeTlv',
      seeds: everything,
      parse(input) {
        const t = decodeTlv(input);
        if (!t.raw.equals(input)) throw new RoundTripError('raw bytes differ from the input');
      },
    },
    {
      name: 'tlv.decodeTlvList',
      seeds: everything,
      parse(input) {
        const list = decodeTlvList(input);
        if (!Buffer.concat(list.map((t) => t.raw)).equals(input)) throw new RoundTripError('raw bytes differ from the input');
      },
    },
  ];
  for (const [name, codec] of Object.entries(RSP_MESSAGES)) {
    const own = rspSeeds.get(name)!;
    // Mostly its own messages, some other RSP messages and a certificate.
    targets.push(codecTarget(`rsp.${name}`, codec, [...repeat(own, 8), ...allRsp.slice(0, own.length), certs[0]!]));
  }
  for (const [name, codec] of Object.entries(SGP32_MESSAGES)) {
    const own = sgp32Seeds.get(name)!;
    targets.push(codecTarget(`sgp32.${name}`, codec, [...repeat(own, 8), ...allSgp32.slice(0, own.length), ...allRsp.slice(0, 4)]));
  }
  targets.push({
    name: 'saip.decodeProfilePackage',
    // Mostly single PEs (fast), whole profiles too.
    seeds: [...repeat(pes, 4), ...profiles, certs[0]!],
    parse(input) {
      const pkg = decodeProfilePackage(input);
      const again = encodeProfilePackage(pkg.elements);
      if (pkg.unknown.length === 0) {
        if (!again.equals(input)) throw new RoundTripError(`re-encoding differs: ${again.toString('hex')}`);
      } else if (!isDeepStrictEqual(decodeProfilePackage(again).elements, pkg.elements)) {
        throw new RoundTripError('re-decoding differs after dropping unknown components');
      }
      if (pkg.elements.some((e) => e.type === 'header')) extractProfileEssentials(pkg.elements);
      buildProfileFileSystem(pkg.elements);
    },
  });
  const x509 = await loadCertificateCodec();
  if (x509) targets.push(codecTarget('x509.Certificate', x509, [...repeat(certs, 3), allRsp[0]!]));
  const crls = crlSeeds();
  targets.push(codecTarget('x509.CertificateList', certificateList, [...repeat(crls, 3), certs[0]!]));
  targets.push({ name: 'pki.parseCrl', seeds: crls, parse: (input) => void parseCrl(input) });
  const requests = [...rspSeeds.entries()].filter(([name]) => name.endsWith('Request')).flatMap(([, seeds]) => seeds);
  targets.push(...roleTargets(certs, requests));
  return targets;
}

/** CRLs (RFC 5280 5.1) of a fresh test CI: empty, with entries and reasons, with many entries. */
function crlSeeds(): Buffer[] {
  const ci = issueTestCertificate('ci', undefined);
  const at = new Date(Date.UTC(2026, 0, 1));
  const next = new Date(Date.UTC(2026, 1, 1));
  const make = (serials: bigint[], crlNumber: bigint): Buffer =>
    issueCrl({ issuer: ci.certificate, thisUpdate: at, nextUpdate: next, crlNumber, revoked: serials.map((serialNumber) => ({ serialNumber, revocationDate: at, reason: 'keyCompromise' })) }, ci.privateKey);
  return [make([], 1n), make([1n, 0x7fn, 0x80n, 0x1234567890abcdefn], 2n), make(Array.from({ length: 40 }, (_, i) => BigInt(i * 977 + 1)), 300n)];
}

/** The X.509 Certificate codec of src/asn1/definitions/x509.ts, when that module exists. */
async function loadCertificateCodec(): Promise<Codec<unknown> | undefined> {
  const specifier = '../src/asn1/definitions/x509.js';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const c = (mod['Certificate'] ?? mod['certificate']) as Partial<Codec<unknown>> | undefined;
  return c && typeof c.decode === 'function' && typeof c.matches === 'function' ? (c as Codec<unknown>) : undefined;
}

function repeat<T>(items: readonly T[], times: number): T[] {
  return Array.from({ length: times }, () => items).flat();
}

function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------------

export interface Finding {
  readonly parser: string;
  readonly kind: 'exception' | 'timeout';
  readonly error: string;
  readonly inputHex: string;
  readonly milliseconds: number;
}

export interface ParserReport {
  readonly name: string;
  readonly inputs: number;
  /** Inputs the parser accepted (decoded without error): mutations that kept the input well-formed. */
  readonly accepted: number;
  /** Inputs refused, by error code (the codec's typed refusals: TRUNCATED, SIZE_EXCEEDED...). */
  readonly refusals: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly findings: Finding[];
}

export interface FuzzOptions {
  readonly seed: number;
  /** Inputs per parser. */
  readonly iterations: number;
  /** Optional time cap per parser. */
  readonly seconds?: number;
  /** Only parsers whose name contains one of these strings. */
  readonly only?: readonly string[];
  /** Replaces the default targets (tests of the oracle itself). */
  readonly targets?: readonly FuzzTarget[];
  /** A single input longer than this is a finding. */
  readonly slowMs?: number;
  /** Findings kept per parser before it stops. */
  readonly maxFindings?: number;
  /** Progress callback after each parser. */
  readonly onParser?: (report: ParserReport) => void;
}

export interface FuzzReport {
  readonly seed: number;
  readonly parsers: ParserReport[];
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}${e.stack ? `\n${e.stack.split('\n').slice(1, 6).join('\n')}` : ''}`;
  return String(e);
}

/** Runs every target on `iterations` mutated inputs; returns per-parser counts, times and findings. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const targets = options.targets ?? (await defaultTargets(options.seed));
  const selected = options.only?.length ? targets.filter((t) => options.only!.some((o) => t.name.includes(o))) : targets;
  const slowMs = options.slowMs ?? 1000;
  const maxFindings = options.maxFindings ?? 10;
  const byteDonors = targets.flatMap((t) => t.seeds.slice(0, 8));
  const treeDonors = byteDonors.map((b) => parseNodes(b, 0, b.length, 0)).filter((t): t is Node[] => t !== undefined && t.length > 0);
  const parsers: ParserReport[] = [];
  for (const target of selected) {
    const rng = new Rng((options.seed ^ hashName(target.name)) >>> 0);
    const findings: Finding[] = [];
    const seen = new Set<string>();
    const start = performance.now();
    const deadline = options.seconds !== undefined ? start + options.seconds * 1000 : Infinity;
    let inputs = 0;
    let accepted = 0;
    const refusals: Record<string, number> = {};
    while (inputs < options.iterations && findings.length < maxFindings) {
      if ((inputs & 0xff) === 0 && performance.now() > deadline) break;
      const input = mutate(rng.pick(target.seeds), rng, byteDonors, treeDonors);
      inputs++;
      const t0 = performance.now();
      let failure: unknown;
      try {
        target.parse(input);
        accepted++;
      } catch (e) {
        if (e instanceof McimError) refusals[e.code] = (refusals[e.code] ?? 0) + 1;
        else failure = e;
      }
      const ms = performance.now() - t0;
      if (failure !== undefined || ms > slowMs) {
        const error = failure !== undefined ? describeError(failure) : `took ${ms.toFixed(0)} ms`;
        const key = error.split('\n').slice(0, 2).join('|');
        if (!seen.has(key)) {
          seen.add(key);
          findings.push({ parser: target.name, kind: failure !== undefined ? 'exception' : 'timeout', error, inputHex: input.toString('hex'), milliseconds: ms });
        }
      }
    }
    const report: ParserReport = { name: target.name, inputs, accepted, refusals, seconds: (performance.now() - start) / 1000, findings };
    options.onParser?.(report);
    parsers.push(report);
  }
  return { seed: options.seed, parsers };
}

export function formatParserLine(r: ParserReport): string {
  const rate = r.seconds > 0 ? Math.round(r.inputs / r.seconds) : 0;
  return `${r.name.padEnd(40)} ${String(r.inputs).padStart(8)} inputs ${String(r.accepted).padStart(8)} accepted ${r.seconds.toFixed(1).padStart(7)} s ${String(rate).padStart(7)} /s ${String(r.findings.length).padStart(3)} findings`;
}
