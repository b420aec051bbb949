// ISO/IEC 7816-4 APDU layer of the software eUICC: framing, class bytes, MANAGE CHANNEL, SELECT, GET RESPONSE, status words, reset.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Asn1Error } from '../../src/asn1/errors.js';
import { encodeTlv } from '../../src/asn1/tlv.js';
import { CardError, decodeClass, parseCommandApdu } from '../../src/euicc/apdu.js';
import { Card, ECASD_AID, ISD_R_AID, type CardOptions } from '../../src/euicc/card.js';
import type { CardApplication, CommandContext, CommandHandler } from '../../src/euicc/storeData.js';
import { McimError } from '../../src/errors.js';
import { apdu, cla, collect, es10, h, send, swHex } from './cardHelpers.js';

const ISD_R = h(ISD_R_AID);
const ECASD = h(ECASD_AID);

/** BF22 { 80 len16 }: the handler answers `len` bytes of a counting pattern. */
function lengthRequest(length: number): Buffer {
  const n = Buffer.alloc(2);
  n.writeUInt16BE(length);
  return encodeTlv(0xbf22, encodeTlv(0x80, n));
}

function pattern(length: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff));
}

interface Fixture {
  card: Card;
  calls: { app: string; ctx: CommandContext; command: Buffer }[];
  internalErrors: unknown[];
}

function fixture(options: CardOptions = {}): Fixture {
  const calls: Fixture['calls'] = [];
  const internalErrors: unknown[] = [];
  const card = new Card({ ...options, onInternalError: (e) => internalErrors.push(e) });
  const app = (name: string): CardApplication => ({
    handlers: new Map<number, CommandHandler>([
      [0xbf20, (command: Buffer, ctx: CommandContext) => {
        calls.push({ app: name, ctx, command });
        return Buffer.from(command);
      }],
      [0xbf22, (command: Buffer) => pattern(command.readUInt16BE(command.length - 2))],
      [0xbf2e, () => {
        throw new CardError('SECURITY_STATUS_NOT_SATISFIED', 'refused');
      }],
      [0xbf2f, () => {
        throw new CardError('CONDITIONS_OF_USE_NOT_SATISFIED', 'not now');
      }],
      [0xbf30, () => {
        throw new Asn1Error('UNEXPECTED_TAG', 'schema says no');
      }],
      [0xbf31, () => {
        throw new TypeError('handler bug');
      }],
    ]),
  });
  card.registerApplication(ISD_R, app('ISD-R'));
  card.registerApplication(ECASD, app('ECASD'));
  return { card, calls, internalErrors };
}

function select(card: Card, channel: number, aid: Buffer): void {
  assert.equal(swHex(send(card, apdu(cla(channel), 0xa4, 0x04, 0x0c, aid)).sw), '9000');
}

function openChannel(card: Card, from = 0): number {
  const r = send(card, apdu(cla(from), 0x70, 0x00, 0x00, undefined, 0x01));
  assert.equal(swHex(r.sw), '9000');
  assert.equal(r.data.length, 1);
  return r.data[0]!;
}

const PING = encodeTlv(0xbf20, encodeTlv(0x80, h('0102')));

describe('command APDU framing (ISO/IEC 7816-4 5.1)', () => {
  it('parses the four short cases, Le 00 meaning 256, copying the data', () => {
    assert.deepEqual(parseCommandApdu(h('00A40400')), { cla: 0, ins: 0xa4, p1: 4, p2: 0, data: Buffer.alloc(0), ne: undefined });
    assert.equal(parseCommandApdu(h('00C0000000')).ne, 256);
    assert.equal(parseCommandApdu(h('00C0000011')).ne, 0x11);
    const input = h('80E2910003BF2000');
    const case3 = parseCommandApdu(input);
    assert.deepEqual([case3.data, case3.ne], [h('BF2000'), undefined]);
    input[5] = 0;
    assert.deepEqual(case3.data, h('BF2000'));
    const case4 = parseCommandApdu(h('80E2910003BF200000'));
    assert.deepEqual([case4.data, case4.ne], [h('BF2000'), 256]);
  });

  it('answers 6700 to short, extended-length, Lc-inconsistent and oversized APDUs', () => {
    const { card } = fixture();
    const bad = [
      '', '00', '00A404',
      '00C000000000FF', // case 2E
      '80E29100000003BF2000', // case 3E
      '80E29100000003BF20000000', // case 4E
      '80E291000000', // Lc 00 then a byte: extended form
      '80E2910004BF2000', // Lc 4, 3 bytes
      '80E2910002BF200000', // Lc 2, 4 bytes
      '80E2910002BF20000000', // Lc 2, data, Le, one more byte
    ];
    for (const a of bad) assert.equal(swHex(send(card, a).sw), '6700', a);
    const tooLong = Buffer.concat([h('80E29100FF'), Buffer.alloc(255), h('0000')]);
    assert.equal(swHex(send(card, tooLong).sw), '6700');
    assert.throws(() => parseCommandApdu(tooLong), (e: unknown) => e instanceof CardError && e.sw === 0x6700);
  });

  it('decodes exactly the supported class bytes with their channel numbers', () => {
    for (let b = 0; b < 256; b++) {
      const c = decodeClass(b);
      if (b <= 0x03) assert.deepEqual(c, { family: 'interindustry', channel: b });
      else if (b >= 0x40 && b <= 0x4f) assert.deepEqual(c, { family: 'interindustry', channel: b - 0x40 + 4 });
      else if (b >= 0x80 && b <= 0x83) assert.deepEqual(c, { family: 'proprietary', channel: b - 0x80 });
      else if (b >= 0xc0 && b <= 0xcf) assert.deepEqual(c, { family: 'proprietary', channel: b - 0xc0 + 4 });
      else assert.equal(c, undefined, `CLA ${b.toString(16)}`);
    }
  });

  it('answers SELECT under every CLA by class support, channel state and class family', () => {
    const { card } = fixture();
    for (let b = 0; b < 256; b++) {
      const r = send(card, apdu(b, 0xa4, 0x04, 0x00, ISD_R));
      const c = decodeClass(b);
      const expected = !c ? '6E00' : c.channel !== 0 ? '6881' : c.family === 'proprietary' ? '6D00' : '6114';
      assert.equal(swHex(r.sw), expected, `CLA ${b.toString(16)}`);
    }
  });

  it('answers 6D00 to an INS outside its class family or unknown', () => {
    const { card } = fixture();
    select(card, 0, ISD_R);
    for (const a of ['00E2910003BF2000', '8070000001', '00B0000000', '00CA9F7F00', '806C000000']) {
      assert.equal(swHex(send(card, a).sw), '6D00', a);
    }
    assert.equal(swHex(send(card, apdu(0x80, 0xa4, 0x04, 0x00, ISD_R)).sw), '6D00');
  });
});

describe('MANAGE CHANNEL (ISO/IEC 7816-4 7.1.2)', () => {
  it('opens the lowest free channels up to the limit, then answers 6A81', () => {
    const { card } = fixture();
    assert.deepEqual([openChannel(card), openChannel(card), openChannel(card)], [1, 2, 3]);
    assert.equal(swHex(send(card, '0070000001').sw), '6A81');
    assert.equal(swHex(send(card, '0070800201').sw), '6700');
    assert.equal(swHex(send(card, '00708002').sw), '9000');
    assert.equal(openChannel(card, 3), 2);
  });

  it('closes a channel; commands on it then get 6881, under every class form', () => {
    const { card } = fixture();
    const ch = openChannel(card);
    select(card, ch, ISD_R);
    assert.equal(swHex(es10(card, ch, PING).sw), '9000');
    assert.equal(swHex(send(card, apdu(0, 0x70, 0x80, ch)).sw), '9000');
    assert.equal(swHex(send(card, apdu(cla(ch), 0xa4, 0x04, 0x00, ISD_R)).sw), '6881');
    assert.equal(swHex(send(card, apdu(cla(ch, true), 0xe2, 0x91, 0x00, PING)).sw), '6881');
    assert.equal(swHex(send(card, apdu(cla(ch), 0xc0, 0, 0, undefined, 0)).sw), '6881');
    assert.equal(swHex(send(card, apdu(0, 0x70, 0x80, ch)).sw), '6881', 'closing a closed channel');
  });

  it('refuses wrong P1/P2 with 6A86 and wrong cases with 6700', () => {
    const { card } = fixture();
    assert.equal(swHex(send(card, '0070000101').sw), '6A86', 'open a given channel');
    assert.equal(swHex(send(card, '0070400001').sw), '6A86', 'P1 40');
    assert.equal(swHex(send(card, '00708000').sw), '6A86', 'close the basic channel');
    assert.equal(swHex(send(card, '00708014').sw), '6A86', 'channel 20');
    assert.equal(swHex(send(card, '00700000').sw), '6700', 'open without Le');
    assert.equal(swHex(send(card, '007000000101').sw), '6700', 'open with data');
    const ch = openChannel(card);
    assert.equal(swHex(send(card, apdu(0, 0x70, 0x80, ch, undefined, 1)).sw), '6700', 'close with Le 01');
    assert.equal(swHex(send(card, apdu(0, 0x70, 0x80, ch, h('01'))).sw), '6700', 'close with data');
    assert.equal(swHex(send(card, apdu(0, 0x70, 0x80, 0x05)).sw), '6881', 'close a channel beyond the supported ones');
    assert.equal(swHex(send(card, apdu(cla(ch), 0x70, 0x80, ch)).sw), '9000', 'a channel closes itself');
  });

  it("closes on 00 70 80 0n 00, case 1 as sent over T=0 with P3 = 00 (lpac's PC/SC driver, ISO/IEC 7816-3 12.2.2)", () => {
    const { card } = fixture();
    // The bytes lpac's pcsc driver exchanges for one session: open (Le 01), SELECT ISD-R, an ES10 command, close with P3 00.
    assert.deepEqual(send(card, h('0070000001')), { data: h('01'), sw: 0x9000 });
    assert.equal(swHex(send(card, h(`01A40400 10 ${ISD_R_AID} 00`)).sw), '9000');
    assert.equal(swHex(es10(card, 1, PING).sw), '9000');
    assert.deepEqual(send(card, h('0070800100')), { data: h(''), sw: 0x9000 });
    assert.equal(swHex(es10(card, 1, PING).sw), '6881', 'the channel is closed');
    assert.equal(swHex(send(card, h('0070800100')).sw), '6881', 'closing it again');
    assert.equal(openChannel(card), 1, 'the channel is free again');
  });

  it('addresses channels 4 to 19 with further interindustry and proprietary classes', () => {
    const { card } = fixture({ logicalChannels: 20 });
    for (let i = 1; i < 20; i++) assert.equal(openChannel(card), i);
    assert.equal(swHex(send(card, '0070000001').sw), '6A81');
    select(card, 19, ECASD);
    assert.equal(cla(19, true), 0xcf);
    const r = es10(card, 19, PING);
    assert.deepEqual([swHex(r.sw), r.data], ['9000', PING]);
    assert.equal(swHex(send(card, apdu(0x4f, 0x70, 0x80, 19)).sw), '9000');
    assert.equal(swHex(send(card, apdu(0x4f, 0xa4, 0x04, 0x0c, ECASD)).sw), '6881');
  });

  it('offers no logical channel on a card with only the basic channel', () => {
    const { card } = fixture({ logicalChannels: 1 });
    assert.equal(swHex(send(card, '0070000001').sw), '6A81');
  });

  it('inherits the selection when opened from a logical channel, not from the basic channel', () => {
    const { card, calls } = fixture();
    select(card, 0, ISD_R);
    const one = openChannel(card);
    assert.equal(swHex(send(card, apdu(cla(one, true), 0xe2, 0x91, 0x00, PING)).sw), '6986', 'nothing selected on a channel opened from the basic one');
    select(card, one, ECASD);
    const fromOne = openChannel(card, one);
    assert.equal(swHex(es10(card, fromOne, PING).sw), '9000');
    assert.deepEqual(calls.map((c) => [c.app, c.ctx.channel]), [['ECASD', fromOne]]);
    const fromBasic = openChannel(card, 0);
    assert.equal(swHex(send(card, apdu(cla(fromBasic, true), 0xe2, 0x91, 0x00, PING)).sw), '6986');
  });
});

describe('SELECT (ISO/IEC 7816-4 7.1.1)', () => {
  it('returns the FCI 6F { 84 AID } with Le, via 61xx without Le, nothing with P2 0C', () => {
    const { card } = fixture();
    const fci = h('6F1284 10' + ISD_R_AID);
    assert.deepEqual(send(card, apdu(0, 0xa4, 0x04, 0x00, ISD_R, 0)), { data: fci, sw: 0x9000 });
    const first = send(card, apdu(0, 0xa4, 0x04, 0x00, ISD_R));
    assert.deepEqual(first, { data: Buffer.alloc(0), sw: 0x6114 });
    assert.deepEqual(collect(card, 0, first), { data: fci, sw: 0x9000 });
    assert.deepEqual(send(card, apdu(0, 0xa4, 0x04, 0x0c, ISD_R)), { data: Buffer.alloc(0), sw: 0x9000 });
    assert.deepEqual(send(card, apdu(0, 0xa4, 0x04, 0x00, ECASD, 0)).data, h('6F1284 10' + ECASD_AID));
  });

  it('answers 6A82 to an unknown, partial or extended AID and keeps the previous selection', () => {
    const { card, calls } = fixture();
    select(card, 0, ECASD);
    for (const aid of [h('A0000005591010FFFFFFFF8900000300'), ISD_R.subarray(0, 15), Buffer.concat([ISD_R, h('00')]), h('A0')]) {
      assert.equal(swHex(send(card, apdu(0, 0xa4, 0x04, 0x00, aid)).sw), '6A82');
    }
    assert.equal(swHex(es10(card, 0, PING).sw), '9000');
    assert.equal(calls[0]!.app, 'ECASD');
  });

  it('refuses other P1/P2 with 6A86 and a SELECT without AID with 6700', () => {
    const { card } = fixture();
    for (const [p1, p2] of [[0x00, 0x00], [0x02, 0x00], [0x04, 0x04], [0x04, 0x02], [0x04, 0x08]] as const) {
      assert.equal(swHex(send(card, apdu(0, 0xa4, p1, p2, ISD_R)).sw), '6A86', `P1 ${p1} P2 ${p2}`);
    }
    assert.equal(swHex(send(card, '00A40400').sw), '6700');
    assert.equal(swHex(send(card, '00A4040000').sw), '6700');
  });

  it('keeps the selection per channel', () => {
    const { card, calls } = fixture();
    const one = openChannel(card);
    const two = openChannel(card);
    select(card, 0, ISD_R);
    select(card, one, ECASD);
    assert.equal(swHex(send(card, apdu(cla(two, true), 0xe2, 0x91, 0x00, PING)).sw), '6986');
    for (const ch of [0, one, 0, one]) assert.equal(swHex(es10(card, ch, PING).sw), '9000');
    assert.deepEqual(
      calls.map((c) => [c.app, c.ctx.channel, c.ctx.aid.toString('hex').toUpperCase()]),
      [['ISD-R', 0, ISD_R_AID], ['ECASD', one, ECASD_AID], ['ISD-R', 0, ISD_R_AID], ['ECASD', one, ECASD_AID]],
    );
  });
});

describe('response data and GET RESPONSE (ISO/IEC 7816-4 7.6.1)', () => {
  it('sends data with 9000 when Le covers it, otherwise 61xx then GET RESPONSE', () => {
    for (const n of [1, 2, 255, 256, 257, 511, 512, 600, 1500]) {
      const { card } = fixture();
      select(card, 0, ISD_R);
      const cmd = lengthRequest(n);
      const noLe = send(card, apdu(0x80, 0xe2, 0x91, 0x00, cmd));
      assert.deepEqual(noLe, { data: Buffer.alloc(0), sw: 0x6100 | (n >= 256 ? 0 : n) }, `n ${n}`);
      const sws: number[] = [];
      let sw = noLe.sw;
      const parts: Buffer[] = [];
      while (sw >> 8 === 0x61) {
        const r = send(card, apdu(0, 0xc0, 0, 0, undefined, sw & 0xff));
        parts.push(r.data);
        sw = r.sw;
        sws.push(sw);
      }
      assert.deepEqual(Buffer.concat(parts), pattern(n));
      const expectedSws: number[] = [];
      for (let left = n - 256; left > 0; left -= 256) expectedSws.push(0x6100 | (left >= 256 ? 0 : left));
      expectedSws.push(0x9000);
      assert.deepEqual(sws.map(swHex), expectedSws.map(swHex), `n ${n}`);
      const withLe = send(card, apdu(0x80, 0xe2, 0x91, 0x00, cmd, n >= 256 ? 0 : n));
      if (n <= 256) assert.deepEqual(withLe, { data: pattern(n), sw: 0x9000 });
      else assert.deepEqual(withLe, { data: Buffer.alloc(0), sw: 0x6100 });
      if (n > 1) {
        const shortLe = send(card, apdu(0x80, 0xe2, 0x91, 0x00, cmd, 1));
        assert.deepEqual(shortLe, { data: Buffer.alloc(0), sw: 0x6100 | (n >= 256 ? 0 : n) });
      }
    }
  });

  it('reassembles any response length under any sequence of GET RESPONSE Le values', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 20 }), (n, les) => {
        const { card } = fixture();
        select(card, 0, ISD_R);
        const available = (left: number) => (left === 0 ? 0x9000 : 0x6100 | (left >= 256 ? 0 : left));
        let r = send(card, apdu(0x80, 0xe2, 0x91, 0x00, lengthRequest(n)));
        assert.deepEqual([r.data.length, r.sw], [0, available(n)]);
        const parts: Buffer[] = [];
        let left = n;
        for (let i = 0; left > 0; i++) {
          const le = les[i % les.length]!;
          r = send(card, apdu(0, 0xc0, 0, 0, undefined, le));
          const expected = Math.min(le === 0 ? 256 : le, left);
          left -= expected;
          assert.deepEqual([r.data.length, r.sw], [expected, available(left)]);
          parts.push(r.data);
        }
        assert.deepEqual(Buffer.concat(parts), pattern(n));
        assert.equal(send(card, '00C0000000').sw, 0x6985, 'nothing left');
      }),
      { numRuns: 150 },
    );
  });

  it('answers 6985 to GET RESPONSE without pending data, and after another command discarded it', () => {
    const { card } = fixture();
    assert.equal(swHex(send(card, '00C0000000').sw), '6985');
    select(card, 0, ISD_R);
    assert.equal(swHex(send(card, apdu(0x80, 0xe2, 0x91, 0x00, lengthRequest(10))).sw), '610A');
    assert.equal(swHex(send(card, '0070000001').sw), '9000');
    assert.equal(swHex(send(card, '00C000000A').sw), '6985');
  });

  it('keeps pending data per channel and accepts GET RESPONSE in the proprietary class', () => {
    const { card } = fixture();
    const ch = openChannel(card);
    select(card, ch, ISD_R);
    select(card, 0, ISD_R);
    assert.equal(swHex(send(card, apdu(cla(ch, true), 0xe2, 0x91, 0x00, lengthRequest(300))).sw), '6100');
    assert.equal(swHex(es10(card, 0, PING).sw), '9000');
    const first = send(card, apdu(cla(ch, true), 0xc0, 0, 0, undefined, 0));
    assert.deepEqual([first.data.length, swHex(first.sw)], [256, '612C']);
    assert.equal(swHex(send(card, '00C000002C').sw), '6985', 'not on the basic channel');
    const rest = send(card, apdu(cla(ch), 0xc0, 0, 0, undefined, 0x2c));
    assert.deepEqual(Buffer.concat([first.data, rest.data]), pattern(300));
    assert.equal(rest.sw, 0x9000);
  });

  it('refuses GET RESPONSE with wrong P1/P2 (6A86) or without Le (6700), keeping the data', () => {
    const { card } = fixture();
    select(card, 0, ISD_R);
    assert.equal(swHex(send(card, apdu(0x80, 0xe2, 0x91, 0x00, lengthRequest(5))).sw), '6105');
    assert.equal(swHex(send(card, '00C0010005').sw), '6A86');
    assert.equal(swHex(send(card, '00C0000105').sw), '6A86');
    assert.equal(swHex(send(card, '00C00000').sw), '6700');
    assert.equal(swHex(send(card, '00C000000101').sw), '6700');
    assert.deepEqual(send(card, '00C0000005'), { data: pattern(5), sw: 0x9000 });
  });

  it('returns all data with 9000 at once in direct mode', () => {
    const { card } = fixture({ responseMode: 'direct' });
    select(card, 0, ISD_R);
    assert.deepEqual(send(card, apdu(0, 0xa4, 0x04, 0x00, ISD_R)), { data: h('6F1284 10' + ISD_R_AID), sw: 0x9000 });
    for (const n of [0, 1, 256, 1500]) {
      assert.deepEqual(send(card, apdu(0x80, 0xe2, 0x91, 0x00, lengthRequest(n))), { data: pattern(n), sw: 0x9000 });
      assert.deepEqual(send(card, apdu(0x80, 0xe2, 0x91, 0x00, lengthRequest(n), 1)), { data: pattern(n), sw: 0x9000 });
    }
    assert.equal(swHex(send(card, '00C0000000').sw), '6985');
  });
});

describe('status words from ES10 handlers', () => {
  it('maps CardError to its SW, Asn1Error to 6A80 and anything else to 6F00', () => {
    const { card, internalErrors } = fixture();
    select(card, 0, ISD_R);
    const cases: [number, string][] = [[0xbf2e, '6982'], [0xbf2f, '6985'], [0xbf30, '6A80'], [0xbf31, '6F00']];
    for (const [tag, sw] of cases) assert.equal(swHex(es10(card, 0, encodeTlv(tag, Buffer.alloc(0))).sw), sw);
    assert.equal(internalErrors.length, 1);
    assert.ok(internalErrors[0] instanceof TypeError);
    assert.equal(swHex(es10(card, 0, PING).sw), '9000', 'the card keeps working');
  });

  it('gives CardError the code named after its status word', () => {
    const e = new CardError('NOT_ENOUGH_MEMORY', 'full');
    assert.ok(e instanceof McimError);
    assert.deepEqual([e.code, e.sw, e.name], ['NOT_ENOUGH_MEMORY', 0x6a84, 'CardError']);
  });
});

describe('hostile APDU sequences', () => {
  it('answers every APDU with a status word, never throwing and never failing inside', () => {
    const byte = (...likely: number[]) => fc.oneof(fc.constantFrom(...likely), fc.integer({ min: 0, max: 255 }));
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 262 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.constantFrom(ISD_R, ECASD, PING, h('BF3682FFFF'), h('BF36 03 BF2300'), h('A0'), h('BF2080')), fc.option(fc.integer({ min: 0, max: 255 }))).map(
        ([data, le]) => Buffer.concat([Buffer.from([data.length]), data, le === null ? Buffer.alloc(0) : Buffer.from([le])]),
      ),
    );
    const command = fc.tuple(byte(0x00, 0x01, 0x03, 0x40, 0x80, 0x81, 0xc0), byte(0x70, 0xa4, 0xc0, 0xe2), byte(0x00, 0x04, 0x80, 0x11, 0x91), byte(0x00, 0x01, 0x02, 0x0c), body, fc.boolean());
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), fc.constantFrom<CardOptions['responseMode']>('getResponse', 'direct'), (commands, responseMode) => {
        const internalErrors: unknown[] = [];
        const card = new Card({ responseMode, onInternalError: (e) => internalErrors.push(e) });
        const echo: CommandHandler = (c) => Buffer.from(c);
        card.registerApplication(ISD_R, {
          handlers: new Map([[0xbf20, echo]]),
          streamingHandlers: new Map([[0xbf36, { onData: (chunk) => ({ response: chunk.subarray(0, 1), done: chunk.length % 2 === 0 }), onAbort: () => undefined }]]),
        });
        card.registerApplication(ECASD, { handlers: new Map([[0xbf20, echo]]) });
        for (const [claByte, ins, p1, p2, rest, asUint8Array] of commands) {
          const raw = Buffer.concat([Buffer.from([claByte, ins, p1, p2]), rest]);
          const response = card.transmit(asUint8Array ? new Uint8Array(raw) : raw);
          assert.ok(response.length >= 2);
          const sw = response.readUInt16BE(response.length - 2);
          if (response.length > 2) assert.equal(sw, 0x9000, 'data only with 9000');
          assert.ok([0x90, 0x61, 0x67, 0x68, 0x69, 0x6a, 0x6d, 0x6e].includes(sw >> 8), swHex(sw));
        }
        assert.deepEqual(internalErrors, []);
      }),
      { numRuns: 300 },
    );
  });
});

describe('reset and registration', () => {
  it('returns a well-formed ATR: TS 3B, T=0 and T=1, historical bytes, TCK', () => {
    const atr = new Card().reset();
    assert.equal(atr.length, 9);
    assert.equal(atr[0], 0x3b);
    assert.equal(atr[1]! & 0x0f, 4, 'four historical bytes');
    assert.deepEqual([atr[2], atr[3]], [0x80, 0x01]);
    assert.equal(atr.subarray(4, 8).toString('ascii'), 'mcim');
    assert.equal(atr.subarray(1).reduce((x, b) => x ^ b, 0), 0, 'TCK');
    atr[0] = 0;
    assert.equal(new Card().reset()[0], 0x3b, 'callers get a copy');
  });

  it('closes channels and forgets selections, pending data and STORE DATA chains', () => {
    const { card } = fixture();
    const ch = openChannel(card);
    select(card, 0, ISD_R);
    select(card, ch, ISD_R);
    assert.equal(swHex(send(card, apdu(0x80, 0xe2, 0x91, 0x00, lengthRequest(20))).sw), '6114');
    card.reset();
    assert.equal(swHex(send(card, apdu(cla(ch), 0xa4, 0x04, 0x00, ISD_R)).sw), '6881');
    assert.equal(swHex(send(card, '00C0000014').sw), '6985');
    select(card, 0, ISD_R);
    assert.equal(swHex(send(card, apdu(0x80, 0xe2, 0x11, 0x00, PING.subarray(0, 3))).sw), '9000');
    card.reset();
    assert.equal(swHex(send(card, apdu(0x80, 0xe2, 0x91, 0x01, PING.subarray(3))).sw), '6986', 'nothing selected');
    select(card, 0, ISD_R);
    assert.equal(swHex(send(card, apdu(0x80, 0xe2, 0x91, 0x01, PING.subarray(3))).sw), '6A86', 'the chain is gone');
    assert.equal(openChannel(card), 1);
  });

  it('validates AIDs, tags and options', () => {
    const card = new Card();
    const invalid = (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT';
    assert.throws(() => card.registerApplication(h('A000000559'.slice(0, 8)), {}), invalid);
    assert.throws(() => card.registerApplication(Buffer.alloc(17, 0xa0), {}), invalid);
    card.registerApplication(ISD_R, {});
    assert.throws(() => card.registerApplication(ISD_R, {}), invalid);
    const both = { handlers: new Map([[0xbf36, () => Buffer.alloc(0)]]), streamingHandlers: new Map([[0xbf36, { onData: () => ({ response: Buffer.alloc(0), done: false }), onAbort: () => undefined }]]) };
    assert.throws(() => card.registerApplication(ECASD, both), invalid);
    for (const options of [{ logicalChannels: 0 }, { logicalChannels: 21 }, { logicalChannels: 2.5 }, { maxCommandLength: 0 }]) {
      assert.throws(() => new Card(options), invalid, JSON.stringify(options));
    }
  });
});
