// ES10 client (SGP.22 5.7 over ISO/IEC 7816-4): channels, STORE DATA blocks, GET RESPONSE, status words, BPP segmentation (2.5.5).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProfileInfoListRequest } from '../../src/asn1/definitions/rsp.js';
import { encodeTlv } from '../../src/asn1/tlv.js';
import { Es10Client, classByte, segmentBoundProfilePackage, type ApduTransport } from '../../src/ipa/es10Client.js';
import { CardStatusError, Es10ResultError, IpaError } from '../../src/ipa/errors.js';
import { enableProfile } from '../../src/ipa/es10c/enableProfile.js';
import { iccidBytes, listProfiles } from '../../src/ipa/localProfileManagement.js';
import { LONG_RESPONSE, TEST_ICCID, testCard } from './testCard.js';

function recording(card: { transmit(a: Buffer): Buffer }): ApduTransport & { sent: Buffer[] } {
  const sent: Buffer[] = [];
  return {
    sent,
    transmit(apdu: Buffer) {
      sent.push(Buffer.from(apdu));
      return card.transmit(apdu);
    },
  };
}

/** A BPP with the given numbers of 87 (A0), 88, optional A2 87s and 86 segments. */
function bpp(n88: number, n86: number, a2 = false): Buffer {
  const seg = (tag: number, i: number, size: number): Buffer => encodeTlv(tag, Buffer.alloc(size, i));
  return encodeTlv(0xbf36, [
    encodeTlv(0xbf23, Buffer.alloc(90, 1)),
    encodeTlv(0xa0, seg(0x87, 2, 40)),
    encodeTlv(0xa1, Array.from({ length: n88 }, (_, i) => seg(0x88, i, 300))),
    ...(a2 ? [encodeTlv(0xa2, seg(0x87, 3, 50))] : []),
    encodeTlv(0xa3, Array.from({ length: n86 }, (_, i) => seg(0x86, i, 1000))),
  ]);
}

describe('Es10Client', () => {
  for (const responseMode of ['getResponse', 'direct'] as const) {
    it(`opens a logical channel, selects the ISD-R and reads long responses (${responseMode})`, async () => {
      const t = testCard({ responseMode });
      const transport = recording(t.card);
      const es10 = await Es10Client.open(transport);
      assert.equal(es10.channel, 1);
      assert.deepEqual(transport.sent[0], Buffer.from('0070000001', 'hex'));
      assert.equal(transport.sent[1]![0], 0x01, 'SELECT on channel 1');
      assert.deepEqual(await es10.command(encodeTlv(0xbf22, Buffer.alloc(0))), LONG_RESPONSE);
      const profiles = await listProfiles(es10);
      assert.deepEqual(profiles, [{ iccid: TEST_ICCID, state: 'disabled', serviceProviderName: 'mcim', profileName: 'Test', profileClass: 'operational' }]);
      await es10.close();
      assert.deepEqual(transport.sent.at(-1), Buffer.from('00708001', 'hex'));
      await assert.rejects(es10.command(ProfileInfoListRequest.encode({})), IpaError);
    });
  }

  it('sends long commands as STORE DATA blocks of the configured size with block numbers and P1 11/91', async () => {
    for (const segmentSize of [120, 255]) {
      const t = testCard();
      const transport = recording(t.card);
      const es10 = await Es10Client.open(transport, { channel: 'basic', segmentSize });
      // An ES10 command of 700 bytes with a tag no handler has: the card reassembles all blocks, then answers 6A88.
      const command = encodeTlv(0xbf7f, Buffer.alloc(696, 7));
      const before = transport.sent.length;
      await assert.rejects(es10.command(command, 'test'), (e: unknown) => e instanceof CardStatusError && e.sw === 0x6a88);
      const blocks = transport.sent.slice(before);
      assert.equal(blocks.length, Math.ceil(command.length / segmentSize));
      blocks.forEach((b, i) => {
        assert.equal(b[0], 0x80, 'CLA of the basic channel, proprietary');
        assert.equal(b[1], 0xe2);
        assert.equal(b[2], i === blocks.length - 1 ? 0x91 : 0x11);
        assert.equal(b[3], i);
        assert.ok(b[4]! <= segmentSize);
      });
      assert.deepEqual(Buffer.concat(blocks.map((b) => b.subarray(5))), command);
    }
  });

  it('maps status words to CardStatusError and result codes to Es10ResultError', async () => {
    const t = testCard();
    const es10 = await Es10Client.open(t.card);
    await assert.rejects(es10.command(encodeTlv(0xbf20, Buffer.alloc(0)), 'GetEUICCInfo1'), /GetEUICCInfo1: status word 6982 \(security status not satisfied\)/);
    await enableProfile(es10, iccidBytes(TEST_ICCID));
    await assert.rejects(enableProfile(es10, iccidBytes(TEST_ICCID)), (e: unknown) => e instanceof Es10ResultError && e.result === 2 && /profileNotInDisabledState/.test(e.message));
    await assert.rejects(Es10Client.open(t.card, { aid: Buffer.from('A000000000', 'hex') }), (e: unknown) => e instanceof CardStatusError && e.sw === 0x6a82);
    assert.throws(() => new Es10Client(t.card, 0, { segmentSize: 119 }), IpaError);
    assert.throws(() => new Es10Client(t.card, 0, { segmentSize: 256 }), IpaError);
  });

  it('rejects a response without status word', async () => {
    const es10 = new Es10Client({ transmit: () => Buffer.from([0x90]) }, 0);
    await assert.rejects(es10.command(encodeTlv(0xbf2e, Buffer.alloc(0))), (e: unknown) => e instanceof IpaError && e.code === 'INVALID_EUICC_RESPONSE');
  });

  it('uses the further interindustry class bytes from channel 4 on', () => {
    assert.equal(classByte(3, false), 0x03);
    assert.equal(classByte(4, false), 0x40);
    assert.equal(classByte(19, true), 0xcf);
  });
});

describe('BoundProfilePackage segmentation (SGP.22 2.5.5)', () => {
  it('cuts BF36 into BF23, A0+87, A1, 88s, A2+87, A3, 86s', () => {
    const package_ = bpp(2, 3, true);
    const segments = segmentBoundProfilePackage(package_);
    assert.deepEqual(
      segments.map((s) => s.subarray(0, s[0] === 0xbf ? 2 : 1).toString('hex')),
      ['bf36', 'a0', 'a1', '88', '88', 'a2', 'a3', '86', '86', '86'],
    );
    assert.equal(segments[0]!.subarray(-93, -91).toString('hex'), 'bf23', 'BF23 (93 bytes) follows the BF36 header');
    assert.deepEqual(Buffer.concat(segments), package_);
    assert.equal(segmentBoundProfilePackage(bpp(1, 1)).length, 6);
  });

  it('refuses malformed packages', () => {
    assert.throws(() => segmentBoundProfilePackage(encodeTlv(0xbf37, encodeTlv(0x80, Buffer.alloc(1)))), /outer tag BF37/);
    assert.throws(() => segmentBoundProfilePackage(encodeTlv(0xbf36, encodeTlv(0xbf23, encodeTlv(0x80, Buffer.alloc(1))))), /A0 is missing/);
    assert.throws(() => segmentBoundProfilePackage(Buffer.from('bf3605', 'hex')), IpaError);
  });

  it('streams every segment as its own command and returns the PIR; stops early when the eUICC answers with data', async () => {
    const t = testCard();
    const es10 = await Es10Client.open(t.card, { segmentSize: 120 });
    const package_ = bpp(2, 3, true);
    const pir = await es10.commandsUntilData(segmentBoundProfilePackage(package_), 'LoadBoundProfilePackage');
    assert.deepEqual(pir, encodeTlv(0xbf37, Buffer.from('done')));
    assert.equal(t.bppChunks.length, 10);
    assert.deepEqual(Buffer.concat(t.bppChunks), package_);

    const early = testCard({ failBppAt: 3 });
    const es10b = await Es10Client.open(early.card);
    const result = await es10b.commandsUntilData(segmentBoundProfilePackage(package_), 'LoadBoundProfilePackage');
    assert.deepEqual(result, encodeTlv(0xbf37, Buffer.from('early')));
    assert.equal(early.bppChunks.length, 3, 'nothing sent after the early result');
  });
});
