// SGP.22 v2.5 2.4.2 (ISD-R) and 5.7 (ES10a, ES10b, ES10c over STORE DATA): the software eUICC, its sealed state and its card application.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { McimError } from '../errors.js';
import { parseCertificate } from '../pki/certificate.js';
import type { TestPki } from '../pki/testPki.js';
import { ISD_R_AID, type Card } from './card.js';
import {
  EuiccCore,
  initialState,
  type EuiccIdentity,
  type EuiccRuntimeOptions,
  type EuiccSettings,
  type PersistedState,
  type StoredProfile,
} from './core.js';
import { SealedStateFile, type SealedMemory } from './sealedState.js';
import type { CardApplication, CommandHandler, StreamingHandler } from './storeData.js';
import { getEuiccConfiguredAddresses } from './es10a/getEuiccConfiguredAddresses.js';
import { setDefaultDpAddress } from './es10a/setDefaultDpAddress.js';
import { authenticateServer } from './es10b/authenticateServer.js';
import { cancelSession } from './es10b/cancelSession.js';
import { getEuiccChallenge } from './es10b/getEuiccChallenge.js';
import { getEuiccInfo1 } from './es10b/getEuiccInfo1.js';
import { getEuiccInfo2 } from './es10b/getEuiccInfo2.js';
import { getRat } from './es10b/getRat.js';
import { listNotification } from './es10b/listNotification.js';
import { LoadBoundProfilePackage } from './es10b/loadBoundProfilePackage.js';
import { loadCrl } from './es10b/loadCrl.js';
import { prepareDownload } from './es10b/prepareDownload.js';
import { removeNotificationFromList } from './es10b/removeNotificationFromList.js';
import { retrieveNotificationsList } from './es10b/retrieveNotificationsList.js';
import { deleteProfile } from './es10c/deleteProfile.js';
import { disableProfile } from './es10c/disableProfile.js';
import { enableProfile } from './es10c/enableProfile.js';
import { euiccMemoryReset } from './es10c/euiccMemoryReset.js';
import { getEid } from './es10c/getEid.js';
import { getProfilesInfo } from './es10c/getProfilesInfo.js';
import { setNickname } from './es10c/setNickname.js';
import { addInitialEim } from './iot/addInitialEim.js';
import { configureImmediateProfileEnabling } from './iot/configureImmediateProfileEnabling.js';
import { euiccMemoryReset as iotEuiccMemoryReset } from './iot/euiccMemoryReset.js';
import { executeFallbackMechanism } from './iot/executeFallbackMechanism.js';
import { getCerts } from './iot/getCerts.js';
import { getEimConfigurationData } from './iot/getEimConfigurationData.js';
import { immediateEnable } from './iot/immediateEnable.js';
import { loadEuiccPackage } from './iot/loadEuiccPackage.js';
import { profileRollback } from './iot/profileRollback.js';
import { returnFromFallback } from './iot/returnFromFallback.js';
import { UsimFiles } from './usim/usimFiles.js';

export type { EuiccIdentity, EuiccRuntimeOptions, EuiccSettings, StoredProfile, UsimState } from './core.js';

export type EuiccCreateOptions = EuiccSettings & EuiccRuntimeOptions;

/** The ES10 functions by the tag of their command (SGP.22 5.7, RSPDefinitions; SGP.32 5.9, SGP32Definitions). */
const FUNCTIONS: readonly (readonly [number, (core: EuiccCore, command: Buffer) => Buffer])[] = [
  [0xbf3c, getEuiccConfiguredAddresses],
  [0xbf3f, setDefaultDpAddress],
  [0xbf2e, getEuiccChallenge],
  [0xbf20, getEuiccInfo1],
  [0xbf22, getEuiccInfo2],
  [0xbf38, authenticateServer],
  [0xbf21, prepareDownload],
  [0xbf41, cancelSession],
  [0xbf28, listNotification],
  [0xbf2b, retrieveNotificationsList],
  [0xbf30, removeNotificationFromList],
  [0xbf35, loadCrl],
  [0xbf43, getRat],
  [0xbf3e, getEid],
  [0xbf2d, getProfilesInfo],
  [0xbf31, enableProfile],
  [0xbf32, disableProfile],
  [0xbf33, deleteProfile],
  [0xbf34, euiccMemoryReset],
  [0xbf29, setNickname],
  [0xbf51, loadEuiccPackage],
  [0xbf55, getEimConfigurationData],
  [0xbf56, getCerts],
  [0xbf57, addInitialEim],
  [0xbf58, profileRollback],
  [0xbf59, configureImmediateProfileEnabling],
  [0xbf5a, immediateEnable],
  [0xbf5d, executeFallbackMechanism],
  [0xbf5e, returnFromFallback],
  [0xbf64, iotEuiccMemoryReset],
];

/**
 * A software eUICC. Its state (identity, profiles with their USIM credentials, notifications, settings) lives in a
 * SealedStateFile and is saved after every state-changing command; the RSP session (challenge, one-time keys) lives
 * in memory only. attach() installs its ISD-R on a Card, through which every ES10 function is reached.
 */
export class Euicc {
  readonly #core: EuiccCore;
  readonly #application: CardApplication;
  readonly #files: UsimFiles;

  private constructor(core: EuiccCore) {
    this.#core = core;
    this.#files = new UsimFiles(core);
    const handlers = new Map<number, CommandHandler>(FUNCTIONS.map(([tag, fn]) => [tag, (command: Buffer) => fn(core, command)]));
    const streaming = new Map<number, StreamingHandler>([[0xbf36, new LoadBoundProfilePackage(core)]]);
    this.#application = { handlers, streamingHandlers: streaming };
  }

  /** Personalises a new eUICC into `stateFile` (which must not exist yet), or into a SealedMemory. */
  static create(stateFile: string | SealedMemory, deviceSecret: Uint8Array, identity: EuiccIdentity, options: EuiccCreateOptions = {}): Euicc {
    const file = new SealedStateFile<PersistedState>(stateFile, deviceSecret);
    if (file.load() !== undefined) throw new McimError('FILE_EXISTS', `${file.path} already holds an eUICC`);
    const state = initialState(identity, options);
    file.save(state);
    return new Euicc(new EuiccCore(file, state, options));
  }

  /** Reopens an eUICC from its sealed state (SealedStateError TAMPERED when the file is not intact). */
  static open(stateFile: string | SealedMemory, deviceSecret: Uint8Array, options: EuiccRuntimeOptions = {}): Euicc {
    const file = new SealedStateFile<PersistedState>(stateFile, deviceSecret);
    const loaded = file.load();
    if (loaded === undefined) throw new McimError('NOT_FOUND', `${file.path} does not exist`);
    if (loaded.state.format !== 1) throw new McimError('UNSUPPORTED_FORMAT', `${file.path} has state format ${String(loaded.state.format)}`);
    return new Euicc(new EuiccCore(file, loaded.state, options));
  }

  get eid(): string {
    return this.#core.eid;
  }

  /** The installed profiles (read-only snapshot). */
  get profiles(): readonly StoredProfile[] {
    return this.#core.state.profiles;
  }

  /** The ISD-R as a card application: ES10 handlers by command tag, and the BF36 streaming handler. */
  get application(): CardApplication {
    return this.#application;
  }

  /** Registers the ISD-R on `card` under its AID (SGP.22 2.2.3) and puts the enabled profile's USIM file system behind it. */
  attach(card: Card): void {
    card.registerApplication(Buffer.from(ISD_R_AID, 'hex'), this.#application);
    card.attachFileSystem(this.#files);
  }
}

/** The eUICC identity of a test PKI (src/pki/testPki.ts): its eUICC, EUM and CI. */
export function identityFromTestPki(pki: TestPki, extraCis: readonly TestPki[] = []): EuiccIdentity {
  return {
    eid: pki.eid,
    euiccCertificate: pki.euicc.der,
    euiccPrivateKey: pki.euicc.privateKey,
    eumCertificate: pki.eum.der,
    ciCertificates: [pki.ci.der, ...extraCis.map((p) => p.ci.der)],
  };
}

/**
 * The eUICC identity of the SGP.26 test certificates in `dir` (eUICC/, EUM/, CertificateIssuer/): NIST P-256 or
 * brainpoolP256r1. Both SGP.26 CIs are trusted for verification.
 */
export function identityFromSgp26(dir: string, curve: 'NIST' | 'BRP'): EuiccIdentity {
  const euiccCertificate = readFileSync(join(dir, 'eUICC', `CERT_EUICC_ECDSA_${curve}.der`));
  const eid = parseCertificate(euiccCertificate).eid;
  if (eid === undefined) throw new McimError('INVALID_ARGUMENT', 'the SGP.26 eUICC certificate carries no EID');
  return {
    eid,
    euiccCertificate,
    euiccPrivateKey: createPrivateKey(readFileSync(join(dir, 'eUICC', `SK_EUICC_ECDSA_${curve}.pem`))),
    eumCertificate: readFileSync(join(dir, 'EUM', `CERT_EUM_ECDSA_${curve}.der`)),
    ciCertificates: (['NIST', 'BRP'] as const).map((c) => readFileSync(join(dir, 'CertificateIssuer', `CERT_CI_ECDSA_${c}.der`))),
  };
}
