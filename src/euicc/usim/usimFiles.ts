// ETSI TS 102 221 (UICC file system commands) and 3GPP TS 31.102 7 (USIM commands) on the eUICC's card interface: the enabled profile's MF and ADF.USIM.
import { encodeImsi } from '../../asn1/definitions/saip.js';
import type { CardFileSystem } from '../card.js';
import { CardError, type CommandApdu } from '../apdu.js';
import type { EuiccCore, StoredProfile } from '../core.js';
import { authenticate } from './authenticate.js';
import { essentialFileSystem, type ProfileFileSystem } from './fileSystem.js';
import { readBinary } from './readBinary.js';
import { readRecord } from './readRecord.js';
import { FileSelection, select } from './select.js';

const INS_READ_BINARY = 0xb0;
const INS_READ_RECORD = 0xb2;
const INS_UPDATE_BINARY = 0xd6;
const INS_UPDATE_RECORD = 0xdc;
const INS_AUTHENTICATE = 0x88;

/** Built once per stored profile value (a committed state replaces the object, so a stale one is never found). */
const fallbackFileSystems = new WeakMap<StoredProfile, ProfileFileSystem>();

/** The file system the profile serves: the one kept at installation, or the essential one of an older profile. */
function fileSystemOf(profile: StoredProfile): ProfileFileSystem {
  if (profile.usim.fileSystem !== undefined) return profile.usim.fileSystem;
  let fs = fallbackFileSystems.get(profile);
  if (fs === undefined) {
    const imsi = profile.usim.essentials.imsi;
    fs = essentialFileSystem(profile.iccid, imsi !== undefined ? encodeImsi(imsi) : undefined);
    fallbackFileSystems.set(profile, fs);
  }
  return fs;
}

/**
 * The eUICC's UICC file system: only the enabled profile's files exist. A channel's selection belongs to the profile
 * enabled when it was made; after an enable switch (or with no profile enabled) it is gone and the channel starts
 * again from the MF of the enabled profile. Access conditions: reads are allowed as if PIN1 were verified (PIN
 * verification is not offered); UPDATE BINARY / UPDATE RECORD need ADM, which the card interface never grants (6982).
 */
export class UsimFiles implements CardFileSystem {
  readonly instructions: ReadonlySet<number> = new Set([INS_READ_BINARY, INS_READ_RECORD, INS_UPDATE_BINARY, INS_UPDATE_RECORD, INS_AUTHENTICATE]);
  readonly #core: EuiccCore;

  constructor(core: EuiccCore) {
    this.#core = core;
  }

  #enabled(): StoredProfile | undefined {
    return this.#core.state.profiles.find((p) => p.state === 'enabled');
  }

  /** The channel's selection if it is in the enabled profile, else a fresh one at its MF. */
  static #current(current: unknown, profile: StoredProfile): FileSelection {
    return current instanceof FileSelection && current.isdpAid.equals(profile.isdpAid) ? current : FileSelection.initial(profile.isdpAid);
  }

  select(current: unknown, command: CommandApdu): { selection: unknown; response: Buffer } {
    const profile = this.#enabled();
    if (profile === undefined) throw new CardError('FILE_NOT_FOUND', 'no profile is enabled: no file system to select in');
    return select(fileSystemOf(profile), UsimFiles.#current(current, profile), command);
  }

  execute(current: unknown, command: CommandApdu): { selection: unknown; response: Buffer } {
    const profile = this.#enabled();
    switch (command.ins) {
      case INS_UPDATE_BINARY:
      case INS_UPDATE_RECORD:
        throw new CardError('SECURITY_STATUS_NOT_SATISFIED', 'UPDATE needs the ADM access condition, not granted on the card interface');
      case INS_AUTHENTICATE: {
        if (profile === undefined || !(current instanceof FileSelection) || !current.isdpAid.equals(profile.isdpAid) || !current.usimActive) {
          throw new CardError('CONDITIONS_OF_USE_NOT_SATISFIED', 'AUTHENTICATE needs ADF.USIM of the enabled profile selected on the channel');
        }
        return { selection: current, response: authenticate(this.#core, profile, fileSystemOf(profile), command) };
      }
      default: {
        if (profile === undefined) throw new CardError('NO_EF_SELECTED', 'no profile is enabled: no current EF');
        const read = command.ins === INS_READ_BINARY ? readBinary : readRecord;
        return read(fileSystemOf(profile), UsimFiles.#current(current, profile), command);
      }
    }
  }
}
