// The eUICC's sealed state under a real crash (SGP.22 2.4 protected storage, 2.5.5 BPP load over STORE DATA): the eUICC runs in a child process that is SIGKILLed at every STORE DATA block of a BPP load, then restarted from its file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decode, encode } from '../../src/asn1/schema.js';
import {
  GetEuiccChallengeRequest,
  GetEuiccChallengeResponse,
  ProfileInfoListRequest,
  ProfileInfoListResponse,
  ProfileInstallationResult,
  type ProfileInfo,
} from '../../src/asn1/definitions/rsp.js';
import { ISD_R_AID } from '../../src/euicc/card.js';
import type { PersistedState } from '../../src/euicc/core.js';
import { Euicc, identityFromTestPki } from '../../src/euicc/euicc.js';
import { SealedStateFile } from '../../src/euicc/sealedState.js';
import { apdu, cla, storeDataApdus, swHex, type Reply } from './cardHelpers.js';
import { ChildEuicc } from './childEuicc.js';
import { Es10Client } from './es10Client.js';
import { assertSuccess, prepare, rig, testPki, ts48 } from './harness.js';
import { SmdpSimulator, assembleBpp, metadataFor } from './smdpSimulator.js';

/** The smallest TS.48 profile package, in STORE DATA blocks of 255 bytes. */
const NAME = 'TS48V1-A-UNIQUE';
const UPP = ts48(NAME);
const METADATA = metadataFor(UPP, NAME);
const BLOCK_SIZES = [255] as const;
const STATE_FILE = 'euicc.sealed';

const PKI = testPki();
const SMDP = SmdpSimulator.fromTestPki(PKI);
const SECRET = randomBytes(32);
const ROOT = mkdtempSync(join(tmpdir(), 'mcim-crashkill-'));
after(() => rmSync(ROOT, { recursive: true, force: true }));

/** The freshly personalised eUICC every kill point starts from. */
const TEMPLATE = join(ROOT, 'template', STATE_FILE);
mkdirSync(dirname(TEMPLATE));
Euicc.create(TEMPLATE, SECRET, identityFromTestPki(PKI));
const INITIAL = new SealedStateFile<PersistedState>(TEMPLATE, SECRET).load()!;

/** The number of STORE DATA APDUs of the BPP (the same for every session: only keys and random values differ). */
const APDU_COUNT = (() => {
  const probe = rig({ pki: PKI, blockSizes: [...BLOCK_SIZES] });
  try {
    const bpp = assembleBpp(prepare(probe, UPP, METADATA));
    return Es10Client.bppCommands(bpp).reduce((n, c) => n + storeDataApdus(0, c, BLOCK_SIZES).length, 0);
  } finally {
    probe.cleanup();
  }
})();

async function selectIsdR(c: ChildEuicc): Promise<void> {
  const r = await c.transmit(apdu(cla(0), 0xa4, 0x04, 0x0c, Buffer.from(ISD_R_AID, 'hex')));
  assert.equal(swHex(r.sw), '9000', 'SELECT ISD-R');
}

/** The rest of a 61xx answer, by GET RESPONSE. */
async function fetchResponse(c: ChildEuicc, first: Reply): Promise<Reply> {
  const parts = [first.data];
  let sw = first.sw;
  for (let rounds = 0; sw >> 8 === 0x61; rounds++) {
    assert.ok(rounds < 1000, 'GET RESPONSE does not end');
    const r = await c.transmit(apdu(cla(0), 0xc0, 0, 0, undefined, sw & 0xff));
    parts.push(r.data);
    sw = r.sw;
  }
  return { data: Buffer.concat(parts), sw };
}

/** One ES10 command over STORE DATA; its response data (9000 required). */
async function es10(c: ChildEuicc, command: Buffer): Promise<Buffer> {
  const apdus = storeDataApdus(0, command, BLOCK_SIZES);
  let r: Reply | undefined;
  for (const [i, a] of apdus.entries()) {
    r = await c.transmit(a);
    if (i < apdus.length - 1) assert.equal(swHex(r.sw), '9000', `STORE DATA block ${i}`);
  }
  const full = await fetchResponse(c, r!);
  assert.equal(swHex(full.sw), '9000', 'ES10 command');
  return full.data;
}

/** Authentication and PrepareDownload in the child (the session lives there); the STORE DATA APDUs of the BPP bound to it. */
async function prepareDownload(c: ChildEuicc): Promise<Buffer[]> {
  const challenge = decode(GetEuiccChallengeResponse, await es10(c, encode(GetEuiccChallengeRequest, {}))).euiccChallenge;
  const authenticateServerResponse = await es10(c, SMDP.authenticateServerRequest(challenge));
  const prepareDownloadResponse = await es10(c, SMDP.prepareDownloadRequest(authenticateServerResponse));
  const bpp = assembleBpp(SMDP.bindProfile(prepareDownloadResponse, UPP, METADATA));
  return Es10Client.bppCommands(bpp).flatMap((command) => storeDataApdus(0, command, BLOCK_SIZES));
}

/** Sends BPP APDU `index` and checks its answer: 9000 without data, except the last, which has the PIR waiting (61xx). */
async function sendBppApdu(c: ChildEuicc, apdus: readonly Buffer[], index: number): Promise<Reply> {
  const r = await c.transmit(apdus[index]!);
  if (index < apdus.length - 1) {
    assert.deepEqual({ sw: swHex(r.sw), data: r.data.length }, { sw: '9000', data: 0 }, `answer to BPP APDU ${index}`);
  } else {
    assert.equal(r.sw >> 8, 0x61, `the last BPP APDU leaves the PIR waiting, got ${swHex(r.sw)}`);
  }
  return r;
}

async function profilesInfo(c: ChildEuicc): Promise<ProfileInfo[]> {
  const response = decode(ProfileInfoListResponse, await es10(c, encode(ProfileInfoListRequest, {})));
  assert.equal(response.type, 'profileInfoListOk');
  return response.value as ProfileInfo[];
}

/** A fresh directory holding a copy of the freshly personalised eUICC. */
function freshStateFile(label: string): string {
  const dir = mkdtempSync(join(ROOT, `${label}-`));
  const path = join(dir, STATE_FILE);
  copyFileSync(TEMPLATE, path);
  return path;
}

type Outcome = 'absent' | 'installed';

/** Restarts the eUICC on `path` after a kill: the new process opening the file shows that it is not torn. */
async function restart(path: string): Promise<ChildEuicc> {
  const c = await ChildEuicc.start(path, SECRET);
  try {
    await selectIsdR(c);
  } catch (e) {
    await c.dispose();
    throw e;
  }
  return c;
}

/**
 * GetProfilesInfo shows the profile absent or fully installed, and the sealed state is exactly the initial one (same
 * content, same generation), or the initial one plus the profile with its credentials and its install notification.
 */
async function checkOutcome(c: ChildEuicc, path: string, allowed: readonly Outcome[], when: string): Promise<Outcome> {
  const infos = await profilesInfo(c);
  const outcome: Outcome = infos.length === 0 ? 'absent' : 'installed';
  assert.ok(allowed.includes(outcome), `${when}: the profile is ${outcome}, expected ${allowed.join(' or ')}`);
  // The process is idle: the sealed file can be read alongside it.
  const loaded = new SealedStateFile<PersistedState>(path, SECRET).load();
  assert.ok(loaded, `${when}: the sealed state is there`);
  if (outcome === 'absent') {
    assert.deepEqual(loaded, INITIAL, `${when}: nothing of the interrupted load is kept`);
    return outcome;
  }
  assert.equal(infos.length, 1, when);
  const info = infos[0]!;
  assert.deepEqual(
    { iccid: info.iccid, profileName: info.profileName, profileState: info.profileState },
    { iccid: METADATA.iccid, profileName: NAME, profileState: 0 },
    `${when}: the installed profile (disabled)`,
  );
  const { state, generation } = loaded;
  assert.equal(generation, INITIAL.generation + 1, `${when}: one commit, the installation`);
  assert.deepEqual({ ...state, profiles: [], notifications: [], nextSeqNumber: 1, nextIsdpIndex: INITIAL.state.nextIsdpIndex }, INITIAL.state, when);
  assert.equal(state.profiles.length, 1, when);
  const profile = state.profiles[0]!;
  assert.deepEqual({ iccid: profile.iccid, isdpAid: profile.isdpAid }, { iccid: METADATA.iccid, isdpAid: info.isdpAid }, when);
  assert.ok(profile.usim.essentials.iccid.equals(METADATA.iccid), `${when}: the USIM credentials are there`);
  assert.deepEqual(
    state.notifications.map((n) => ({ event: n.event, iccid: n.iccid, seqNumber: n.seqNumber })),
    [{ event: 0, iccid: METADATA.iccid, seqNumber: 1 }],
    `${when}: the install notification`,
  );
  return outcome;
}

/** A complete new download through the restarted eUICC. */
async function freshDownload(c: ChildEuicc): Promise<void> {
  const apdus = await prepareDownload(c);
  let last: Reply | undefined;
  for (let i = 0; i < apdus.length; i++) last = await sendBppApdu(c, apdus, i);
  const pir = await fetchResponse(c, last!);
  assert.equal(swHex(pir.sw), '9000');
  assertSuccess(decode(ProfileInstallationResult, pir.data));
  assert.deepEqual((await profilesInfo(c)).map((p) => p.iccid), [METADATA.iccid]);
}

/** Ends the restarted eUICC normally; the tmp files of an interrupted save are gone once the state has been loaded. */
async function finish(c: ChildEuicc, path: string): Promise<void> {
  await c.close();
  assert.deepEqual(readdirSync(dirname(path)), [STATE_FILE]);
}

/** Kill points whose restarted eUICC also runs a complete new download. */
function sampled(index: number): boolean {
  return index === 0 || index === Math.floor(APDU_COUNT / 2) || index === APDU_COUNT - 2;
}

/**
 * Delays (ms) for the kills while the last block is processed: that block's command decrypts and checks the whole
 * profile, then seals it (write, fsync, rename, fsync). Spread around the time it takes in-process, so that some kills
 * land before, some during and some after the commit; which one each hits is not asserted.
 */
const LAST_BLOCK_DELAYS = (() => {
  const probe = rig({ pki: PKI, blockSizes: [...BLOCK_SIZES] });
  try {
    const apdus = Es10Client.bppCommands(assembleBpp(prepare(probe, UPP, METADATA))).flatMap((c) => storeDataApdus(0, c, BLOCK_SIZES));
    for (const a of apdus.slice(0, -1)) probe.card.transmit(a);
    const start = performance.now();
    probe.card.transmit(apdus[apdus.length - 1]!);
    const ms = Math.max(1, performance.now() - start);
    return [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6].map((f) => Math.round(f * ms * 10) / 10);
  } finally {
    probe.cleanup();
  }
})();

const lastBlockOutcomes: Outcome[] = [];
after(() => {
  const count = (o: Outcome): number => lastBlockOutcomes.filter((x) => x === o).length;
  process.stdout.write(
    `# crashKill: ${APDU_COUNT} BPP STORE DATA APDUs; kills while processing the last one: ${count('installed')} installed, ${count('absent')} absent ` +
      `(delays ${LAST_BLOCK_DELAYS.join(', ')} ms)\n`,
  );
});

describe(`eUICC process SIGKILLed during LoadBoundProfilePackage (${NAME}, ${APDU_COUNT} STORE DATA APDUs of ${BLOCK_SIZES[0]} bytes)`, { concurrency: 4 }, () => {
  it('the BPP is long enough to exercise many kill points', () => {
    assert.ok(APDU_COUNT > 20, `${APDU_COUNT} APDUs`);
  });

  /*
   * Kill point `index`, from a fresh copy of the personalised eUICC:
   *  1. process A runs authentication, PrepareDownload and BPP APDUs 1..index+1, and is killed once it has answered
   *     the last of them;
   *  2. process B, restarted on the same file, finds the profile absent (fully installed after the last APDU) and
   *     the sealed state exactly the initial one. Being provably back at the initial state, B then runs a session
   *     of its own and is killed with APDU index+1 handed to it but not answered (before, during or after processing);
   *  3. process C, restarted on the same file, finds the profile absent again; at a few kill points C downloads the
   *     profile completely.
   */
  for (let index = 0; index < APDU_COUNT; index++) {
    const last = index === APDU_COUNT - 1;
    const title = last
      ? `killed after answering the last BPP APDU (${APDU_COUNT}/${APDU_COUNT}): fully installed after restart`
      : `killed after answering BPP APDU ${index + 1}/${APDU_COUNT}, then while processing it: absent after each restart`;
    it(title, async () => {
      const path = freshStateFile(`apdu-${index}`);
      const a = await ChildEuicc.start(path, SECRET);
      try {
        await selectIsdR(a);
        const apdus = await prepareDownload(a);
        assert.equal(apdus.length, APDU_COUNT);
        for (let i = 0; i <= index; i++) await sendBppApdu(a, apdus, i);
        await a.kill();
      } finally {
        await a.dispose();
      }

      const b = await restart(path);
      try {
        await checkOutcome(b, path, [last ? 'installed' : 'absent'], `killed after the answer to APDU ${index + 1}`);
        if (last) {
          await finish(b, path);
          return;
        }
        const apdus = await prepareDownload(b);
        assert.equal(apdus.length, APDU_COUNT);
        for (let i = 0; i < index; i++) await sendBppApdu(b, apdus, i);
        await b.killWhileProcessing(apdus[index]!, 0);
      } finally {
        await b.dispose();
      }

      // A profile cannot be complete before its last block has arrived.
      const c = await restart(path);
      try {
        await checkOutcome(c, path, ['absent'], `killed while processing APDU ${index + 1}`);
        if (sampled(index)) await freshDownload(c);
        await finish(c, path);
      } finally {
        await c.dispose();
      }
    });
  }

  for (const delay of LAST_BLOCK_DELAYS) {
    it(`killed ${delay} ms after the last BPP APDU was handed over: absent or fully installed after restart`, async () => {
      const path = freshStateFile(`last-${delay}`);
      const a = await ChildEuicc.start(path, SECRET);
      try {
        await selectIsdR(a);
        const apdus = await prepareDownload(a);
        assert.equal(apdus.length, APDU_COUNT);
        for (let i = 0; i < APDU_COUNT - 1; i++) await sendBppApdu(a, apdus, i);
        await a.killWhileProcessing(apdus[APDU_COUNT - 1]!, delay);
      } finally {
        await a.dispose();
      }
      const c = await restart(path);
      try {
        const outcome = await checkOutcome(c, path, ['absent', 'installed'], `killed ${delay} ms into the last APDU`);
        lastBlockOutcomes.push(outcome);
        if (outcome === 'absent' && delay === LAST_BLOCK_DELAYS[0]) await freshDownload(c);
        await finish(c, path);
      } finally {
        await c.dispose();
      }
    });
  }
});
