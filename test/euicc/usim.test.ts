// The USIM of the enabled profile on the eUICC's card interface (TS 102 221 11.1, TS 31.102 7.1.2): every TS.48 profile read and authenticated.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decode, encode } from '../../src/asn1/schema.js';
import {
  DisableProfileRequest,
  DisableProfileResponse,
  EnableProfileRequest,
  EnableProfileResponse,
} from '../../src/asn1/definitions/rsp.js';
import {
  decodeImsi,
  decodeProfilePackage,
  encodeProfilePackage,
  extractProfileEssentials,
  fileContents,
  type AlgoParameter,
  type ProfileElement,
} from '../../src/asn1/definitions/saip.js';
import { generateAuthenticationVector, verifyAuts, type AkaAlgorithm } from '../../src/crypto/authenticationVector.js';
import { Milenage } from '../../src/crypto/milenage.js';
import { sqnFromNumber } from '../../src/crypto/sqnFreshness.js';
import { TestAlgorithm } from '../../src/crypto/testAlgorithm.js';
import { Tuak } from '../../src/crypto/tuak.js';
import type { PersistedState } from '../../src/euicc/core.js';
import { SealedStateFile } from '../../src/euicc/sealedState.js';
import { FALLBACK_USIM_AID } from '../../src/euicc/usim/fileSystem.js';
import { tuakParams } from '../../src/euicc/usim/akaAlgorithm.js';
import { UsimClient } from '../../src/ipa/usimClient.js';
import { apdu, cla, h, send, type Reply } from './cardHelpers.js';
import { TS48_PROFILES, assertSuccess, download, downloadTs48, rigsCleanedAfter, ts48, type Rig } from './harness.js';
import { metadataFor } from './smdpSimulator.js';

const makeRig = rigsCleanedAfter();

function enable(r: Rig, iccid: Buffer): number {
  return decode(EnableProfileResponse, r.client.command(encode(EnableProfileRequest, { profileIdentifier: { type: 'iccid', value: iccid }, refreshFlag: false }))).enableResult;
}
function disable(r: Rig, iccid: Buffer): number {
  return decode(DisableProfileResponse, r.client.command(encode(DisableProfileRequest, { profileIdentifier: { type: 'iccid', value: iccid }, refreshFlag: true }))).disableResult;
}

/** A logical channel for the USIM (the ES10 client keeps the ISD-R on the basic channel). */
function openChannel(r: Rig): number {
  const opened = send(r.card, '0070000001');
  assert.equal(opened.sw, 0x9000);
  return opened.data[0]!;
}

const usimChannels = new WeakMap<Rig['card'], { channel: number; client: UsimClient }>();
/** The USIM client of the rig's current card, on a logical channel of its own. */
function usim(r: Rig): { channel: number; client: UsimClient } {
  let u = usimChannels.get(r.card);
  if (u === undefined) {
    const channel = openChannel(r);
    u = { channel, client: new UsimClient({ transmit: (a) => r.card.transmit(a) }, channel) };
    usimChannels.set(r.card, u);
  }
  return u;
}

function sw(reply: Reply): string {
  return reply.sw.toString(16).toUpperCase().padStart(4, '0');
}

/** Network side: an AUTN for SEQ `seq` at IND `ind` under `alg`. */
function vector(alg: AkaAlgorithm, seq: number, ind = 0): ReturnType<typeof generateAuthenticationVector> {
  return generateAuthenticationVector(alg, randomBytes(16), sqnFromNumber(seq * 32 + ind), h('8000'));
}

function packageOf(upp: Buffer): { elements: ProfileElement[]; usimAlgo: AlgoParameter } {
  const elements = decodeProfilePackage(upp).elements;
  let naa = '';
  for (const e of elements) {
    if (e.type === 'usim' || e.type === 'isim' || e.type === 'csim') naa = e.type;
    if (e.type === 'akaParameter' && naa === 'usim' && e.value.algoConfiguration.type === 'algoParameter') return { elements, usimAlgo: e.value.algoConfiguration.value };
  }
  throw new Error('no USIM AKA parameters');
}

function usimFile(elements: ProfileElement[], name: 'efImsi' | 'efAd'): Buffer {
  const pe = elements.find((e) => e.type === 'usim');
  assert.ok(pe?.type === 'usim');
  return fileContents(pe.value[name]!);
}

/** The sealed file's bytes: any save rewrites them (fresh salt and nonce). */
function sealedBytes(r: Rig): Buffer {
  return readFileSync(r.path);
}

describe('USIM of the TS.48 profiles', () => {
  const r = makeRig();
  const installed = TS48_PROFILES.map((name) => {
    assertSuccess(downloadTs48(r, name));
    return { name, upp: ts48(name) };
  });

  for (const { name, upp } of installed) {
    it(`${name}: EF_IMSI, EF_ICCID, EF_AD as in the package; AUTHENTICATE with its K; replay refused with a valid AUTS; bad MAC 9862`, async () => {
      const essentials = extractProfileEssentials(decodeProfilePackage(upp).elements);
      assert.equal(enable(r, essentials.iccid), 0);
      const { elements, usimAlgo } = packageOf(upp);
      const { client } = usim(r);
      assert.equal(await client.readImsi(), decodeImsi(usimFile(elements, 'efImsi')));
      assert.equal(await client.readImsi(), essentials.imsi);
      assert.equal(await client.readIccid(), essentials.iccidDigits);
      await client.selectUsim();
      assert.deepEqual(await client.readTransparent('6FAD'), usimFile(elements, 'efAd'));

      assert.equal(usimAlgo.algorithmID, 3, 'TS.48 profiles use the TS 34.108 test algorithm');
      const alg = new TestAlgorithm(usimAlgo.key);
      const v = vector(alg, 5, 3);
      const ok = await client.authenticate(v.rand, v.autn);
      assert.equal(ok.status, 'success');
      assert.ok(ok.status === 'success');
      assert.deepEqual({ res: ok.res, ck: ok.ck, ik: ok.ik }, { res: v.xres, ck: v.ck, ik: v.ik });
      const kc = Buffer.alloc(8);
      for (let i = 0; i < 8; i++) kc[i] = v.ck[i]! ^ v.ck[i + 8]! ^ v.ik[i]! ^ v.ik[i + 8]!;
      assert.deepEqual(ok.kc, kc, 'UST service 27: Kc = c3(CK, IK)');

      const replay = await client.authenticate(v.rand, v.autn);
      assert.ok(replay.status === 'sync_failure');
      assert.deepEqual(verifyAuts(alg, v.rand, replay.auts), v.sqn, 'AUTS carries SQN_MS, the SQN just accepted');

      const bad = Buffer.from(v.autn);
      bad[15]! ^= 0x01;
      const before = sealedBytes(r);
      assert.deepEqual(await client.authenticate(v.rand, bad), { status: 'mac_failure' });
      assert.deepEqual(sealedBytes(r), before, 'a MAC failure changes nothing');
    });
  }

  it('keeps SQN freshness across a reopen of the sealed state', async () => {
    const [first] = installed;
    const essentials = extractProfileEssentials(decodeProfilePackage(first!.upp).elements);
    const current = r.euicc.profiles.find((p) => p.state === 'enabled');
    if (!current?.iccid.equals(essentials.iccid)) assert.equal(enable(r, essentials.iccid), 0);
    const alg = new TestAlgorithm(packageOf(first!.upp).usimAlgo.key);
    const v = vector(alg, 40, 7);
    assert.equal((await usim(r).client.authenticate(v.rand, v.autn)).status, 'success');
    r.reopen();
    const after = await usim(r).client.authenticate(v.rand, v.autn);
    assert.ok(after.status === 'sync_failure', 'replayed after the reopen');
    assert.deepEqual(verifyAuts(alg, v.rand, after.auts), v.sqn);
    const next = vector(alg, 41, 7);
    assert.equal((await usim(r).client.authenticate(next.rand, next.autn)).status, 'success', 'a fresher SQN is accepted');
  });

  it('serves the newly enabled profile after a switch, and nothing once the profile is disabled', async () => {
    const [a, b] = installed.map(({ upp }) => extractProfileEssentials(decodeProfilePackage(upp).elements));
    if (r.euicc.profiles.find((p) => p.state === 'enabled')?.iccid.equals(a!.iccid) !== true) assert.equal(enable(r, a!.iccid), 0);
    const { channel, client } = usim(r);
    assert.equal(await client.readIccid(), a!.iccidDigits);
    assert.equal(enable(r, b!.iccid), 0);
    assert.equal(sw(send(r.card, apdu(cla(channel), 0xb0, 0, 0, undefined, 10))), '6986', 'the selection in A is gone');
    assert.equal(await client.readIccid(), b!.iccidDigits);
    assert.equal(disable(r, b!.iccid), 0);
    for (const select of [apdu(cla(channel), 0xa4, 0x04, 0x04, h('A0000000871002'), 0), apdu(cla(channel), 0xa4, 0x00, 0x04, h('3F00'), 0)]) {
      assert.equal(sw(send(r.card, select)), '6A82', 'no profile enabled');
    }
    assert.equal(sw(send(r.card, apdu(cla(channel), 0x88, 0x00, 0x81, h('10' + '00'.repeat(16) + '10' + '00'.repeat(16)), 0))), '6985');
  });
});

describe('USIM commands on the card interface', () => {
  const r = makeRig();
  const upp = ts48('TS48V2-SAIP2-1-BERTLV-UNIQUE');
  assertSuccess(downloadTs48(r, 'TS48V2-SAIP2-1-BERTLV-UNIQUE'));
  assert.equal(enable(r, r.euicc.profiles[0]!.iccid), 0);
  const key = packageOf(upp).usimAlgo.key;
  const ch = openChannel(r);
  const c = cla(ch);
  const x = (a: Buffer): Reply => send(r.card, a);

  it('selects by AID (partial), FID, path from the MF and from the current DF, with the FCP on P2 04', () => {
    const adf = x(apdu(c, 0xa4, 0x04, 0x04, h('A0000000871002'), 0));
    assert.equal(sw(adf), '9000');
    assert.deepEqual(adf.data.subarray(0, 4), h('621A8202'), 'FCP template');
    assert.ok(adf.data.includes(h('840CA0000000871002FF49FF0589')), 'the DF name of ADF.USIM');
    const imsi = x(apdu(c, 0xa4, 0x00, 0x04, h('6F07'), 0));
    assert.equal(sw(imsi), '9000');
    assert.deepEqual(imsi.data, h('6217 8202 4121 8302 6F07 8A01 05 8B03 6F060A 8002 0009 8801 38'));
    assert.deepEqual(x(apdu(c, 0xb0, 0, 0, undefined, 9)).data, h('080910101032540636'));
    assert.deepEqual(x(apdu(c, 0xa4, 0x08, 0x0c, h('2FE2'))), { data: Buffer.alloc(0), sw: 0x9000 }, 'path from the MF, no data');
    assert.deepEqual(x(apdu(c, 0xb0, 0, 0, undefined, 0)).data, r.euicc.profiles[0]!.iccid, 'Le 00: the whole EF');
    assert.equal(sw(x(apdu(c, 0xa4, 0x08, 0x04, h('7FFF6FAD'), 0))), '9000', '7FFF: the current ADF');
    assert.deepEqual(x(apdu(c, 0xb0, 0, 2, undefined, 2)).data, h('0002'), 'offset 2 of EF_AD');
    assert.equal(sw(x(apdu(c, 0xa4, 0x08, 0x0c, h('7F105F504F20')))), '9000', 'EF_IMG in DF_GRAPHICS in DF_TELECOM');
    assert.equal(sw(x(apdu(c, 0xa4, 0x08, 0x0c, h('5F504F20')))), '6A82', 'DF_GRAPHICS is not a child of the MF');
    assert.equal(sw(x(apdu(c, 0xa4, 0x08, 0x04, h('7FFF6FAD'), 0))), '9000');
    assert.equal(sw(x(apdu(c, 0xa4, 0x00, 0x0c, h('5F3B')))), '9000', 'DF_GSM-ACCESS in ADF.USIM');
    assert.equal(sw(x(apdu(c, 0xa4, 0x09, 0x0c, h('4F20')))), '9000', 'path from the current DF: EF_Kc');
    assert.deepEqual(x(apdu(c, 0xb0, 0, 0, undefined, 9)).data, h('FFFFFFFFFFFFFFFF07'), 'template size 9, FF fill, key set 07 at offset 8');
    assert.equal(sw(x(apdu(c, 0xa4, 0x00, 0x0c, h('6F07')))), '6A82', 'an EF of the parent DF is not selectable by file ID (TS 102 221 8.4.1)');
  });

  it('reads by SFI and reads records in absolute mode', () => {
    assert.equal(sw(x(apdu(c, 0xa4, 0x04, 0x0c, h('A0000000871002')))), '9000');
    assert.deepEqual(x(apdu(c, 0xb0, 0x87, 0x00, undefined, 9)).data, h('080910101032540636'), 'SFI 07: EF_IMSI');
    const ecc = x(apdu(c, 0xa4, 0x00, 0x04, h('6FB7'), 0));
    assert.ok(ecc.data.includes(h('82054221000E02')), 'linear fixed, 2 records of 14 bytes');
    assert.deepEqual(x(apdu(c, 0xb2, 2, 0x04, undefined, 14)).data, h('19f1ff456d657267656e6379ff00'));
    assert.deepEqual(x(apdu(c, 0xb2, 1, 0x0c, undefined, 0)).data, h('11f2ff4575726f20456d6572ff00'), 'SFI 01 in P2');
  });

  it('answers AUTHENTICATE over 61xx and GET RESPONSE without Le', () => {
    assert.equal(sw(x(apdu(c, 0xa4, 0x04, 0x0c, h('A0000000871002')))), '9000');
    const v = vector(new TestAlgorithm(key), 100);
    const first = x(apdu(c, 0x88, 0x00, 0x81, Buffer.concat([h('10'), v.rand, h('10'), v.autn])));
    assert.equal(first.sw >> 8, 0x61);
    const all = x(apdu(c, 0xc0, 0, 0, undefined, first.sw & 0xff));
    assert.equal(sw(all), '9000');
    assert.deepEqual(all.data.subarray(0, 18), Buffer.concat([h('DB10'), v.xres]));
  });

  it('refuses hostile commands with the TS 102 221 status words and changes nothing', () => {
    assert.equal(sw(x(apdu(c, 0xa4, 0x04, 0x0c, h('A0000000871002')))), '9000');
    assert.equal(sw(x(apdu(c, 0xa4, 0x00, 0x0c, h('6F07')))), '9000');
    const before = sealedBytes(r);
    const cases: [string, Buffer, string][] = [
      ['SELECT FID of 1 byte', apdu(c, 0xa4, 0x00, 0x04, h('6F'), 0), '6700'],
      ['SELECT odd path', apdu(c, 0xa4, 0x08, 0x04, h('7FFF6F'), 0), '6700'],
      ['SELECT P1 03', apdu(c, 0xa4, 0x03, 0x04, h('6F07'), 0), '6A86'],
      ['SELECT P2 08', apdu(c, 0xa4, 0x00, 0x08, h('6F07'), 0), '6A86'],
      ['SELECT unknown FID', apdu(c, 0xa4, 0x00, 0x04, h('6F99'), 0), '6A82'],
      ['SELECT unknown AID', apdu(c, 0xa4, 0x04, 0x04, h('A0000000871004'), 0), '6A82'],
      ['SELECT next occurrence', apdu(c, 0xa4, 0x04, 0x06, h('A0000000871002'), 0), '6A82'],
      ['SELECT path through an EF', apdu(c, 0xa4, 0x08, 0x04, h('2FE26F07'), 0), '6A82'],
      ['READ BINARY offset beyond', apdu(c, 0xb0, 0x00, 0x09, undefined, 1), '6B00'],
      ['READ BINARY Le beyond the end', apdu(c, 0xb0, 0x00, 0x05, undefined, 5), '6700'],
      ['READ BINARY without Le', apdu(c, 0xb0, 0x00, 0x00), '6700'],
      ['READ BINARY with data', apdu(c, 0xb0, 0x00, 0x00, h('00'), 1), '6700'],
      ['READ BINARY unknown SFI', apdu(c, 0xb0, 0x9d, 0x00, undefined, 1), '6A82'],
      ['READ RECORD of a transparent EF', apdu(c, 0xb2, 0x01, 0x04, undefined, 0), '6981'],
      ['READ RECORD next mode', apdu(c, 0xb2, 0x01, 0x02, undefined, 0), '6A86'],
      ['READ RECORD beyond', apdu(c, 0xb2, 0x09, 0x0c, undefined, 14), '6A83'],
      ['READ RECORD wrong Le', apdu(c, 0xb2, 0x01, 0x0c, undefined, 13), '6700'],
      ['READ BINARY of a record EF', apdu(c, 0xb0, 0x81, 0x00, undefined, 1), '6981'],
      ['UPDATE BINARY', apdu(c, 0xd6, 0x00, 0x00, h('00')), '6982'],
      ['UPDATE RECORD', apdu(c, 0xdc, 0x01, 0x04, h('00')), '6982'],
      ['AUTHENTICATE GSM context', apdu(c, 0x88, 0x00, 0x80, h('10' + '00'.repeat(16)), 0), '6A86'],
      ['AUTHENTICATE P1 01', apdu(c, 0x88, 0x01, 0x81, h('10' + '00'.repeat(16) + '10' + '00'.repeat(16)), 0), '6A86'],
      ['AUTHENTICATE length beyond Lc', apdu(c, 0x88, 0x00, 0x81, h('10' + '00'.repeat(16) + '11' + '00'.repeat(16)), 0), '6700'],
      ['AUTHENTICATE trailing byte', apdu(c, 0x88, 0x00, 0x81, h('10' + '00'.repeat(16) + '10' + '00'.repeat(17)), 0), '6700'],
      ['AUTHENTICATE RAND of 15', apdu(c, 0x88, 0x00, 0x81, h('0F' + '00'.repeat(15) + '10' + '00'.repeat(16)), 0), '6700'],
      ['AUTHENTICATE AUTN of 17', apdu(c, 0x88, 0x00, 0x81, h('10' + '00'.repeat(16) + '11' + '00'.repeat(17)), 0), '6700'],
      ['AUTHENTICATE proprietary class', apdu(c | 0x80, 0x88, 0x00, 0x81, h('10' + '00'.repeat(16) + '10' + '00'.repeat(16)), 0), '6D00'],
      ['SELECT of the ISD-R with P2 04', apdu(c, 0xa4, 0x04, 0x04, h('A0000005591010FFFFFFFF8900000100'), 0), '6A86'],
      ['Lc beyond the APDU', Buffer.concat([Buffer.from([c, 0xa4, 0x00, 0x04, 0x05]), h('6F07')]), '6700'],
    ];
    for (const [what, command, expected] of cases) assert.equal(sw(x(command)), expected, what);
    assert.deepEqual(x(apdu(c, 0xb0, 0, 0, undefined, 9)).data, h('080910101032540636'), 'EF_IMSI still current and unchanged');
    assert.deepEqual(sealedBytes(r), before);
    const fresh = openChannel(r);
    assert.equal(sw(x(apdu(cla(fresh), 0xb0, 0, 0, undefined, 1))), '6986', 'no current EF on a new channel');
    assert.equal(sw(x(apdu(cla(fresh), 0x88, 0x00, 0x81, h('10' + '00'.repeat(16) + '10' + '00'.repeat(16)), 0))), '6985', 'no ADF.USIM on the channel');
  });

  it('gives a channel opened from a non-basic channel its selection, and a channel opened from the basic one none', () => {
    assert.equal(sw(x(apdu(c, 0xa4, 0x04, 0x0c, h('A0000000871002')))), '9000');
    assert.equal(sw(x(apdu(c, 0xa4, 0x00, 0x0c, h('6FAD')))), '9000');
    const inherited = x(apdu(c, 0x70, 0x00, 0x00, undefined, 1));
    assert.equal(sw(inherited), '9000');
    assert.deepEqual(x(apdu(cla(inherited.data[0]!), 0xb0, 0, 0, undefined, 4)).data, h('80000002'), 'EF_AD current on the new channel');
    const v = vector(new TestAlgorithm(key), 300);
    const auth = x(apdu(cla(inherited.data[0]!), 0x88, 0x00, 0x81, Buffer.concat([h('10'), v.rand, h('10'), v.autn]), 0));
    assert.equal(sw(auth), '9000', 'ADF.USIM active on the new channel');
    assert.equal(sw(x(apdu(cla(inherited.data[0]!), 0x70, 0x80, inherited.data[0]!))), '9000');
    const fresh = x(apdu(0x00, 0x70, 0x00, 0x00, undefined, 1));
    assert.equal(sw(x(apdu(cla(fresh.data[0]!), 0xb0, 0, 0, undefined, 4))), '6986');
    assert.equal(sw(x(apdu(cla(fresh.data[0]!), 0x70, 0x80, fresh.data[0]!))), '9000');
  });

  it('never fails inside and never writes for random file commands (property)', () => {
    const before = sealedBytes(r);
    const byte = (...v: number[]): fc.Arbitrary<number> => fc.oneof(fc.constantFrom(...v), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(byte(0xa4, 0xb0, 0xb2, 0x88, 0xd6, 0xc0), byte(0x00, 0x04, 0x08, 0x09, 0x81), byte(0x00, 0x04, 0x0c, 0x81), fc.uint8Array({ maxLength: 40 }), fc.option(fc.integer({ min: 0, max: 255 })), (ins, p1, p2, data, le) => {
        const reply = x(apdu(c, ins, p1, p2, Buffer.from(data), le ?? undefined));
        assert.notEqual(reply.sw, 0x6f00);
      }),
      { numRuns: 400 },
    );
    assert.deepEqual(sealedBytes(r), before, 'no random AUTN passes MAC-A');
  });
});

describe('USIM of other profiles', () => {
  /** The TS.48 profile with its USIM's algorithm replaced, re-encoded through the codec. */
  function withAlgorithm(algo: AlgoParameter): Buffer {
    const { elements } = packageOf(ts48('TS48V5-SAIP2-3-BERTLV-SUCI-UNIQUE'));
    let naa = '';
    const changed = elements.map((e): ProfileElement => {
      if (e.type === 'usim' || e.type === 'isim' || e.type === 'csim') naa = e.type;
      if (e.type === 'akaParameter' && naa === 'usim') return { type: 'akaParameter', value: { ...e.value, algoConfiguration: { type: 'algoParameter', value: algo } } };
      return e;
    });
    return encodeProfilePackage(changed);
  }

  const k = randomBytes(16);
  const variants: [string, AlgoParameter, AkaAlgorithm][] = [
    ['TUAK (RES 128, MAC 128)', { algorithmID: 2, algorithmOptions: h('0a'), key: k, opc: Buffer.alloc(32, 0x5a), numberOfKeccak: 1 }, new Tuak(k, Buffer.alloc(32, 0x5a), tuakParams(0x0a, 1))],
    ['Milenage', { algorithmID: 1, algorithmOptions: h('00'), key: k, opc: Buffer.alloc(16, 0xa5) }, new Milenage(k, Buffer.alloc(16, 0xa5))],
  ];
  for (const [what, algo, network] of variants) {
    it(`${what} authenticates, and its replay gives a verifiable AUTS`, async () => {
      const r = makeRig();
      const upp = withAlgorithm(algo);
      assertSuccess(download(r, upp, metadataFor(upp, what)));
      assert.equal(enable(r, r.euicc.profiles[0]!.iccid), 0);
      const { client } = usim(r);
      const v = vector(network, 9, 1);
      const ok = await client.authenticate(v.rand, v.autn);
      assert.ok(ok.status === 'success');
      assert.deepEqual([ok.res, ok.ck, ok.ik], [v.xres, v.ck, v.ik]);
      const replay = await client.authenticate(v.rand, v.autn);
      assert.ok(replay.status === 'sync_failure');
      assert.deepEqual(verifyAuts(network, v.rand, replay.auts), v.sqn);
    });
  }

  it('seals the SQN before answering: when the state cannot be written there is no answer and the SQN stays fresh', async () => {
    const r = makeRig();
    assertSuccess(downloadTs48(r, 'TS48V3-SAIP2-3-BERTLV-UNIQUE'));
    const profile = r.euicc.profiles[0]!;
    assert.equal(enable(r, profile.iccid), 0);
    const { channel, client } = usim(r);
    assert.equal(sw(send(r.card, apdu(cla(channel), 0xa4, 0x04, 0x0c, h('A0000000871002')))), '9000');
    const v = vector(new TestAlgorithm(profile.usim.essentials.aka!.key), 77);
    const sealed = readFileSync(r.path);
    rmSync(r.path);
    mkdirSync(r.path);
    writeFileSync(join(r.path, 'blocker'), 'x'); // renaming over a non-empty directory fails
    const failed = send(r.card, apdu(cla(channel), 0x88, 0x00, 0x81, Buffer.concat([h('10'), v.rand, h('10'), v.autn]), 0));
    assert.equal(sw(failed), '6F00', 'no RES without the SQN sealed');
    assert.equal(failed.data.length, 0);
    rmSync(r.path, { recursive: true });
    writeFileSync(r.path, sealed);
    const ok = await client.authenticate(v.rand, v.autn);
    assert.ok(ok.status === 'success', 'the SQN was not taken by the failed attempt');
    assert.deepEqual(ok.res, v.xres);
  });

  it('serves a profile installed before file systems were kept from its essentials (older sealed state)', async () => {
    const r = makeRig();
    assertSuccess(downloadTs48(r, 'TS48V1-A-UNIQUE'));
    const file = new SealedStateFile<PersistedState>(r.path, r.secret);
    const state = file.load()!.state;
    file.save({ ...state, profiles: state.profiles.map((p) => ({ ...p, usim: { essentials: p.usim.essentials, sqn: p.usim.sqn } })) });
    r.reopen();
    assert.equal(r.euicc.profiles[0]!.usim.fileSystem, undefined);
    assert.equal(enable(r, r.euicc.profiles[0]!.iccid), 0);
    const { channel, client } = usim(r);
    const essentials = r.euicc.profiles[0]!.usim.essentials;
    assert.equal(await client.readImsi(), essentials.imsi);
    assert.equal(await client.readIccid(), essentials.iccidDigits);
    assert.equal(sw(send(r.card, apdu(cla(channel), 0xa4, 0x04, 0x0c, FALLBACK_USIM_AID))), '9000');
    const alg = new TestAlgorithm(essentials.aka!.key);
    const v = vector(alg, 3);
    const ok = await client.authenticate(v.rand, v.autn);
    assert.ok(ok.status === 'success');
    assert.deepEqual(ok.res, v.xres);
    assert.equal(ok.kc, undefined, 'no EF_UST: no Kc');
  });
});
