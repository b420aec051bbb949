// SGP.32 v1.2 3.3.1 (eUICC Package execution) under a real crash: the eUICC process is SIGKILLed between the STORE DATA blocks of a LoadEuiccPackage and while it executes the package; after a restart the package is applied whole or not at all.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EuiccPackageErrorCode, type Psmo } from '../../src/asn1/definitions/sgp32.js';
import { ISD_R_AID } from '../../src/euicc/card.js';
import type { PersistedState } from '../../src/euicc/core.js';
import { Card } from '../../src/euicc/card.js';
import { Euicc } from '../../src/euicc/euicc.js';
import { SealedStateFile } from '../../src/euicc/sealedState.js';
import { apdu, cla, storeDataApdus, swHex, type Reply } from './cardHelpers.js';
import { ChildEuicc } from './childEuicc.js';
import { assertSuccess, downloadTs48, rig } from './harness.js';
import { TestEim, addInitialEim, verifyResult } from './testEim.js';

const STATE_FILE = 'euicc.sealed';
/** Small STORE DATA blocks, so that the package arrives in several. */
const BLOCK_SIZES = [64] as const;
const ROOT = mkdtempSync(join(tmpdir(), 'mcim-iot-crashkill-'));
after(() => rmSync(ROOT, { recursive: true, force: true }));

// The template: an eIM associated, profiles A (enabled by a first package) and B (disabled).
const setup = rig({ curve: 'brainpoolP256r1' });
const EIM = new TestEim('eim.example.com', 'brainpoolP256r1');
addInitialEim(setup.client, [EIM]);
assertSuccess(downloadTs48(setup, 'TS48V1-A-UNIQUE'));
assertSuccess(downloadTs48(setup, 'TS48V1-B-UNIQUE'));
const [A, B] = [setup.euicc.profiles[0]!.iccid, setup.euicc.profiles[1]!.iccid];
const EID = Buffer.from(setup.pki.eid, 'hex');
const EUICC_KEY = setup.pki.euicc.certificate.publicKey.key;
verifyResult(setup.client.command(EIM.psmos(EID, [{ type: 'enable', value: { iccid: A } }])), EUICC_KEY, EIM.token);
const SECRET = setup.secret;
const TEMPLATE = join(ROOT, 'template', STATE_FILE);
mkdirSync(dirname(TEMPLATE));
copyFileSync(setup.path, TEMPLATE);
setup.cleanup();
const INITIAL = new SealedStateFile<PersistedState>(TEMPLATE, SECRET).load()!;

/** The package every kill interrupts: switch to B, and two settings, under counter 2. */
const PSMOS: Psmo[] = [
  { type: 'enable', value: { iccid: B } },
  { type: 'setDefaultDpAddress', value: { defaultDpAddress: 'dp.example.com' } },
  { type: 'configureImmediateEnable', value: { immediateEnableFlag: null } },
];
const PACKAGE = EIM.psmos(EID, PSMOS, { counter: 2, eimTransactionId: Buffer.from('00112233', 'hex') });
const APDUS = storeDataApdus(0, PACKAGE, BLOCK_SIZES);

function freshStateFile(label: string): string {
  const dir = mkdtempSync(join(ROOT, `${label}-`));
  const path = join(dir, STATE_FILE);
  copyFileSync(TEMPLATE, path);
  return path;
}

/** Delays (ms) for kills while the last block executes, spread around the time it takes in process. */
const DELAYS = (() => {
  const path = freshStateFile('probe');
  const card = new Card();
  Euicc.open(path, SECRET).attach(card);
  card.transmit(apdu(cla(0), 0xa4, 0x04, 0x0c, Buffer.from(ISD_R_AID, 'hex')));
  for (const a of APDUS.slice(0, -1)) card.transmit(a);
  const start = performance.now();
  card.transmit(APDUS[APDUS.length - 1]!);
  const ms = Math.max(1, performance.now() - start);
  return [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6].map((f) => Math.round(f * ms * 10) / 10);
})();

async function restart(path: string): Promise<ChildEuicc> {
  const c = await ChildEuicc.start(path, SECRET);
  const r = await c.transmit(apdu(cla(0), 0xa4, 0x04, 0x0c, Buffer.from(ISD_R_AID, 'hex')));
  assert.equal(swHex(r.sw), '9000', 'SELECT ISD-R');
  return c;
}

/** The package over STORE DATA and GET RESPONSE; its answer (9000 required). */
async function send(c: ChildEuicc): Promise<Buffer> {
  let r: Reply | undefined;
  for (const [i, a] of APDUS.entries()) {
    r = await c.transmit(a);
    if (i < APDUS.length - 1) assert.equal(swHex(r.sw), '9000', `STORE DATA block ${i}`);
  }
  const parts = [r!.data];
  let sw = r!.sw;
  while (sw >> 8 === 0x61) {
    const next = await c.transmit(apdu(cla(0), 0xc0, 0, 0, undefined, sw & 0xff));
    parts.push(next.data);
    sw = next.sw;
  }
  assert.equal(swHex(sw), '9000', 'LoadEuiccPackage');
  return Buffer.concat(parts);
}

type Outcome = 'absent' | 'applied';

/** The sealed state is the template's exactly, or the template's with the whole package applied in one commit. */
function outcome(path: string, when: string): Outcome {
  const loaded = new SealedStateFile<PersistedState>(path, SECRET).load()!;
  if (loaded.generation === INITIAL.generation) {
    assert.deepEqual(loaded, INITIAL, `${when}: nothing of the interrupted package is kept`);
    return 'absent';
  }
  assert.equal(loaded.generation, INITIAL.generation + 1, `${when}: one commit`);
  const s = loaded.state;
  assert.deepEqual(
    s.profiles.map((p) => [p.iccid, p.state]),
    [
      [A, 'disabled'],
      [B, 'enabled'],
    ],
    `${when}: B enabled, A disabled`,
  );
  assert.equal(s.settings.defaultDpAddress, 'dp.example.com', when);
  assert.deepEqual(s.iot?.immediateEnable, { immediateEnableFlag: null }, when);
  assert.equal(s.iot?.eims[0]?.counterValue, 2, `${when}: the counter`);
  assert.equal(s.iot?.packageResults.length, INITIAL.state.iot!.packageResults.length + 1, `${when}: the result kept`);
  return 'applied';
}

/** After a restart: resending the package executes it if it was not applied, and is a replay if it was. */
async function resend(c: ChildEuicc, o: Outcome): Promise<void> {
  const v = verifyResult(await send(c), EUICC_KEY, EIM.token);
  if (o === 'applied') assert.deepEqual(v.kind === 'error' ? v.code : v, EuiccPackageErrorCode.replayError);
  else assert.deepEqual(v.kind === 'result' ? v.results.map((x) => x.value) : v, [0, { setDefaultDpAddressResult: 0 }, 0]);
}

const outcomes: Outcome[] = [];
after(() => {
  const n = (o: Outcome): number => outcomes.filter((x) => x === o).length;
  process.stdout.write(`# iot-crashKill: ${APDUS.length} STORE DATA APDUs; kills during execution: ${n('applied')} applied, ${n('absent')} absent (delays ${DELAYS.join(', ')} ms)\n`);
});

describe(`eUICC process SIGKILLed during LoadEuiccPackage (${APDUS.length} STORE DATA APDUs of ${BLOCK_SIZES[0]} bytes)`, { concurrency: 4 }, () => {
  it('the package spans several STORE DATA blocks', () => {
    assert.ok(APDUS.length >= 3, `${APDUS.length} APDUs`);
  });

  for (let index = 0; index < APDUS.length - 1; index++) {
    it(`killed after answering block ${index + 1}/${APDUS.length}: nothing applied; the package then executes`, async () => {
      const path = freshStateFile(`block-${index}`);
      const a = await restart(path);
      try {
        for (let i = 0; i <= index; i++) assert.equal(swHex((await a.transmit(APDUS[i]!)).sw), '9000');
        await a.kill();
      } finally {
        await a.dispose();
      }
      const b = await restart(path);
      try {
        assert.equal(outcome(path, `after block ${index + 1}`), 'absent');
        await resend(b, 'absent');
        assert.equal(outcome(path, 'after resending'), 'applied');
        await b.close();
      } finally {
        await b.dispose();
      }
    });
  }

  it('killed after answering the package: applied; resending it is a replay', async () => {
    const path = freshStateFile('answered');
    const a = await restart(path);
    try {
      verifyResult(await send(a), EUICC_KEY, EIM.token);
      await a.kill();
    } finally {
      await a.dispose();
    }
    const b = await restart(path);
    try {
      assert.equal(outcome(path, 'after the answer'), 'applied');
      await resend(b, 'applied');
      await b.close();
    } finally {
      await b.dispose();
    }
  });

  for (const delay of DELAYS) {
    it(`killed ${delay} ms after the last block was handed over: applied whole or not at all`, async () => {
      const path = freshStateFile(`last-${delay}`);
      const a = await restart(path);
      try {
        for (const block of APDUS.slice(0, -1)) assert.equal(swHex((await a.transmit(block)).sw), '9000');
        await a.killWhileProcessing(APDUS[APDUS.length - 1]!, delay);
      } finally {
        await a.dispose();
      }
      const b = await restart(path);
      try {
        const o = outcome(path, `killed ${delay} ms into execution`);
        outcomes.push(o);
        await resend(b, o);
        await b.close();
        assert.deepEqual(readdirSync(dirname(path)), [STATE_FILE], 'no tmp file left');
      } finally {
        await b.dispose();
      }
    });
  }
});
