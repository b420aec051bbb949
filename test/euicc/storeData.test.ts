// STORE DATA (GPC 2.3 11.11) carrying ES10 commands (SGP.22 5.7): block chaining, sizes, errors, and a BPP streamed per SGP.22 2.5.5.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeTlv, peekTlvHeader } from '../../src/asn1/tlv.js';
import { CardError } from '../../src/euicc/apdu.js';
import { Card, ECASD_AID, ISD_R_AID, type CardOptions } from '../../src/euicc/card.js';
import type { CommandContext, CommandHandler, StreamPosition, StreamStep, StreamingHandler } from '../../src/euicc/storeData.js';
import { apdu, cla, es10, h, send, storeDataApdus, swHex } from './cardHelpers.js';

const ISD_R = h(ISD_R_AID);

function echoCard(options: CardOptions = {}, streaming?: StreamingHandler): { card: Card; received: Buffer[] } {
  const received: Buffer[] = [];
  const echo: CommandHandler = (command) => {
    received.push(Buffer.from(command));
    return Buffer.from(command);
  };
  const card = new Card(options);
  card.registerApplication(ISD_R, {
    handlers: new Map([[0xbf20, echo], [0x80, echo]]),
    ...(streaming ? { streamingHandlers: new Map([[0xbf36, streaming]]) } : {}),
  });
  card.registerApplication(h(ECASD_AID), { handlers: new Map([[0xbf20, () => h('BF2000')]]) });
  send(card, apdu(0, 0xa4, 0x04, 0x0c, ISD_R));
  return { card, received };
}

function storeData(card: Card, p1: number, p2: number, data: Buffer, channel = 0): string {
  return swHex(send(card, apdu(cla(channel, true), 0xe2, p1, p2, data)).sw);
}

/** A well-formed command of `length` bytes: BF20 { 04 ... }. */
function commandOfLength(length: number): Buffer {
  for (let v = length - 4; v >= 0; v--) {
    const c = encodeTlv(0xbf20, encodeTlv(0x04, Buffer.alloc(v, 0x5a)));
    if (c.length === length) return c;
  }
  throw new Error(`no BF20 command of ${length} bytes`);
}

const PING = encodeTlv(0xbf20, encodeTlv(0x80, h('0102')));

describe('STORE DATA blocks (GPC 2.3 11.11)', () => {
  it('delivers exactly the command bytes for any TLV and any split into 1..255-byte blocks', () => {
    const child = fc.record({ tag: fc.integer({ min: 0x80, max: 0x9e }), value: fc.uint8Array({ maxLength: 700 }) });
    fc.assert(
      fc.property(fc.array(child, { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 30 }), (children, sizes) => {
        const { card, received } = echoCard();
        const command = encodeTlv(0xbf20, children.map((c) => encodeTlv(c.tag, c.value)));
        const r = es10(card, 0, command, sizes);
        assert.deepEqual(r, { data: command, sw: 0x9000 });
        assert.deepEqual(received, [command]);
      }),
      { numRuns: 200 },
    );
  });

  it('wraps the block number from FF to 00', () => {
    const { card, received } = echoCard();
    const command = commandOfLength(700);
    const apdus = storeDataApdus(0, command, [1]);
    assert.deepEqual([apdus[255]![3], apdus[256]![3], apdus[699]![2]], [0xff, 0x00, 0x91]);
    assert.deepEqual(es10(card, 0, command, [1]), { data: command, sw: 0x9000 });
    assert.deepEqual(received, [command]);
  });

  it('refuses every P1 other than 11 and 91 with 6A86', () => {
    const { card, received } = echoCard();
    for (let p1 = 0; p1 < 256; p1++) {
      if (p1 === 0x11 || p1 === 0x91) continue;
      assert.equal(storeData(card, p1, 0, PING), '6A86', `P1 ${p1.toString(16)}`);
    }
    assert.equal(received.length, 0);
  });

  it('refuses a STORE DATA without data with 6700', () => {
    const { card } = echoCard();
    assert.equal(swHex(send(card, '80E29100').sw), '6700');
    assert.equal(swHex(send(card, '80E2910000').sw), '6700');
  });

  it('refuses a STORE DATA with no application selected with 6986', () => {
    const card = new Card();
    card.registerApplication(ISD_R, { handlers: new Map([[0xbf20, () => Buffer.alloc(0)]]) });
    assert.equal(storeData(card, 0x91, 0, PING), '6986');
  });

  it('refuses block numbers out of sequence with 6A86 and discards the command', () => {
    const { card, received } = echoCard();
    const [b0, b1, b2] = [PING.subarray(0, 2), PING.subarray(2, 4), PING.subarray(4)];
    assert.equal(storeData(card, 0x91, 0x01, PING), '6A86', 'missing first block');
    assert.equal(storeData(card, 0x11, 0x00, b0), '9000');
    assert.equal(storeData(card, 0x11, 0x02, b1), '6A86', 'skipped block');
    assert.equal(storeData(card, 0x91, 0x01, b1), '6A86', 'the command was discarded');
    assert.equal(storeData(card, 0x11, 0x00, b0), '9000');
    assert.equal(storeData(card, 0x11, 0x00, b0), '6A86', 'repeated block');
    assert.equal(storeData(card, 0x11, 0x00, b0), '9000');
    assert.equal(storeData(card, 0x11, 0x01, b1), '9000');
    assert.equal(storeData(card, 0x91, 0x02, b2), '6107');
    assert.equal(storeData(card, 0x91, 0x03, b2), '6A86', 'a block after the last');
    assert.deepEqual(received, [PING]);
  });

  it('keeps reassembly per channel', () => {
    const { card, received } = echoCard();
    const ch = send(card, '0070000001').data[0]!;
    send(card, apdu(cla(ch), 0xa4, 0x04, 0x0c, ISD_R));
    const other = encodeTlv(0x80, h('AABBCC'));
    assert.equal(storeData(card, 0x11, 0, PING.subarray(0, 3)), '9000');
    assert.equal(storeData(card, 0x11, 0, other.subarray(0, 1), ch), '9000');
    assert.equal(storeData(card, 0x91, 1, PING.subarray(3)), '6107');
    assert.equal(storeData(card, 0x91, 1, other.subarray(1), ch), '6105');
    assert.deepEqual(received, [PING, other]);
  });

  it('accepts a command of exactly maxCommandLength and refuses one byte more with 6A84', () => {
    for (const max of [1000, 64 * 1024]) {
      const { card, received } = echoCard(max === 1000 ? { maxCommandLength: 1000 } : {});
      const exact = commandOfLength(max);
      assert.deepEqual(es10(card, 0, exact), { data: exact, sw: 0x9000 });
      const over = commandOfLength(max + 1);
      const apdus = storeDataApdus(0, over);
      for (const a of apdus.slice(0, -1)) assert.equal(swHex(send(card, a).sw), '9000');
      assert.equal(swHex(send(card, apdus[apdus.length - 1]!).sw), '6A84');
      assert.equal(received.length, 1);
    }
  });

  it('refuses an oversized command at the block that crosses the limit and drops what it had', () => {
    const { card, received } = echoCard({ maxCommandLength: 300 });
    const big = commandOfLength(600);
    const apdus = storeDataApdus(0, big, [200]);
    assert.equal(swHex(send(card, apdus[0]!).sw), '9000');
    assert.equal(swHex(send(card, apdus[1]!).sw), '6A84');
    assert.equal(swHex(send(card, apdus[2]!).sw), '6A86');
    assert.deepEqual(es10(card, 0, PING).sw, 0x9000);
    assert.deepEqual(received, [PING]);
  });

  it('answers 6A80 to a command that is not exactly one well-formed TLV', () => {
    const { card, received } = echoCard();
    const malformed = [
      'BF', // tag cut short
      'BF20', // no length
      'BF2005800100', // value shorter than declared
      'BF2000' + '00', // trailing byte
      'BF2080800000', // indefinite length
      'BF20810380 0100', // non-minimal length
      'BF20850000000001' + '00', // five length bytes
      'BF2003800500', // child overruns its parent
      'BF20038001', // truncated child header
      'BF20 03 9F0100', // two-byte tag for a number below 31
      'BF20 02 1F00', // tag number with a leading zero septet
    ];
    for (const m of malformed) assert.equal(swHex(es10(card, 0, h(m)).sw), '6A80', m);
    assert.equal(received.length, 0);
  });

  it('answers 6A88 to a well-formed command whose tag has no handler on the selected application', () => {
    const { card, received } = echoCard();
    for (const m of ['BF7F00', 'BF2100', '810100', 'BF3600']) assert.equal(swHex(es10(card, 0, h(m)).sw), '6A88', m);
    send(card, apdu(0, 0xa4, 0x04, 0x0c, h(ECASD_AID)));
    assert.equal(swHex(es10(card, 0, h('800100')).sw), '6A88', 'ECASD has no 80 handler');
    assert.deepEqual(es10(card, 0, PING), { data: h('BF2000'), sw: 0x9000 });
    assert.equal(received.length, 0);
  });
});

/** The LPA's segmentation of a BPP (SGP.22 2.5.5): one STORE DATA command per segment. */
interface SegmentedBpp {
  readonly bpp: Buffer;
  /** The STORE DATA commands, in order. */
  readonly segments: Buffer[];
  /** What the card processes one by one: BF36 header, BF23, A0, A1 header, each 88, A2, A3 header, each 86. */
  readonly pieces: Buffer[];
}

function segmentBpp(parts: { bf23: Buffer; a0: Buffer; a1: Buffer[]; a2?: Buffer; a3: Buffer[] }): SegmentedBpp {
  const a0 = encodeTlv(0xa0, parts.a0);
  const a1 = encodeTlv(0xa1, parts.a1);
  const a2 = parts.a2 ? encodeTlv(0xa2, parts.a2) : undefined;
  const a3 = encodeTlv(0xa3, parts.a3);
  const bpp = encodeTlv(0xbf36, [parts.bf23, a0, a1, ...(a2 ? [a2] : []), a3]);
  const header = (tlv: Buffer) => tlv.subarray(0, peekTlvHeader(tlv)!.headerLength);
  const segments = [
    Buffer.concat([header(bpp), parts.bf23]),
    a0,
    header(a1),
    ...parts.a1,
    ...(a2 ? [a2] : []),
    header(a3),
    ...parts.a3,
  ];
  const pieces = [header(bpp), parts.bf23, a0, header(a1), ...parts.a1, ...(a2 ? [a2] : []), header(a3), ...parts.a3];
  assert.deepEqual(Buffer.concat(segments), bpp);
  return { bpp, segments, pieces };
}

/**
 * A card-side streaming handler in the manner LoadBoundProfilePackage will use: it buffers what
 * arrives and takes out BF36's children as they complete (A1 and A3 headers as soon as they are
 * whole, since their 88/86 children are processed one by one).
 */
class BppRecorder implements StreamingHandler {
  readonly pieces: Buffer[] = [];
  readonly calls: { chunk: Buffer; position: StreamPosition; ctx: CommandContext }[] = [];
  aborts = 0;
  #buffer = Buffer.alloc(0);
  #started = false;
  constructor(private readonly finalResponse: Buffer, private readonly failAt?: { piece: number; kind: 'result' | 'throw' }) {}

  onData(chunk: Buffer, position: StreamPosition, ctx: CommandContext): StreamStep {
    this.calls.push({ chunk: Buffer.from(chunk), position, ctx });
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const header = peekTlvHeader(this.#buffer);
      if (!header) break;
      const headerOnly = !this.#started || header.tag === 0xa1 || header.tag === 0xa3;
      const take = headerOnly ? header.headerLength : header.totalLength;
      if (this.#buffer.length < take) break;
      this.pieces.push(Buffer.from(this.#buffer.subarray(0, take)));
      this.#buffer = this.#buffer.subarray(take);
      this.#started = true;
      if (this.failAt?.piece === this.pieces.length) {
        if (this.failAt.kind === 'throw') throw new CardError('INCORRECT_DATA', 'bad segment');
        return { response: h('BF37 03 800101'), done: true };
      }
    }
    const last = position.offset + chunk.length === position.totalLength;
    return { response: last ? this.finalResponse : Buffer.alloc(0), done: false };
  }

  onAbort(): void {
    this.aborts++;
  }
}

function sampleBpp(profileSegments: number, segmentSize: number): SegmentedBpp {
  const filler = (tag: number, n: number, seed: number) => encodeTlv(tag, Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)));
  return segmentBpp({
    bf23: encodeTlv(0xbf23, [encodeTlv(0x82, h('01')), filler(0x5f49, 65, 1), filler(0x5f37, 64, 2)]),
    a0: filler(0x87, 100, 3),
    a1: [filler(0x88, 300, 4), filler(0x88, 40, 5)],
    a2: filler(0x87, 60, 6),
    a3: Array.from({ length: profileSegments }, (_, i) => filler(0x86, segmentSize, 7 + i)),
  });
}

describe('streaming a BoundProfilePackage over many STORE DATA commands (SGP.22 5.7.6)', () => {
  const PIR = encodeTlv(0xbf37, encodeTlv(0xbf27, Buffer.alloc(300, 0x11)));

  it('hands every command of a large BPP to the streaming handler in order, answering 9000 until the result', () => {
    const recorder = new BppRecorder(PIR);
    const { card, received } = echoCard({}, recorder);
    const { bpp, segments, pieces } = sampleBpp(250, 1017);
    assert.ok(bpp.length > 250_000 && bpp.length > 64 * 1024, 'bigger than one command may be');
    segments.forEach((segment, i) => {
      const r = es10(card, 0, segment, [120 + (i % 136)]);
      if (i < segments.length - 1) assert.deepEqual(r, { data: Buffer.alloc(0), sw: 0x9000 }, `segment ${i}`);
      else assert.deepEqual(r, { data: PIR, sw: 0x9000 });
    });
    assert.deepEqual(recorder.calls.map((c) => c.chunk), segments);
    assert.deepEqual(recorder.calls.map((c) => c.position.totalLength), segments.map(() => bpp.length));
    let offset = 0;
    for (const c of recorder.calls) {
      assert.equal(c.position.offset, offset);
      offset += c.chunk.length;
    }
    assert.deepEqual(recorder.pieces, pieces);
    assert.equal(recorder.aborts, 0);
    assert.deepEqual(es10(card, 0, PING), { data: PING, sw: 0x9000 }, 'the stream is closed');
    assert.deepEqual(received, [PING]);
  });

  it('takes a BPP split in any way into commands and blocks', () => {
    const { bpp, pieces } = sampleBpp(6, 200);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 10 }), fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 10 }), (cuts, sizes) => {
        const recorder = new BppRecorder(PIR);
        const { card } = echoCard({}, recorder);
        const commands: Buffer[] = [];
        const headerLength = peekTlvHeader(bpp)!.headerLength;
        for (let offset = 0, i = 0; offset < bpp.length; i++) {
          // The command that opens the stream holds at least BF36's tag and length.
          const n = Math.min(Math.max(cuts[i % cuts.length]!, i === 0 ? headerLength : 1), bpp.length - offset);
          commands.push(bpp.subarray(offset, offset + n));
          offset += n;
        }
        const replies = commands.map((c) => es10(card, 0, c, sizes));
        assert.deepEqual(replies[replies.length - 1], { data: PIR, sw: 0x9000 });
        for (const r of replies.slice(0, -1)) assert.deepEqual(r, { data: Buffer.alloc(0), sw: 0x9000 });
        assert.deepEqual(Buffer.concat(recorder.calls.map((c) => c.chunk)), bpp);
        assert.deepEqual(recorder.pieces, pieces);
      }),
      { numRuns: 60 },
    );
  });

  it('ends the stream when the handler returns its result early; the next command stands alone', () => {
    const recorder = new BppRecorder(PIR, { piece: 3, kind: 'result' });
    const { card } = echoCard({}, recorder);
    const { segments } = sampleBpp(3, 100);
    assert.deepEqual(es10(card, 0, segments[0]!), { data: Buffer.alloc(0), sw: 0x9000 });
    assert.deepEqual(es10(card, 0, segments[1]!), { data: h('BF3703800101'), sw: 0x9000 }, 'A0 is the third piece');
    assert.equal(swHex(es10(card, 0, segments[2]!).sw), '6A88', 'the A1 header is taken as a command of its own');
    assert.equal(swHex(es10(card, 0, segments[3]!).sw), '6A88', 'an 88 likewise');
    assert.equal(recorder.aborts, 0);
    assert.equal(recorder.calls.length, 2);
  });

  it('ends the stream with the status word when the handler throws, and reports the abort', () => {
    const recorder = new BppRecorder(PIR, { piece: 2, kind: 'throw' });
    const { card } = echoCard({}, recorder);
    const { segments } = sampleBpp(3, 100);
    assert.equal(swHex(es10(card, 0, segments[0]!).sw), '6A80');
    assert.equal(recorder.aborts, 1);
    assert.equal(swHex(es10(card, 0, segments[1]!).sw), '6A88', 'A0 stands alone');
    assert.equal(recorder.calls.length, 1);
  });

  it('refuses data beyond the declared element with 6A80, at the start or later', () => {
    const recorder = new BppRecorder(PIR);
    const { card } = echoCard({}, recorder);
    const { bpp, segments } = sampleBpp(2, 50);
    assert.equal(swHex(es10(card, 0, Buffer.concat([bpp, h('00')])).sw), '6A80');
    assert.deepEqual([recorder.calls.length, recorder.aborts], [0, 0], 'never opened');
    for (const s of segments.slice(0, -1)) assert.equal(es10(card, 0, s).sw, 0x9000);
    assert.equal(swHex(es10(card, 0, Buffer.concat([segments[segments.length - 1]!, h('8600')])).sw), '6A80');
    assert.equal(recorder.aborts, 1);
  });

  it('aborts the stream on SELECT, MANAGE CHANNEL close, reset and a STORE DATA error', () => {
    const { segments } = sampleBpp(3, 100);
    const interruptions: [string, (card: Card, ch: number) => void][] = [
      ['SELECT', (card, ch) => send(card, apdu(cla(ch), 0xa4, 0x04, 0x0c, ISD_R))],
      ['close', (card, ch) => send(card, apdu(0, 0x70, 0x80, ch))],
      ['reset', (card) => card.reset()],
      ['block number', (card, ch) => assert.equal(storeData(card, 0x91, 0x05, h('00'), ch), '6A86')],
      ['P1', (card, ch) => assert.equal(storeData(card, 0x01, 0x00, h('00'), ch), '6A86')],
      ['oversize', (card, ch) => {
        for (let i = 0; i < 300; i++) if (storeData(card, 0x11, i & 0xff, Buffer.alloc(255), ch) !== '9000') return;
        assert.fail('no 6A84');
      }],
    ];
    for (const [name, interrupt] of interruptions) {
      const recorder = new BppRecorder(PIR);
      const { card } = echoCard({}, recorder);
      const ch = send(card, '0070000001').data[0]!;
      send(card, apdu(cla(ch), 0xa4, 0x04, 0x0c, ISD_R));
      for (const s of segments.slice(0, 3)) assert.equal(es10(card, ch, s).sw, 0x9000);
      assert.equal(es10(card, 0, PING).sw, 0x9000, `${name}: other channels are unaffected`);
      interrupt(card, ch);
      assert.equal(recorder.aborts, 1, name);
      assert.equal(recorder.calls[0]!.ctx.channel, ch);
      if (name !== 'reset' && name !== 'close') {
        send(card, apdu(cla(ch), 0xa4, 0x04, 0x0c, ISD_R));
        assert.equal(swHex(es10(card, ch, segments[3]!).sw), '6A88', `${name}: the stream is gone`);
      }
      card.reset();
      assert.equal(recorder.aborts, 1, `${name}: reported once`);
    }
  });

  it('resets even when a handler fails while aborting', () => {
    const internalErrors: unknown[] = [];
    const failing: StreamingHandler = {
      onData: () => ({ response: Buffer.alloc(0), done: false }),
      onAbort: () => {
        throw new RangeError('cleanup bug');
      },
    };
    const { card } = echoCard({ onInternalError: (e) => internalErrors.push(e) }, failing);
    const { segments } = sampleBpp(2, 50);
    assert.equal(es10(card, 0, segments[0]!).sw, 0x9000);
    assert.equal(card.reset()[0], 0x3b);
    assert.equal(internalErrors.length, 1);
    assert.ok(internalErrors[0] instanceof RangeError);
    send(card, apdu(0, 0xa4, 0x04, 0x0c, ISD_R));
    assert.equal(swHex(es10(card, 0, segments[1]!).sw), '6A88', 'the stream is gone');
  });

  it('keeps independent streams on two channels', () => {
    const byChannel = new Map<number, Buffer[]>();
    const handler: StreamingHandler = {
      onData: (chunk, position, ctx) => {
        byChannel.set(ctx.channel, [...(byChannel.get(ctx.channel) ?? []), chunk]);
        const last = position.offset + chunk.length === position.totalLength;
        return { response: last ? encodeTlv(0xbf37, Buffer.from([ctx.channel])) : Buffer.alloc(0), done: false };
      },
      onAbort: () => assert.fail('no abort'),
    };
    const { card } = echoCard({}, handler);
    const ch = send(card, '0070000001').data[0]!;
    send(card, apdu(cla(ch), 0xa4, 0x04, 0x0c, ISD_R));
    const a = sampleBpp(4, 90).segments;
    const b = sampleBpp(2, 300).segments;
    const replies = new Map<number, string[]>([[0, []], [ch, []]]);
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      for (const [channel, segments, size] of [[0, a, 77], [ch, b, 255]] as const) {
        if (!segments[i]) continue;
        const r = es10(card, channel, segments[i]!, [size]);
        replies.get(channel)!.push(`${r.data.toString('hex')}/${swHex(r.sw)}`);
      }
    }
    assert.deepEqual(replies.get(0), a.map((_, i) => (i === a.length - 1 ? 'bf370100/9000' : '/9000')));
    assert.deepEqual(replies.get(ch), b.map((_, i) => (i === b.length - 1 ? `bf37010${ch}/9000` : '/9000')));
    assert.deepEqual(byChannel.get(0), a);
    assert.deepEqual(byChannel.get(ch), b);
  });

  it('lets the handler refuse the element from its declared length at the first command', () => {
    let aborts = 0;
    const handler: StreamingHandler = {
      onData: (_chunk, position) => {
        if (position.totalLength > 1000) throw new CardError('NOT_ENOUGH_MEMORY', 'no room for the profile');
        return { response: Buffer.alloc(0), done: false };
      },
      onAbort: () => aborts++,
    };
    const { card } = echoCard({}, handler);
    const { segments } = sampleBpp(5, 1000);
    assert.equal(swHex(es10(card, 0, segments[0]!).sw), '6A84');
    assert.equal(aborts, 1);
    assert.equal(swHex(es10(card, 0, segments[1]!).sw), '6A88', 'no stream is open');
  });

  it('needs the element tag and length in the command that opens the stream', () => {
    const recorder = new BppRecorder(PIR);
    const { card } = echoCard({}, recorder);
    const { bpp } = sampleBpp(1, 10);
    assert.equal(swHex(es10(card, 0, bpp.subarray(0, 3)).sw), '6A80');
    assert.equal(recorder.calls.length, 0);
  });
});
