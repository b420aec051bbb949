// Hostile ES10 input (SGP.22 5.7, SGP.32 5.9 over GPC STORE DATA): malformed TLV for every ES10 function, oversized and out-of-order STORE DATA.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode } from '../../src/asn1/schema.js';
import { GetEuiccChallengeRequest, GetEuiccChallengeResponse, ProfileInstallationResult } from '../../src/asn1/definitions/rsp.js';
import { apdu, cla, send } from './cardHelpers.js';
import { assertPirError, assertSuccess, downloadTs48, prepare, ts48, rigsCleanedAfter } from './harness.js';
import { metadataFor } from './smdpSimulator.js';
import { encodeTlv } from '../../src/asn1/tlv.js';

const newRig = rigsCleanedAfter();

const ES10_TAGS = [0xbf3c, 0xbf3f, 0xbf2e, 0xbf20, 0xbf22, 0xbf38, 0xbf21, 0xbf41, 0xbf28, 0xbf2b, 0xbf30, 0xbf43, 0xbf3e, 0xbf2d, 0xbf31, 0xbf32, 0xbf33, 0xbf34, 0xbf29,
  // SGP.32 v1.2: LoadEuiccPackage, GetEimConfigurationData, GetCerts, AddInitialEim, ProfileRollback, eUICCMemoryReset,
  // ConfigureImmediateProfileEnabling, ImmediateEnable, ExecuteFallbackMechanism, ReturnFromFallback.
  0xbf51, 0xbf55, 0xbf56, 0xbf57, 0xbf58, 0xbf64, 0xbf59, 0xbf5a, 0xbf5d, 0xbf5e];
/** Functions whose request has mandatory components: an empty request is malformed. */
const WITH_MANDATORY = [0xbf3f, 0xbf38, 0xbf21, 0xbf41, 0xbf30, 0xbf3e, 0xbf31, 0xbf32, 0xbf34, 0xbf29, 0xbf51, 0xbf57, 0xbf58, 0xbf64, 0xbf5a, 0xbf5d, 0xbf5e];

describe('malformed ES10 commands', () => {
  it('answer 6A80 for every function, and the eUICC keeps working', () => {
    const r = newRig();
    for (const tag of ES10_TAGS) {
      const tagBytes = Buffer.from(tag.toString(16), 'hex');
      // A constructed element whose child's length runs past its end.
      const truncatedChild = Buffer.concat([tagBytes, Buffer.from([0x03, 0x80, 0x05, 0x00])]);
      assert.equal(r.client.transmit(truncatedChild).sw, 0x6a80, `${tag.toString(16)} truncated child`);
      // Data after the element.
      assert.equal(r.client.transmit(Buffer.concat([tagBytes, Buffer.from([0x00, 0x00])])).sw, 0x6a80, `${tag.toString(16)} trailing data`);
    }
    for (const tag of WITH_MANDATORY) {
      const empty = Buffer.concat([Buffer.from(tag.toString(16), 'hex'), Buffer.from([0x00])]);
      assert.equal(r.client.transmit(empty).sw, 0x6a80, `${tag.toString(16)} without its mandatory components`);
    }
    // DeleteProfile (BF33) is a CHOICE: an unknown alternative.
    assert.equal(r.client.transmit(encodeTlv(0xbf33, encodeTlv(0x80, Buffer.from([1])))).sw, 0x6a80);
    assert.equal(decode(GetEuiccChallengeResponse, r.client.command(encode(GetEuiccChallengeRequest, {}))).euiccChallenge.length, 16);
    assertSuccess(downloadTs48(r, 'TS48V1-A-UNIQUE'));
  });

  it('an unknown ES10 tag answers 6A88; an oversized command 6A84; a block out of sequence 6A86', () => {
    const r = newRig();
    assert.equal(r.client.transmit(Buffer.from('BF7F00', 'hex')).sw, 0x6a88);
    const huge = encodeTlv(0xbf2d, Buffer.alloc(70_000));
    assert.equal(r.client.transmit(huge).sw, 0x6a84);
    assert.equal(send(r.card, apdu(cla(0, true), 0xe2, 0x91, 0x01, Buffer.from('BF2E00', 'hex'))).sw, 0x6a86);
    assert.equal(r.client.transmit(Buffer.from('BF2E00', 'hex')).sw, 0x9000);
  });

  it('a malformed structure inside BF36 ends the load with a PIR scp03tStructureError', () => {
    const r = newRig();
    const upp = ts48('TS48V1-A-UNIQUE');
    const parts = prepare(r, upp, metadataFor(upp, 'x'));
    // BF36 { BF23, then 'A5' where A0 is due }
    const bogus = encodeTlv(0xa5, Buffer.from([0x01]));
    const body = Buffer.concat([parts.isc, bogus]);
    const pir = decode(ProfileInstallationResult, r.client.command(encodeTlv(0xbf36, body)));
    assertPirError(pir, 1, 7);
  });
});
