// SGP.22 v2.5 5.7.3-5.7.4 and 5.7.9-5.7.22 (ES10a, ES10c, ES10b notifications and RAT) over APDUs: profile states, notifications, profile policy rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode } from '../../src/asn1/schema.js';
import {
  DeleteProfileRequest,
  DeleteProfileResponse,
  DisableProfileRequest,
  DisableProfileResponse,
  EnableProfileRequest,
  EnableProfileResponse,
  ErrorReason,
  EuiccConfiguredAddressesRequest,
  EuiccConfiguredAddressesResponse,
  EuiccMemoryResetRequest,
  EuiccMemoryResetResponse,
  GetEuiccDataRequest,
  GetEuiccDataResponse,
  GetRatRequest,
  GetRatResponse,
  ListNotificationRequest,
  ListNotificationResponse,
  NotificationSentRequest,
  NotificationSentResponse,
  OtherSignedNotification,
  RetrieveNotificationsListRequest,
  RetrieveNotificationsListResponse,
  SetDefaultDpAddressRequest,
  SetDefaultDpAddressResponse,
  SetNicknameRequest,
  SetNicknameResponse,
  namedBitString,
  type NotificationMetadata,
  type PendingNotification,
  type ProfilePolicyAuthorisationRule,
} from '../../src/asn1/definitions/rsp.js';
import { verifyPlain } from '../../src/crypto/ecdsa.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { assertPirError, assertSuccess, downloadTs48, profiles, type Rig, rigsCleanedAfter } from './harness.js';

const makeRig = rigsCleanedAfter();
function newRig(rat?: ProfilePolicyAuthorisationRule[]): Rig {
  return makeRig(rat ? { options: { rat } } : {});
}

const NOTIFY = [{ profileManagementOperation: namedBitString([1, 2, 3]), notificationAddress: 'notify.example.com' }];
const OWNER = { mccMnc: Buffer.from('00f110', 'hex') };
const RAT: ProfilePolicyAuthorisationRule[] = [{ pprIds: namedBitString([1, 2]), allowedOperators: [OWNER], pprFlags: namedBitString([]) }];

function enable(r: Rig, iccid: Buffer): number {
  return decode(EnableProfileResponse, r.client.command(encode(EnableProfileRequest, { profileIdentifier: { type: 'iccid', value: iccid }, refreshFlag: false }))).enableResult;
}
function disable(r: Rig, iccid: Buffer): number {
  return decode(DisableProfileResponse, r.client.command(encode(DisableProfileRequest, { profileIdentifier: { type: 'iccid', value: iccid }, refreshFlag: true }))).disableResult;
}
function remove(r: Rig, iccid: Buffer): number {
  return decode(DeleteProfileResponse, r.client.command(encode(DeleteProfileRequest, { type: 'iccid', value: iccid }))).deleteResult;
}
function notifications(r: Rig, filter?: number[]): NotificationMetadata[] {
  const list = decode(ListNotificationResponse, r.client.command(encode(ListNotificationRequest, filter ? { profileManagementOperation: namedBitString(filter) } : {})));
  return list.value as NotificationMetadata[];
}
function iccidOf(r: Rig, index: number): Buffer {
  return r.euicc.profiles[index]!.iccid;
}

describe('ES10c profile management', () => {
  it('enables, switches, disables and deletes profiles, with signed notifications where configured', () => {
    const r = newRig();
    assertSuccess(downloadTs48(r, 'TS48V1-A-UNIQUE', { notificationConfigurationInfo: NOTIFY }));
    assertSuccess(downloadTs48(r, 'TS48V1-B-UNIQUE'));
    const [a, b] = [iccidOf(r, 0), iccidOf(r, 1)];
    assert.equal(enable(r, a), 0);
    assert.equal(enable(r, a), 2, 'profileNotInDisabledState');
    assert.deepEqual(profiles(r.client).map((p) => p.profileState), [1, 0]);
    assert.equal(enable(r, b), 0, 'enabling B disables A');
    assert.deepEqual(profiles(r.client).map((p) => p.profileState), [0, 1]);
    assert.equal(remove(r, b), 2, 'an enabled profile cannot be deleted');
    assert.equal(disable(r, a), 2, 'profileNotInEnabledState');
    assert.equal(disable(r, b), 0);
    assert.equal(remove(r, a), 0);
    assert.equal(remove(r, a), 1, 'iccidOrAidNotFound');
    assert.equal(enable(r, a), 1);
    assert.deepEqual(profiles(r.client).map((p) => p.iccid), [b]);

    // A has notifications configured for enable (1), disable (2), delete (3); B has none.
    const events = notifications(r).slice(2).map((n) => n.profileManagementOperation.bytes[0]);
    assert.deepEqual(events, [0x40, 0x20, 0x10], 'enable, disable, delete of A');
    assert.deepEqual(notifications(r, [3]).map((n) => n.notificationAddress), ['notify.example.com']);
    const seqNumbers = notifications(r).map((n) => n.seqNumber);
    assert.deepEqual(seqNumbers, [...seqNumbers].sort((x, y) => x - y));
    assert.equal(new Set(seqNumbers).size, seqNumbers.length);

    const deleteSeq = notifications(r, [3])[0]!.seqNumber;
    const retrieved = decode(
      RetrieveNotificationsListResponse,
      r.client.command(encode(RetrieveNotificationsListRequest, { searchCriteria: { type: 'seqNumber', value: deleteSeq } })),
    ).value as PendingNotification[];
    assert.equal(retrieved.length, 1);
    assert.equal(retrieved[0]!.type, 'otherSignedNotification');
    const signed = retrieved[0]!.value as OtherSignedNotification;
    assert.ok(verifyPlain(parseCertificate(r.pki.euicc.der).publicKey.key, signed.tbsOtherNotification.der, signed.euiccNotificationSignature));
    assert.deepEqual(signed.tbsOtherNotification.value.iccid, a);

    const removeSeq = (seqNumber: number): number =>
      decode(NotificationSentResponse, r.client.command(encode(NotificationSentRequest, { seqNumber }))).deleteNotificationStatus;
    assert.equal(removeSeq(deleteSeq), 0);
    assert.equal(removeSeq(deleteSeq), 1, 'nothingToDelete');
    assert.equal(notifications(r, [3]).length, 0);
  });

  it('GetProfilesInfo filters by ICCID, ISD-P AID and class, and returns only the tagList fields', () => {
    const r = newRig();
    assertSuccess(downloadTs48(r, 'TS48V1-A-UNIQUE'));
    assertSuccess(downloadTs48(r, 'TS48V1-B-UNIQUE', { profileClass: 0 }));
    const b = r.euicc.profiles[1]!;
    assert.deepEqual(profiles(r.client, { searchCriteria: { type: 'iccid', value: b.iccid } }).map((p) => p.profileName), ['TS48V1-B-UNIQUE']);
    assert.deepEqual(profiles(r.client, { searchCriteria: { type: 'isdpAid', value: b.isdpAid } }).map((p) => p.profileName), ['TS48V1-B-UNIQUE']);
    assert.deepEqual(profiles(r.client, { searchCriteria: { type: 'profileClass', value: 2 } }).map((p) => p.profileName), ['TS48V1-A-UNIQUE']);
    assert.deepEqual(profiles(r.client, { tagList: Buffer.from('5A9F70', 'hex') })[1], { iccid: b.iccid, profileState: 0 });
  });

  it('SetNickname names a profile; an unknown ICCID gives iccidNotFound', () => {
    const r = newRig();
    assertSuccess(downloadTs48(r, 'TS48V1-A-UNIQUE'));
    const set = (iccid: Buffer): number =>
      decode(SetNicknameResponse, r.client.command(encode(SetNicknameRequest, { iccid, profileNickname: 'my sim' }))).setNicknameResult;
    assert.equal(set(iccidOf(r, 0)), 0);
    assert.equal(profiles(r.client)[0]!.profileNickname, 'my sim');
    assert.equal(set(Buffer.alloc(10, 0x98)), 1);
  });

  it('eUICCMemoryReset deletes operational profiles and the default SM-DP+ address', () => {
    const r = newRig();
    assertSuccess(downloadTs48(r, 'TS48V1-A-UNIQUE'));
    assertSuccess(downloadTs48(r, 'TS48V1-B-UNIQUE', { profileClass: 0 }));
    const reset = (bits: number[]): number =>
      decode(EuiccMemoryResetResponse, r.client.command(encode(EuiccMemoryResetRequest, { resetOptions: namedBitString(bits) }))).resetResult;
    assert.equal(reset([0]), 0);
    assert.deepEqual(profiles(r.client).map((p) => p.profileName), ['TS48V1-B-UNIQUE']);
    assert.equal(reset([0]), 1, 'nothingToDelete');
    assert.equal(reset([1]), 0);
    assert.equal(profiles(r.client).length, 0);
  });
});

describe('profile policy rules (SGP.22 2.9)', () => {
  it('PPR1 forbids disabling (and enabling another profile); PPR2 forbids deletion: disallowedByPolicy', () => {
    const r = newRig(RAT);
    assertSuccess(downloadTs48(r, 'TS48V1-A-UNIQUE', { profileOwner: OWNER, profilePolicyRules: namedBitString([1]) }));
    assertSuccess(downloadTs48(r, 'TS48V1-B-UNIQUE', { profileOwner: OWNER, profilePolicyRules: namedBitString([2]) }));
    const [a, b] = [iccidOf(r, 0), iccidOf(r, 1)];
    assert.equal(remove(r, b), 3, 'PPR2: deletion not allowed');
    assert.equal(enable(r, a), 0);
    assert.equal(disable(r, a), 3, 'PPR1: disabling not allowed');
    assert.equal(enable(r, b), 3, 'enabling B would disable the PPR1 profile A');
    assert.deepEqual(profiles(r.client).map((p) => p.profileState), [1, 0]);
    assert.deepEqual(profiles(r.client)[0]!.profilePolicyRules, namedBitString([1]));
  });

  it('a profile with PPRs the RAT does not authorise is refused: PIR pprNotAllowed at StoreMetadata', () => {
    const r = newRig();
    assertPirError(downloadTs48(r, 'TS48V1-A-UNIQUE', { profileOwner: OWNER, profilePolicyRules: namedBitString([1]) }), 2, ErrorReason.pprNotAllowed);
    const other = newRig([{ ...RAT[0]!, allowedOperators: [{ mccMnc: Buffer.from('13f031', 'hex') }] }]);
    assertPirError(downloadTs48(other, 'TS48V1-A-UNIQUE', { profileOwner: OWNER, profilePolicyRules: namedBitString([2]) }), 2, ErrorReason.pprNotAllowed);
    assert.equal(profiles(r.client).length + profiles(other.client).length, 0);
  });

  it('GetRAT returns the configured table', () => {
    const r = newRig(RAT);
    const rat = decode(GetRatResponse, r.client.command(encode(GetRatRequest, {}))).rat;
    assert.deepEqual(rat, RAT);
  });
});

describe('ES10a and GetEID', () => {
  it('GetEID returns the EID of the eUICC certificate', () => {
    const r = newRig();
    const { eidValue } = decode(GetEuiccDataResponse, r.client.command(encode(GetEuiccDataRequest, { tagList: Buffer.from([0x5a]) })));
    assert.equal(eidValue.toString('hex'), r.pki.eid);
  });

  it('SetDefaultDpAddress sets the address GetEuiccConfiguredAddresses reports, and survives a reopen', () => {
    const r = newRig();
    const addresses = (): EuiccConfiguredAddressesResponse =>
      decode(EuiccConfiguredAddressesResponse, r.client.command(encode(EuiccConfiguredAddressesRequest, {})));
    assert.deepEqual(addresses(), { rootDsAddress: 'lpa.ds.gsma.com' });
    const result = decode(SetDefaultDpAddressResponse, r.client.command(encode(SetDefaultDpAddressRequest, { defaultDpAddress: 'smdp.example.com' })));
    assert.equal(result.setDefaultDpAddressResult, 0);
    r.reopen();
    assert.deepEqual(addresses(), { defaultDpAddress: 'smdp.example.com', rootDsAddress: 'lpa.ds.gsma.com' });
  });
});
