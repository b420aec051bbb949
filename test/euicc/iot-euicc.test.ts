// SGP.32 v1.2 5.9 (ES10b of the IoT eUICC) and 3.3-3.5 (eUICC Package execution, PSMOs, eCOs) over APDUs: association, every PSMO and eCO, and the eUICC's negative matrix with SGP.32's codes, on P-256 and brainpoolP256r1.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EuiccConfiguredAddressesRequest,
  EuiccConfiguredAddressesResponse,
  NotificationSentRequest,
  NotificationSentResponse,
  ProfileState,
  namedBitString,
} from '../../src/asn1/definitions/rsp.js';
import {
  AddEimResultCode,
  AddInitialEimError,
  ConfigImmediateEnableResult,
  ConfigureImmediateProfileEnablingRequest,
  ConfigureImmediateProfileEnablingResponse,
  ExecuteFallbackMechanismRequest,
  ExecuteFallbackMechanismResponse,
  ExecuteFallbackMechanismResult,
  ImmediateEnableRequest,
  ImmediateEnableResponse,
  ImmediateEnableResult,
  ReturnFromFallbackRequest,
  ReturnFromFallbackResponse,
  ReturnFromFallbackResult,
  type ConfigureImmediateEnable,
  AddInitialEimRequest,
  AddInitialEimResponse,
  DeleteEimResult,
  DeleteProfileResult,
  DisableProfileResult,
  EnableProfileResult,
  EuiccMemoryResetRequest,
  EuiccMemoryResetResponse,
  EuiccPackageErrorCode,
  GetCertsRequest,
  GetCertsResponse,
  GetEimConfigurationDataRequest,
  GetEimConfigurationDataResponse,
  ProfileInfoListError,
  ProfileRollbackRequest,
  ProfileRollbackResponse,
  ProfileRollbackResult,
  ResetOption,
  RetrieveNotificationsListRequest,
  RetrieveNotificationsListResponse,
  SetFallbackAttributeResult,
  UnsetFallbackAttributeResult,
  UpdateEimResult,
  type AddInitialEimResponse as AddInitialEimAnswer,
  type EimConfigurationData,
  EuiccPackageResult,
  type EuiccResultData,
  type Sgp32ProfileInfo,
} from '../../src/asn1/definitions/sgp32.js';
import { decode, encode } from '../../src/asn1/schema.js';
import { decodeTlv, encodeTlv } from '../../src/asn1/tlv.js';
import type { EcCurve } from '../../src/crypto/ecdsa.js';
import { SealedStateFile } from '../../src/euicc/sealedState.js';
import type { PersistedState } from '../../src/euicc/core.js';
import { StatusWordError } from './es10Client.js';
import { assertSuccess, downloadTs48, profiles, rigsCleanedAfter, type Rig } from './harness.js';
import type { ProfileInstallationResult } from '../../src/asn1/definitions/rsp.js';
import { TestEim, addInitialEim, unsignedError, verifyResult, type Verified } from './testEim.js';

const makeRig = rigsCleanedAfter();
const MAX_COUNTER = 0x7fffff;
const TX = Buffer.from('0102030405060708', 'hex');

interface IotRig {
  readonly r: Rig;
  readonly eim: TestEim;
  readonly eid: Buffer;
  /** The two installed profiles' ICCIDs: A enabled, B disabled (when `enabled`), else both disabled. */
  readonly a: Buffer;
  readonly b: Buffer;
}

function eidOf(r: Rig): Buffer {
  return Buffer.from(r.pki.eid, 'hex');
}

function euiccKey(r: Rig) {
  return r.pki.euicc.certificate.publicKey.key;
}

/** A rig with an eIM associated and two TS.48 profiles installed, A enabled by a package when `enabled`. */
function iotRig(curve: EcCurve, o: { profiles?: boolean; enabled?: boolean } = {}): IotRig {
  const r = makeRig({ curve });
  const eim = new TestEim('eim.example.com', curve);
  addInitialEim(r.client, [eim]);
  let a: Buffer = Buffer.alloc(0);
  let b: Buffer = Buffer.alloc(0);
  if (o.profiles !== false) {
    assertSuccess(downloadTs48(r, 'TS48V1-A-UNIQUE'));
    assertSuccess(downloadTs48(r, 'TS48V1-B-UNIQUE'));
    [a, b] = [r.euicc.profiles[0]!.iccid, r.euicc.profiles[1]!.iccid];
  }
  const t: IotRig = { r, eim, eid: eidOf(r), a, b };
  if (o.enabled === true) assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'enable', value: { iccid: a } }])), [{ type: 'enableResult', value: 0 }]);
  return t;
}

/** Sends a package and returns its verified answer (signed by the eUICC for the eIM's token). */
function load(t: IotRig, request: Buffer, token = t.eim.token): Verified {
  return verifyResult(t.r.client.command(request), euiccKey(t.r), token);
}

/** Sends a package that must execute; returns its operations' results. */
function run(t: IotRig, request: Buffer): EuiccResultData[] {
  const v = load(t, request);
  assert.equal(v.kind, 'result', `expected a package result, got ${JSON.stringify(v)}`);
  return v.kind === 'result' ? v.results : [];
}

function errorCode(t: IotRig, request: Buffer): number {
  const v = load(t, request);
  assert.equal(v.kind, 'error', `expected a signed error, got ${JSON.stringify(v)}`);
  return v.kind === 'error' ? v.code : -1;
}

function states(t: IotRig): Record<string, number | undefined> {
  return Object.fromEntries(profiles(t.r.client).map((p) => [p.iccid!.toString('hex'), p.profileState]));
}

function eimConfigs(r: Rig, eimId?: string): EimConfigurationData[] {
  const request = eimId === undefined ? {} : { searchCriteria: { type: 'eimId' as const, value: eimId } };
  return decode(GetEimConfigurationDataResponse, r.client.command(encode(GetEimConfigurationDataRequest, request))).eimConfigurationDataList;
}

function addInitial(r: Rig, list: EimConfigurationData[]): AddInitialEimAnswer {
  return decode(AddInitialEimResponse, r.client.command(encode(AddInitialEimRequest, { eimConfigurationDataList: list })));
}

function generation(r: Rig): number {
  return new SealedStateFile<PersistedState>(r.path, r.secret).load()!.generation;
}

function packageResults(r: Rig): EuiccPackageResult[] {
  const response = decode(
    RetrieveNotificationsListResponse,
    r.client.command(encode(RetrieveNotificationsListRequest, { searchCriteria: { type: 'euiccPackageResults', value: null } })),
  );
  assert.equal(response.type, 'euiccPackageResultList');
  return response.value as EuiccPackageResult[];
}

for (const curve of ['P-256', 'brainpoolP256r1'] as const) {
  describe(`IoT eUICC on ${curve}: association (AddInitialEim, GetEimConfigurationData, GetCerts)`, () => {
    it('AddInitialEim associates the eIM with an association token; GetEimConfigurationData returns it with counter 0', () => {
      const r = makeRig({ curve });
      const eim = new TestEim('eim.example.com', curve);
      assert.deepEqual(eimConfigs(r), []);
      addInitialEim(r.client, [eim]);
      assert.equal(eim.token, 1);
      assert.deepEqual(eimConfigs(r), [{ ...eim.config(), counterValue: 0, associationToken: 1 }]);
      assert.deepEqual(eimConfigs(r, 'eim.example.com').length, 1);
      assert.deepEqual(eimConfigs(r, 'other'), []);
      r.reopen();
      assert.deepEqual(eimConfigs(r), [{ ...eim.config(), counterValue: 0, associationToken: 1 }], 'sealed');
    });

    it('AddInitialEim when an eIM is associated: associatedEimAlreadyExists (2), nothing written', () => {
      const r = makeRig({ curve });
      addInitialEim(r.client, [new TestEim('eim.example.com', curve)]);
      const before = generation(r);
      const other = new TestEim('attacker.example.com', curve);
      assert.deepEqual(addInitial(r, [other.config()]), { type: 'addInitialEimError', value: AddInitialEimError.associatedEimAlreadyExists });
      assert.equal(generation(r), before);
      assert.deepEqual(eimConfigs(r).map((c) => c.eimId), ['eim.example.com']);
    });

    it('AddInitialEim refuses bad configuration data whole, with its code, and stores nothing', () => {
      const r = makeRig({ curve });
      const eim = new TestEim('eim.example.com', curve);
      const second = new TestEim('second.example.com', curve);
      const cases: [EimConfigurationData[], number][] = [
        [[eim.config({ associationToken: 7 })], AddInitialEimError.invalidAssociationToken],
        [[eim.config({ counterValue: MAX_COUNTER + 1 })], AddInitialEimError.counterValueOutOfRange],
        [[eim.config({ counterValue: -1 })], AddInitialEimError.counterValueOutOfRange],
        [[eim.config({ euiccCiPKId: Buffer.alloc(20, 0xaa) })], AddInitialEimError.ciPKUnknown],
        [[{ eimId: 'nokey.example.com' }], AddInitialEimError.commandError],
        [[eim.config({ eimPublicKeyData: { type: 'eimPublicKey', value: Buffer.from('300d06092a864886f70d0101010500', 'hex') } })], AddInitialEimError.commandError],
        [[], AddInitialEimError.commandError],
        [[eim.config(), eim.config()], AddInitialEimError.commandError],
        [[second.config(), eim.config({ associationToken: 1 })], AddInitialEimError.invalidAssociationToken],
      ];
      for (const [list, code] of cases) assert.deepEqual(addInitial(r, list), { type: 'addInitialEimError', value: code }, JSON.stringify(list.map((c) => c.eimId)));
      assert.deepEqual(eimConfigs(r), []);
      assert.deepEqual(addInitial(r, [eim.config({ euiccCiPKId: r.pki.ci.certificate.subjectKeyIdentifier!, counterValue: 5 }), second.config()]), {
        type: 'addInitialEimOk',
        value: [
          { type: 'associationToken', value: 1 },
          { type: 'associationToken', value: 2 },
        ],
      });
    });

    it('an eIM given by its certificate: packages verify with the certificate key', () => {
      const r = makeRig({ curve });
      const eim = new TestEim('cert-eim.example.com', curve);
      eim.privateKey = r.pki.eim.privateKey;
      const response = addInitial(r, [eim.config({ eimPublicKeyData: { type: 'eimCertificate', value: r.pki.eim.der } })]);
      assert.deepEqual(response, { type: 'addInitialEimOk', value: [{ type: 'associationToken', value: 1 }] });
      eim.token = 1;
      const t: IotRig = { r, eim, eid: eidOf(r), a: Buffer.alloc(0), b: Buffer.alloc(0) };
      assert.deepEqual(run(t, eim.ecos(t.eid, [{ type: 'listEim', value: {} }])), [
        { type: 'listEimResult', value: { type: 'eimIdList', value: [{ eimId: 'cert-eim.example.com' }] } },
      ]);
    });

    it('GetCerts: the EUM and eUICC certificates; another CI is invalidCiPKId (1)', () => {
      const r = makeRig({ curve });
      const certs = decode(GetCertsResponse, r.client.command(encode(GetCertsRequest, {})));
      assert.deepEqual(certs, { type: 'certs', value: { eumCertificate: r.pki.eum.der, euiccCertificate: r.pki.euicc.der } });
      const own = decode(GetCertsResponse, r.client.command(encode(GetCertsRequest, { euiccCiPKId: r.pki.ci.certificate.subjectKeyIdentifier! })));
      assert.equal(own.type, 'certs');
      const other = decode(GetCertsResponse, r.client.command(encode(GetCertsRequest, { euiccCiPKId: Buffer.alloc(20, 1) })));
      assert.deepEqual(other, { type: 'getCertsError', value: 1 });
    });
  });
}

for (const curve of ['P-256', 'brainpoolP256r1'] as const) {
  describe(`IoT eUICC on ${curve}: LoadEuiccPackage`, () => {
    it('an enable PSMO: signed result echoing eimId, counter and transaction; profile enabled; result kept until removed', () => {
      const t = iotRig(curve);
      const v = load(t, t.eim.psmos(t.eid, [{ type: 'enable', value: { iccid: t.a } }], { eimTransactionId: TX }));
      assert.deepEqual(v, { kind: 'result', eimId: 'eim.example.com', counterValue: 1, eimTransactionId: TX, seqNumber: v.kind === 'result' ? v.seqNumber : 0, results: [{ type: 'enableResult', value: 0 }] });
      assert.deepEqual(states(t), { [t.a.toString('hex')]: ProfileState.enabled, [t.b.toString('hex')]: ProfileState.disabled });
      assert.deepEqual(eimConfigs(t.r)[0]!.counterValue, 1, 'the counter is the package counter');
      const kept = packageResults(t.r);
      assert.equal(kept.length, 1);
      assert.deepEqual(verifyResult(encode(EuiccPackageResult, kept[0]!), euiccKey(t.r), t.eim.token), v, 'the kept result is the answer');
      const seq = v.kind === 'result' ? v.seqNumber : -1;
      const bySeq = decode(RetrieveNotificationsListResponse, t.r.client.command(encode(RetrieveNotificationsListRequest, { searchCriteria: { type: 'seqNumber', value: seq } })));
      assert.equal(bySeq.type, 'euiccPackageResultList');
      const removed = decode(NotificationSentResponse, t.r.client.command(encode(NotificationSentRequest, { seqNumber: seq })));
      assert.equal(removed.deleteNotificationStatus, 0);
      assert.deepEqual(packageResults(t.r), []);
    });

    it('every PSMO: getRAT, listProfileInfo, configureImmediateEnable, setDefaultDpAddress, disable, delete, fallback attribute', () => {
      const t = iotRig(curve, { enabled: true });
      const results = run(
        t,
        t.eim.psmos(t.eid, [
          { type: 'getRAT', value: {} },
          { type: 'listProfileInfo', value: { searchCriteria: { type: 'iccid', value: t.a }, tagList: Buffer.from('5a9f70', 'hex') } },
          { type: 'configureImmediateEnable', value: { immediateEnableFlag: null, defaultSmdpAddress: 'dp.example.com' } },
          { type: 'setDefaultDpAddress', value: { defaultDpAddress: 'smdp.example.com' } },
          { type: 'unsetFallbackAttribute', value: {} },
        ]),
      );
      assert.deepEqual(results.slice(0, 4), [
        { type: 'getRATResult', value: [] },
        { type: 'listProfileInfoResult', value: { type: 'profileInfoListOk', value: [{ iccid: t.a, profileState: ProfileState.enabled }] } },
        { type: 'configureImmediateEnableResult', value: 0 },
        { type: 'setDefaultDpAddressResult', value: { setDefaultDpAddressResult: 0 } },
      ]);
      assert.deepEqual(results[4], { type: 'unsetFallbackAttributeResult', value: UnsetFallbackAttributeResult.noFallbackAttribute }, 'no Fallback Profile');
      const addresses = decode(EuiccConfiguredAddressesResponse, t.r.client.command(encode(EuiccConfiguredAddressesRequest, {})));
      assert.equal(addresses.defaultDpAddress, 'smdp.example.com');
      // TS.48 metadata carries no fallbackAllowed: the Profile Owner has not allowed fallback.
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'setFallbackAttribute', value: { iccid: t.b } }])), [
        { type: 'setFallbackAttributeResult', value: SetFallbackAttributeResult.fallbackNotAllowed },
      ]);
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'setFallbackAttribute', value: { iccid: Buffer.alloc(10, 0x99) } }])), [
        { type: 'setFallbackAttributeResult', value: SetFallbackAttributeResult.iccidOrAidNotFound },
      ]);
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'disable', value: { iccid: t.a } }, { type: 'delete', value: { iccid: t.b } }])), [
        { type: 'disableResult', value: 0 },
        { type: 'deleteResult', value: 0 },
      ]);
      assert.deepEqual(states(t), { [t.a.toString('hex')]: ProfileState.disabled });
      const listed = run(t, t.eim.psmos(t.eid, [{ type: 'listProfileInfo', value: {} }]))[0]!;
      assert.equal(listed.type, 'listProfileInfoResult');
      const infos = (listed.value as { value: Sgp32ProfileInfo[] }).value;
      assert.deepEqual(infos.map((i) => [i.iccid, i.profileState, i.profileName]), [[t.a, ProfileState.disabled, 'TS48V1-A-UNIQUE']]);
    });

    it('a PSMO that fails ends the package: the ones before it stand, the ones after it are not executed', () => {
      const t = iotRig(curve, { enabled: true });
      const results = run(
        t,
        t.eim.psmos(t.eid, [
          { type: 'setDefaultDpAddress', value: { defaultDpAddress: 'first.example.com' } },
          { type: 'disable', value: { iccid: t.b } },
          { type: 'setDefaultDpAddress', value: { defaultDpAddress: 'never.example.com' } },
        ]),
      );
      assert.deepEqual(results, [
        { type: 'setDefaultDpAddressResult', value: { setDefaultDpAddressResult: 0 } },
        { type: 'disableResult', value: DisableProfileResult.profileNotInEnabledState },
      ]);
      assert.equal(decode(EuiccConfiguredAddressesResponse, t.r.client.command(encode(EuiccConfiguredAddressesRequest, {}))).defaultDpAddress, 'first.example.com');
    });

    // The negative matrix of the eUICC's package checks, each with SGP.32's answer.

    it('bad eimSignature: EuiccPackageErrorUnsigned with the association token, nothing executed or written', () => {
      const t = iotRig(curve);
      const before = generation(t.r);
      const forged = new TestEim('eim.example.com', curve);
      forged.token = t.eim.token;
      const answer = t.r.client.command(forged.psmos(t.eid, [{ type: 'enable', value: { iccid: t.a } }], { eimTransactionId: TX }));
      assert.deepEqual(unsignedError(answer), { eimId: 'eim.example.com', eimTransactionId: TX, associationToken: t.eim.token });
      const flipped = t.eim.psmos(t.eid, [{ type: 'enable', value: { iccid: t.a } }], { counter: 1 });
      flipped[flipped.length - 1]! ^= 1;
      assert.deepEqual(unsignedError(t.r.client.command(flipped)), { eimId: 'eim.example.com', associationToken: t.eim.token });
      assert.equal(generation(t.r), before);
      assert.deepEqual(states(t), { [t.a.toString('hex')]: ProfileState.disabled, [t.b.toString('hex')]: ProfileState.disabled });
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'enable', value: { iccid: t.a } }], { counter: 1 })), [{ type: 'enableResult', value: 0 }], 'counter 1 unspent');
    });

    it('a package of an eIM that is not associated: EuiccPackageErrorUnsigned without a token', () => {
      const t = iotRig(curve, { profiles: false });
      const stranger = new TestEim('stranger.example.com', curve);
      assert.deepEqual(unsignedError(t.r.client.command(stranger.psmos(t.eid, [{ type: 'getRAT', value: {} }]))), { eimId: 'stranger.example.com' });
    });

    it('package for another EID: EuiccPackageErrorSigned invalidEid (3), nothing written', () => {
      const t = iotRig(curve, { profiles: false });
      const before = generation(t.r);
      const other = Buffer.from(t.eid);
      other[15] = other[15]! ^ 0x01;
      const v = load(t, t.eim.psmos(t.eid, [{ type: 'getRAT', value: {} }], { eid: other, eimTransactionId: TX }));
      assert.deepEqual(v, { kind: 'error', eimId: 'eim.example.com', counterValue: 1, eimTransactionId: TX, code: EuiccPackageErrorCode.invalidEid });
      assert.equal(generation(t.r), before);
    });

    it('replayed counter: replayError (4), also after a restart; a lower counter too', () => {
      const t = iotRig(curve, { profiles: false });
      const request = t.eim.psmos(t.eid, [{ type: 'getRAT', value: {} }]);
      assert.equal(load(t, request).kind, 'result');
      const before = generation(t.r);
      assert.equal(errorCode(t, request), EuiccPackageErrorCode.replayError);
      t.r.reopen();
      assert.equal(errorCode(t, request), EuiccPackageErrorCode.replayError);
      assert.equal(errorCode(t, t.eim.psmos(t.eid, [{ type: 'getRAT', value: {} }], { counter: 0 })), EuiccPackageErrorCode.replayError);
      assert.equal(generation(t.r), before);
      assert.equal(load(t, t.eim.psmos(t.eid, [{ type: 'getRAT', value: {} }], { counter: 7 })).kind, 'result', 'gaps are allowed');
    });

    it('counter beyond range: counterValueOutOfRange (6); the highest counter is accepted once', () => {
      const t = iotRig(curve, { profiles: false });
      assert.equal(errorCode(t, t.eim.psmos(t.eid, [{ type: 'getRAT', value: {} }], { counter: MAX_COUNTER + 1 })), EuiccPackageErrorCode.counterValueOutOfRange);
      assert.equal(errorCode(t, t.eim.psmos(t.eid, [{ type: 'getRAT', value: {} }], { counter: 2 ** 40 })), EuiccPackageErrorCode.counterValueOutOfRange);
      assert.equal(load(t, t.eim.psmos(t.eid, [{ type: 'getRAT', value: {} }], { counter: MAX_COUNTER })).kind, 'result');
      assert.equal(errorCode(t, t.eim.psmos(t.eid, [{ type: 'getRAT', value: {} }], { counter: MAX_COUNTER })), EuiccPackageErrorCode.replayError);
    });

    it('package signed under an old association token: EuiccPackageErrorUnsigned naming the current token', () => {
      const t = iotRig(curve, { profiles: false });
      const helper = new TestEim('helper.example.com', curve);
      const added = run(t, t.eim.ecos(t.eid, [{ type: 'addEim', value: helper.config() }]));
      assert.deepEqual(added, [{ type: 'addEimResult', value: { type: 'associationToken', value: 2 } }]);
      helper.token = 2;
      const h: IotRig = { ...t, eim: helper };
      // The helper deletes the eIM and associates it again: a new association, token 3, counter from 0.
      assert.deepEqual(run(h, helper.ecos(t.eid, [{ type: 'deleteEim', value: { eimId: t.eim.eimId } }, { type: 'addEim', value: t.eim.config() }])), [
        { type: 'deleteEimResult', value: DeleteEimResult.ok },
        { type: 'addEimResult', value: { type: 'associationToken', value: 3 } },
      ]);
      // A package of the old association (token 1), with a counter the new association has not seen.
      const old = t.eim.psmos(t.eid, [{ type: 'getRAT', value: {} }], { counter: 50, token: 1 });
      assert.deepEqual(unsignedError(t.r.client.command(old)), { eimId: t.eim.eimId, associationToken: 3 });
      t.eim.token = 3;
      assert.equal(load(t, t.eim.psmos(t.eid, [{ type: 'getRAT', value: {} }], { counter: 1 })).kind, 'result');
    });

    it('eCO without a signature after association: refused (empty signature: EuiccPackageErrorUnsigned; no signature: 6A80)', () => {
      const t = iotRig(curve, { profiles: false });
      const intruder = new TestEim('intruder.example.com', curve);
      const before = generation(t.r);
      const unsigned = t.eim.ecos(t.eid, [{ type: 'addEim', value: intruder.config() }], { signature: Buffer.alloc(0) });
      assert.deepEqual(unsignedError(t.r.client.command(unsigned)), { eimId: t.eim.eimId, associationToken: t.eim.token });
      // The same package without its 5F37 element: not an EuiccPackageRequest.
      const bare = encodeTlv(0xbf51, decodeTlv(unsigned).children![0]!.raw);
      assert.throws(() => t.r.client.command(bare), (e: unknown) => e instanceof StatusWordError && e.sw === 0x6a80);
      assert.equal(generation(t.r), before);
      assert.deepEqual(eimConfigs(t.r).map((c) => c.eimId), [t.eim.eimId]);
    });

    it('two enables in one package: the second fails (undefinedError 127) and ends the package; the first is applied', () => {
      const t = iotRig(curve);
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'enable', value: { iccid: t.a } }, { type: 'enable', value: { iccid: t.b } }, { type: 'getRAT', value: {} }])), [
        { type: 'enableResult', value: EnableProfileResult.ok },
        { type: 'enableResult', value: EnableProfileResult.undefinedError },
      ]);
      assert.deepEqual(states(t), { [t.a.toString('hex')]: ProfileState.enabled, [t.b.toString('hex')]: ProfileState.disabled });
    });

    it('operations after an enable that the rules forbid: listProfileInfo (11), disable (127), delete of the rollback profile (20)', () => {
      const t = iotRig(curve, { enabled: true });
      const enableB = { type: 'enable' as const, value: { iccid: t.b, rollbackFlag: null } };
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [enableB, { type: 'listProfileInfo', value: {} }])), [
        { type: 'enableResult', value: 0 },
        { type: 'listProfileInfoResult', value: { type: 'profileInfoListError', value: ProfileInfoListError.profileChangeOngoing } },
      ]);
      const enableA = { type: 'enable' as const, value: { iccid: t.a, rollbackFlag: null } };
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [enableA, { type: 'disable', value: { iccid: t.a } }])), [
        { type: 'enableResult', value: 0 },
        { type: 'disableResult', value: DisableProfileResult.undefinedError },
      ]);
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [enableB, { type: 'delete', value: { iccid: t.a } }])), [
        { type: 'enableResult', value: 0 },
        { type: 'deleteResult', value: DeleteProfileResult.rollbackNotAvailable },
      ]);
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'enable', value: { iccid: t.a } }, { type: 'delete', value: { iccid: t.b } }])), [
        { type: 'enableResult', value: 0 },
        { type: 'deleteResult', value: DeleteProfileResult.ok },
      ], 'without rollback the disabled profile may be deleted after the enable');
    });

    it('enable of a profile that is not disabled: profileNotInDisabledState (2); unknown ICCID (1); rollback with nothing enabled (20)', () => {
      const t = iotRig(curve, { enabled: true });
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'enable', value: { iccid: t.a } }])), [{ type: 'enableResult', value: EnableProfileResult.profileNotInDisabledState }]);
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'enable', value: { iccid: Buffer.alloc(10, 0x98) } }])), [{ type: 'enableResult', value: EnableProfileResult.iccidOrAidNotFound }]);
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'disable', value: { iccid: t.a } }, { type: 'enable', value: { iccid: t.b, rollbackFlag: null } }])), [
        { type: 'disableResult', value: 0 },
        { type: 'enableResult', value: EnableProfileResult.rollbackNotAvailable },
      ]);
    });

    it('delete of the enabled profile: profileNotInDisabledState (2), the profile stays', () => {
      const t = iotRig(curve, { enabled: true });
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'delete', value: { iccid: t.a } }])), [{ type: 'deleteResult', value: DeleteProfileResult.profileNotInDisabledState }]);
      assert.equal(states(t)[t.a.toString('hex')], ProfileState.enabled);
    });
  });

  describe(`IoT eUICC on ${curve}: eCOs, ProfileRollback, EuiccMemoryReset`, () => {
    it('addEim, listEim, updateEim (key rotation, counter rules), deleteEim; deleteEim of the last eIM: lastEimDeleted (2)', () => {
      const t = iotRig(curve, { profiles: false });
      const second = new TestEim('second.example.com', curve);
      assert.deepEqual(run(t, t.eim.ecos(t.eid, [{ type: 'addEim', value: second.config({ eimIdType: 2 }) }, { type: 'listEim', value: {} }])), [
        { type: 'addEimResult', value: { type: 'associationToken', value: 2 } },
        { type: 'listEimResult', value: { type: 'eimIdList', value: [{ eimId: t.eim.eimId }, { eimId: second.eimId, eimIdType: 2 }] } },
      ]);
      assert.deepEqual(run(t, t.eim.ecos(t.eid, [{ type: 'addEim', value: second.config() }])), [
        { type: 'addEimResult', value: { type: 'addEimResultCode', value: AddEimResultCode.associatedEimAlreadyExists } },
      ]);
      second.token = 2;
      const s: IotRig = { ...t, eim: second };
      // Key rotation of the first eIM by itself: its next package verifies with the new key only.
      const oldKey = t.eim.privateKey;
      const newKeyData = t.eim.rotateKey();
      const newKey = t.eim.privateKey;
      t.eim.privateKey = oldKey;
      assert.deepEqual(run(t, t.eim.ecos(t.eid, [{ type: 'updateEim', value: { eimId: t.eim.eimId, eimPublicKeyData: newKeyData } }])), [{ type: 'updateEimResult', value: 0 }]);
      assert.equal(unsignedError(t.r.client.command(t.eim.ecos(t.eid, [{ type: 'listEim', value: {} }]))).associationToken, 1, 'the old key no longer verifies');
      t.eim.privateKey = newKey;
      assert.equal(load(t, t.eim.ecos(t.eid, [{ type: 'listEim', value: {} }])).kind, 'result', 'the new key verifies');
      const cases: [EimConfigurationData, number][] = [
        [{ eimId: 'unknown.example.com' }, UpdateEimResult.eimNotFound],
        [{ eimId: second.eimId, associationToken: 9 }, UpdateEimResult.commandError],
        [{ eimId: second.eimId, counterValue: 0 }, UpdateEimResult.counterValueOutOfRange],
        [{ eimId: second.eimId, counterValue: MAX_COUNTER + 1 }, UpdateEimResult.counterValueOutOfRange],
        [{ eimId: second.eimId, euiccCiPKId: Buffer.alloc(20, 3) }, UpdateEimResult.ciPKUnknown],
      ];
      for (const [eco, code] of cases) assert.deepEqual(run(s, second.ecos(t.eid, [{ type: 'updateEim', value: eco }])), [{ type: 'updateEimResult', value: code }], JSON.stringify(eco));
      assert.deepEqual(run(s, second.ecos(t.eid, [{ type: 'updateEim', value: { eimId: second.eimId, eimFqdn: 'new.example.com', counterValue: 100 } }])), [{ type: 'updateEimResult', value: 0 }]);
      assert.equal(eimConfigs(t.r, second.eimId)[0]!.eimFqdn, 'new.example.com');
      second.counter = 100;
      assert.equal(errorCode(s, second.ecos(t.eid, [{ type: 'listEim', value: {} }], { counter: 100 })), EuiccPackageErrorCode.replayError, 'the counter was raised');
      assert.deepEqual(run(s, second.ecos(t.eid, [{ type: 'deleteEim', value: { eimId: t.eim.eimId } }, { type: 'deleteEim', value: { eimId: 'none' } }])), [
        { type: 'deleteEimResult', value: DeleteEimResult.ok },
        { type: 'deleteEimResult', value: DeleteEimResult.eimNotFound },
      ]);
      // The last eIM deletes itself: done, answered lastEimDeleted and signed under its token; AddInitialEim works again.
      assert.deepEqual(run(s, second.ecos(t.eid, [{ type: 'deleteEim', value: { eimId: second.eimId } }])), [
        { type: 'deleteEimResult', value: DeleteEimResult.lastEimDeleted },
      ]);
      assert.deepEqual(eimConfigs(t.r), []);
      const next = new TestEim('next.example.com', curve);
      addInitialEim(t.r.client, [next]);
      assert.equal(next.token, 3, 'association tokens are never reused');
    });

    it('ProfileRollback: after an enable with rollbackFlag, back to the previous profile with a signed rollbackResult; once only', () => {
      const t = iotRig(curve, { enabled: true });
      const rollback = (): { cmdResult: number; eUICCPackageResult?: EuiccPackageResult } =>
        decode(ProfileRollbackResponse, t.r.client.command(encode(ProfileRollbackRequest, { refreshFlag: false })));
      assert.deepEqual(rollback(), { cmdResult: ProfileRollbackResult.rollbackNotAllowed }, 'no grant: the enable of A had no rollbackFlag');
      const counter = t.eim.counter + 1;
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'enable', value: { iccid: t.b, rollbackFlag: null } }], { eimTransactionId: TX })), [{ type: 'enableResult', value: 0 }]);
      t.r.reopen();
      const answer = rollback();
      assert.equal(answer.cmdResult, ProfileRollbackResult.ok);
      const v = verifyResult(encode(EuiccPackageResult, answer.eUICCPackageResult!), euiccKey(t.r), t.eim.token);
      assert.deepEqual({ ...v, seqNumber: 0 }, { kind: 'result', eimId: t.eim.eimId, counterValue: counter, eimTransactionId: TX, seqNumber: 0, results: [{ type: 'rollbackResult', value: 0 }] });
      assert.deepEqual(states(t), { [t.a.toString('hex')]: ProfileState.enabled, [t.b.toString('hex')]: ProfileState.disabled });
      assert.deepEqual(rollback(), { cmdResult: ProfileRollbackResult.rollbackNotAllowed });
      // A grant lapses as soon as the eIM reaches the eUICC with another package.
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'enable', value: { iccid: t.b, rollbackFlag: null } }])), [{ type: 'enableResult', value: 0 }]);
      run(t, t.eim.psmos(t.eid, [{ type: 'getRAT', value: {} }]));
      assert.deepEqual(rollback(), { cmdResult: ProfileRollbackResult.rollbackNotAllowed });
    });

    it('EuiccMemoryReset (BF64) with resetEimConfigData: profiles and eIMs gone, AddInitialEim possible again; nothing left: nothingToDelete', () => {
      const t = iotRig(curve, { enabled: true });
      const reset = (bits: number[]) => decode(EuiccMemoryResetResponse, t.r.client.command(encode(EuiccMemoryResetRequest, { resetOptions: namedBitString(bits) })));
      assert.deepEqual(reset([ResetOption.deleteOperationalProfiles, ResetOption.resetEimConfigData, ResetOption.resetImmediateEnableConfig]), {
        resetResult: 0,
        resetEimResult: 0,
        resetImmediateEnableConfigResult: 0,
      });
      assert.deepEqual(profiles(t.r.client), []);
      assert.deepEqual(eimConfigs(t.r), []);
      assert.deepEqual(reset([ResetOption.deleteOperationalProfiles, ResetOption.resetEimConfigData]), { resetResult: 1, resetEimResult: 1 });
      assert.deepEqual(reset([ResetOption.deleteOperationalProfiles]), { resetResult: 1 });
      const next = new TestEim('next.example.com', curve);
      addInitialEim(t.r.client, [next]);
      assert.equal(next.token, 2);
      assert.deepEqual(unsignedError(t.r.client.command(t.eim.psmos(t.eid, [{ type: 'getRAT', value: {} }]))), { eimId: t.eim.eimId });
    });
  });

  describe(`IoT eUICC on ${curve}: ConfigureImmediateProfileEnabling, ImmediateEnable, ExecuteFallbackMechanism, ReturnFromFallback`, () => {
    const configure = (r: Rig, config: ConfigureImmediateEnable): number =>
      decode(ConfigureImmediateProfileEnablingResponse, r.client.command(encode(ConfigureImmediateProfileEnablingRequest, config))).configImmediateEnableResult;
    const immediate = (r: Rig): number => decode(ImmediateEnableResponse, r.client.command(encode(ImmediateEnableRequest, { refreshFlag: false }))).immediateEnableResult;
    const smdpOidOf = (pir: ProfileInstallationResult): string => pir.profileInstallationResultData.value.smdpOid;
    const stateOf = (r: Rig): Record<string, number | undefined> => Object.fromEntries(profiles(r.client).map((p) => [p.iccid!.toString('hex'), p.profileState]));

    it('ImmediateEnable enables the profile just downloaded only as configured (flag, SM-DP+ OID), once, and not after a restart', () => {
      const r = makeRig({ curve });
      assert.equal(immediate(r), ImmediateEnableResult.noSessionContext, 'nothing downloaded');
      const pirA = downloadTs48(r, 'TS48V1-A-UNIQUE');
      assertSuccess(pirA);
      const [a] = r.euicc.profiles.map((p) => p.iccid.toString('hex'));
      assert.equal(immediate(r), ImmediateEnableResult.immediateEnableNotAvailable, 'no Immediate Enable configuration');
      assert.equal(immediate(r), ImmediateEnableResult.noSessionContext, 'the session context is used once');

      assert.equal(configure(r, { defaultSmdpOid: smdpOidOf(pirA) }), ConfigImmediateEnableResult.ok);
      assertSuccess(downloadTs48(r, 'TS48V1-B-UNIQUE'));
      assert.equal(immediate(r), ImmediateEnableResult.immediateEnableNotAvailable, 'configured without immediateEnableFlag');

      assert.equal(configure(r, { immediateEnableFlag: null, defaultSmdpOid: '2.999.77.1' }), ConfigImmediateEnableResult.ok);
      assertSuccess(downloadTs48(r, 'TS48V2-SAIP2-1-BERTLV-UNIQUE'));
      assert.equal(immediate(r), ImmediateEnableResult.immediateEnableNotAvailable, 'bound by another SM-DP+ than defaultSmdpOid');

      assert.equal(configure(r, { immediateEnableFlag: null, defaultSmdpOid: smdpOidOf(pirA), defaultSmdpAddress: 'smdp.example.com' }), ConfigImmediateEnableResult.ok);
      assertSuccess(downloadTs48(r, 'TS48V2-SAIP2-3-NOBERTLV-UNIQUE'));
      r.reopen();
      assert.equal(immediate(r), ImmediateEnableResult.noSessionContext, 'a restart ends the session context');

      assertSuccess(downloadTs48(r, 'TS48V3-SAIP2-3-BERTLV-UNIQUE'));
      const e = r.euicc.profiles.at(-1)!.iccid.toString('hex');
      assert.equal(immediate(r), ImmediateEnableResult.ok);
      assert.equal(stateOf(r)[e], ProfileState.enabled);
      assert.equal(immediate(r), ImmediateEnableResult.noSessionContext);
      // The next one replaces the enabled profile; the enabled one is disabled.
      assertSuccess(downloadTs48(r, 'TS48V5-SAIP2-3-BERTLV-SUCI-UNIQUE'));
      const f = r.euicc.profiles.at(-1)!.iccid.toString('hex');
      assert.equal(immediate(r), ImmediateEnableResult.ok);
      r.reopen();
      assert.deepEqual([stateOf(r)[a!], stateOf(r)[e], stateOf(r)[f]], [ProfileState.disabled, ProfileState.disabled, ProfileState.enabled], 'sealed');
    });

    it('ConfigureImmediateProfileEnabling once an eIM is associated: associatedEimAlreadyExists (2), nothing written; the eIM configures it by PSMO', () => {
      const t = iotRig(curve, { profiles: false });
      const before = generation(t.r);
      assert.equal(configure(t.r, { immediateEnableFlag: null }), ConfigImmediateEnableResult.associatedEimAlreadyExists);
      assert.equal(generation(t.r), before);
      assertSuccess(downloadTs48(t.r, 'TS48V1-A-UNIQUE'));
      assert.equal(immediate(t.r), ImmediateEnableResult.immediateEnableNotAvailable);
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'configureImmediateEnable', value: { immediateEnableFlag: null } }])), [
        { type: 'configureImmediateEnableResult', value: 0 },
      ]);
      assertSuccess(downloadTs48(t.r, 'TS48V1-B-UNIQUE'));
      assert.equal(immediate(t.r), ImmediateEnableResult.ok, 'no defaultSmdpOid: any SM-DP+');
      assert.equal(stateOf(t.r)[t.r.euicc.profiles[1]!.iccid.toString('hex')], ProfileState.enabled);
    });

    it('Fallback Mechanism: refusals with their codes, execute, delete of the profile to return to refused, return after a restart; nothing written when refused', () => {
      const t = iotRig(curve, { enabled: true });
      const execute = (): number =>
        decode(ExecuteFallbackMechanismResponse, t.r.client.command(encode(ExecuteFallbackMechanismRequest, { refreshFlag: false }))).executeFallbackMechanismResult;
      const back = (): number => decode(ReturnFromFallbackResponse, t.r.client.command(encode(ReturnFromFallbackRequest, { refreshFlag: true }))).returnFromFallbackResult;
      let before = generation(t.r);
      assert.equal(execute(), ExecuteFallbackMechanismResult.fallbackNotAvailable, 'no Fallback Attribute');
      assert.equal(back(), ReturnFromFallbackResult.fallbackNotAvailable);
      assert.equal(generation(t.r), before);

      // A profile whose owner allows fallback (SGP.32 fallbackAllowed, 9F67, in its metadata) takes the attribute.
      assertSuccess(downloadTs48(t.r, 'TS48V2-SAIP2-1-BERTLV-UNIQUE', { fallbackAllowed: true }));
      const c = t.r.euicc.profiles.at(-1)!.iccid;
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'setFallbackAttribute', value: { iccid: c } }, { type: 'listProfileInfo', value: {} }]))[0], {
        type: 'setFallbackAttributeResult',
        value: SetFallbackAttributeResult.ok,
      });
      before = generation(t.r);
      assert.equal(back(), ReturnFromFallbackResult.commandError, 'not in fallback');
      assert.equal(generation(t.r), before);

      assert.equal(execute(), ExecuteFallbackMechanismResult.ok);
      assert.deepEqual(states(t), { [t.a.toString('hex')]: ProfileState.disabled, [t.b.toString('hex')]: ProfileState.disabled, [c.toString('hex')]: ProfileState.enabled });
      before = generation(t.r);
      assert.equal(execute(), ExecuteFallbackMechanismResult.profileNotInDisabledState, 'already in fallback');
      assert.equal(generation(t.r), before);
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'unsetFallbackAttribute', value: {} }])), [
        { type: 'unsetFallbackAttributeResult', value: UnsetFallbackAttributeResult.fallbackProfileEnabled },
      ]);
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'delete', value: { iccid: t.a } }])), [
        { type: 'deleteResult', value: DeleteProfileResult.returnFallbackProfile },
      ]);

      t.r.reopen();
      assert.equal(back(), ReturnFromFallbackResult.ok, 'the profile to return to is sealed');
      assert.deepEqual(states(t), { [t.a.toString('hex')]: ProfileState.enabled, [t.b.toString('hex')]: ProfileState.disabled, [c.toString('hex')]: ProfileState.disabled });
      assert.equal(back(), ReturnFromFallbackResult.commandError, 'returned already');

      // Profiles changed by the eIM while in fallback: the return is refused and forgotten.
      assert.equal(execute(), ExecuteFallbackMechanismResult.ok);
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'enable', value: { iccid: t.b } }])), [{ type: 'enableResult', value: 0 }]);
      assert.equal(back(), ReturnFromFallbackResult.commandError);
      assert.deepEqual(run(t, t.eim.psmos(t.eid, [{ type: 'delete', value: { iccid: t.a } }])), [{ type: 'deleteResult', value: 0 }], 'no longer a profile to return to');
      assert.equal(stateOf(t.r)[t.b.toString('hex')], ProfileState.enabled);
    });

    it('ExecuteFallbackMechanism with no profile enabled enables the Fallback Profile; ReturnFromFallback then has nothing to return to: commandError (7)', () => {
      const t = iotRig(curve);
      assertSuccess(downloadTs48(t.r, 'TS48V2-SAIP2-1-BERTLV-UNIQUE', { fallbackAllowed: true }));
      const c = t.r.euicc.profiles.at(-1)!.iccid;
      run(t, t.eim.psmos(t.eid, [{ type: 'setFallbackAttribute', value: { iccid: c } }]));
      assert.equal(decode(ExecuteFallbackMechanismResponse, t.r.client.command(encode(ExecuteFallbackMechanismRequest, { refreshFlag: false }))).executeFallbackMechanismResult, 0);
      assert.equal(stateOf(t.r)[c.toString('hex')], ProfileState.enabled);
      assert.equal(decode(ReturnFromFallbackResponse, t.r.client.command(encode(ReturnFromFallbackRequest, { refreshFlag: false }))).returnFromFallbackResult, ReturnFromFallbackResult.commandError);
      assert.equal(stateOf(t.r)[c.toString('hex')], ProfileState.enabled);
    });
  });
}
