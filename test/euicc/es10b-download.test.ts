// SGP.22 v2.5 3.1.3 profile download and installation through ES10b over APDUs: all TS.48 test profiles, both curves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode } from '../../src/asn1/schema.js';
import {
  ListNotificationRequest,
  ListNotificationResponse,
  ProfileInstallationResult,
  RetrieveNotificationsListRequest,
  RetrieveNotificationsListResponse,
  type NotificationMetadata,
  type PendingNotification,
} from '../../src/asn1/definitions/rsp.js';
import { decodeProfilePackage, extractProfileEssentials } from '../../src/asn1/definitions/saip.js';
import { verifyPlain, type EcCurve } from '../../src/crypto/ecdsa.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { TS48_PROFILES, assertSuccess, download, downloadTs48, profiles, ts48, type Rig, rigsCleanedAfter } from './harness.js';
import { metadataFor } from './smdpSimulator.js';

const makeRig = rigsCleanedAfter();
function newRig(curve: EcCurve = 'P-256', blockSizes?: number[]): Rig {
  return makeRig({ curve, ...(blockSizes ? { blockSizes } : {}) });
}

for (const curve of ['P-256', 'brainpoolP256r1'] as const) {
  describe(`download and install on ${curve}`, () => {
    it('installs all six TS.48 profiles; GetProfilesInfo lists each with its ICCID, name, ISD-P AID and state', () => {
      const r = newRig(curve);
      const aids: Buffer[] = [];
      for (const name of TS48_PROFILES) {
        const pir = downloadTs48(r, name);
        aids.push(assertSuccess(pir));
        const data = pir.profileInstallationResultData.value;
        assert.equal(data.notificationMetadata.notificationAddress, r.pki.smdpAddress);
        assert.equal(data.smdpOid, r.pki.smdpOid);
        const euiccKey = parseCertificate(r.pki.euicc.der).publicKey.key;
        assert.ok(verifyPlain(euiccKey, pir.profileInstallationResultData.der, pir.euiccSignPIR), 'PIR signature');
      }
      assert.equal(new Set(aids.map((a) => a.toString('hex'))).size, 6, 'distinct ISD-P AIDs');
      const listed = profiles(r.client);
      assert.equal(listed.length, 6);
      for (const [i, name] of TS48_PROFILES.entries()) {
        const essentials = extractProfileEssentials(decodeProfilePackage(ts48(name)).elements);
        const info = listed[i]!;
        assert.deepEqual(info.iccid, essentials.iccid);
        assert.equal(info.profileName, name);
        assert.equal(info.serviceProviderName, 'GSMA TS.48');
        assert.equal(info.profileState, 0);
        assert.deepEqual(info.isdpAid, aids[i]);
        assert.equal(info.profileClass, 2);
        // USIM credentials kept for AUTHENTICATE
        const stored = r.euicc.profiles[i]!;
        assert.equal(stored.usim.essentials.imsi, essentials.imsi);
        assert.deepEqual(stored.usim.essentials.aka?.key, essentials.aka?.key);
      }
    });
  });
}

describe('download variants', () => {
  it('installs with profile protection keys (ReplaceSessionKeys, A2) and STORE DATA blocks of 120 bytes', () => {
    const r = newRig('P-256', [120]);
    const upp = ts48('TS48V2-SAIP2-1-BERTLV-UNIQUE');
    assertSuccess(download(r, upp, metadataFor(upp, 'ppk'), { ppk: true }));
    assert.equal(profiles(r.client)[0]?.profileName, 'ppk');
  });

  it('stores the PIR as a pending notification: ListNotification and RetrieveNotificationsList return it', () => {
    const r = newRig();
    const pir = downloadTs48(r, 'TS48V1-A-UNIQUE');
    const list = decode(ListNotificationResponse, r.client.command(encode(ListNotificationRequest, {})));
    assert.equal(list.type, 'notificationMetadataList');
    const metadata = list.value as NotificationMetadata[];
    assert.equal(metadata.length, 1);
    assert.equal(metadata[0]!.seqNumber, pir.profileInstallationResultData.value.notificationMetadata.seqNumber);
    const retrieved = decode(RetrieveNotificationsListResponse, r.client.command(encode(RetrieveNotificationsListRequest, {})));
    const pending = retrieved.value as PendingNotification[];
    assert.equal(pending[0]!.type, 'profileInstallationResult');
    assert.deepEqual(encode(ProfileInstallationResult, pending[0]!.value as ProfileInstallationResult), encode(ProfileInstallationResult, pir));
  });
});
