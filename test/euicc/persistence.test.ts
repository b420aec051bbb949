// The eUICC's sealed state (SGP.22 2.4 protected storage, DESIGN.md atomic state): reopen, tamper detection, and crash at every STORE DATA of a BPP load.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Euicc, identityFromTestPki } from '../../src/euicc/euicc.js';
import { SealedStateError } from '../../src/euicc/sealedState.js';
import { send } from './cardHelpers.js';
import { Es10Client } from './es10Client.js';
import { assertSuccess, download, downloadTs48, prepare, profiles, ts48, rigsCleanedAfter } from './harness.js';
import { assembleBpp, metadataFor } from './smdpSimulator.js';

const newRig = rigsCleanedAfter();

const NAME = 'TS48V1-A-UNIQUE';
const UPP = ts48(NAME);
const METADATA = metadataFor(UPP, NAME);

describe('sealed state', () => {
  it('keeps profiles, credentials and notifications across a reopen', () => {
    const r = newRig();
    assertSuccess(downloadTs48(r, NAME));
    const before = r.euicc.profiles;
    r.reopen();
    assert.deepEqual(r.euicc.profiles, before);
    assert.equal(profiles(r.client)[0]!.profileName, NAME);
    assert.equal(r.euicc.eid, r.pki.eid);
  });

  it('refuses a tampered sealed file, or a wrong device secret, at open', () => {
    const r = newRig();
    const sealed = readFileSync(r.path);
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 40]! ^= 0x80;
    writeFileSync(r.path, tampered);
    assert.throws(() => Euicc.open(r.path, r.secret), (e: unknown) => e instanceof SealedStateError && e.code === 'TAMPERED');
    writeFileSync(r.path, sealed);
    assert.throws(() => Euicc.open(r.path, Buffer.alloc(32, 1)), (e: unknown) => e instanceof SealedStateError && e.code === 'TAMPERED');
    assert.equal(Euicc.open(r.path, r.secret).eid, r.pki.eid);
  });

  it('create refuses to overwrite an existing eUICC', () => {
    const r = newRig();
    assert.throws(() => Euicc.create(r.path, r.secret, identityFromTestPki(r.pki)), /already holds an eUICC/);
  });
});

describe('crash during LoadBoundProfilePackage', () => {
  it('after any STORE DATA command the profile is absent, unless the last one completed; the eUICC works afterwards', () => {
    const probe = newRig();
    const bpp = assembleBpp(prepare(probe, UPP, METADATA));
    const apduCount = Es10Client.bppCommands(bpp).reduce((n, c) => n + probe.client.storeDataApdus(c).length, 0);
    assert.ok(apduCount > 10);
    for (let sent = 1; sent <= apduCount; sent++) {
      const r = newRig();
      const apdus = Es10Client.bppCommands(assembleBpp(prepare(r, UPP, METADATA))).flatMap((c) => r.client.storeDataApdus(c));
      for (const a of apdus.slice(0, sent)) {
        const { sw } = send(r.card, a);
        assert.ok(sw === 0x9000 || sw >> 8 === 0x61, `APDU answered ${sw.toString(16)}`);
      }
      r.reopen(); // the Euicc object is dropped mid-load: a crash
      assert.equal(r.euicc.profiles.length, sent === apduCount ? 1 : 0, `after ${sent} of ${apduCount} APDUs`);
      if (sent < apduCount) assertSuccess(download(r, UPP, METADATA));
      assert.equal(profiles(r.client).length, 1);
      r.cleanup();
    }
  });
});
