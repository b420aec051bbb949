// SGP.32 v1.2 5.9 ES10b.ExecuteFallbackMechanism and ReturnFromFallback under a real crash: the eUICC process is SIGKILLed while it switches profiles; after a restart the switch is whole (profiles and the profile to return to, in one commit) or absent.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decode, encode } from '../../src/asn1/schema.js';
import {
  ExecuteFallbackMechanismRequest,
  ExecuteFallbackMechanismResponse,
  ExecuteFallbackMechanismResult,
  ReturnFromFallbackRequest,
  ReturnFromFallbackResponse,
} from '../../src/asn1/definitions/sgp32.js';
import { ISD_R_AID } from '../../src/euicc/card.js';
import type { PersistedState } from '../../src/euicc/core.js';
import { SealedStateFile } from '../../src/euicc/sealedState.js';
import { apdu, cla, storeDataApdus, swHex } from './cardHelpers.js';
import { ChildEuicc } from './childEuicc.js';
import { assertSuccess, downloadTs48, rig } from './harness.js';
import { TestEim, addInitialEim, verifyResult } from './testEim.js';

const STATE_FILE = 'euicc.sealed';
const ROOT = mkdtempSync(join(tmpdir(), 'mcim-fallback-crashkill-'));
after(() => rmSync(ROOT, { recursive: true, force: true }));

// The template: an eIM associated, profile A enabled, C (fallbackAllowed) disabled with the Fallback Attribute.
const setup = rig({ curve: 'P-256' });
const EIM = new TestEim('eim.example.com', 'P-256');
addInitialEim(setup.client, [EIM]);
assertSuccess(downloadTs48(setup, 'TS48V1-A-UNIQUE'));
assertSuccess(downloadTs48(setup, 'TS48V2-SAIP2-1-BERTLV-UNIQUE', { fallbackAllowed: true }));
const [A, C] = [setup.euicc.profiles[0]!.iccid, setup.euicc.profiles[1]!.iccid];
const EID = Buffer.from(setup.pki.eid, 'hex');
const v = verifyResult(
  setup.client.command(EIM.psmos(EID, [{ type: 'enable', value: { iccid: A } }, { type: 'setFallbackAttribute', value: { iccid: C } }])),
  setup.pki.euicc.certificate.publicKey.key,
  EIM.token,
);
assert.deepEqual(v.kind === 'result' ? v.results.map((r) => r.value) : v, [0, 0]);
const SECRET = setup.secret;
const TEMPLATE = join(ROOT, 'template', STATE_FILE);
mkdirSync(dirname(TEMPLATE));
copyFileSync(setup.path, TEMPLATE);
setup.cleanup();
const INITIAL = new SealedStateFile<PersistedState>(TEMPLATE, SECRET).load()!;

const EXECUTE = storeDataApdus(0, encode(ExecuteFallbackMechanismRequest, { refreshFlag: false }))[0]!;
const RETURN = storeDataApdus(0, encode(ReturnFromFallbackRequest, { refreshFlag: false }))[0]!;
const DELAYS = [0, 0.5, 1, 2, 4, 8];

async function restart(path: string): Promise<ChildEuicc> {
  const c = await ChildEuicc.start(path, SECRET);
  assert.equal(swHex((await c.transmit(apdu(cla(0), 0xa4, 0x04, 0x0c, Buffer.from(ISD_R_AID, 'hex')))).sw), '9000', 'SELECT ISD-R');
  return c;
}

/** One ES10 command whose answer fits one response (Le 00). */
async function command(c: ChildEuicc, storeData: Buffer): Promise<Buffer> {
  const r = await c.transmit(Buffer.concat([storeData, Buffer.from([0])]));
  assert.equal(swHex(r.sw), '9000');
  return r.data;
}

type Outcome = 'absent' | 'applied';

function outcome(path: string, when: string): Outcome {
  const loaded = new SealedStateFile<PersistedState>(path, SECRET).load()!;
  if (loaded.generation === INITIAL.generation) {
    assert.deepEqual(loaded, INITIAL, `${when}: nothing of the interrupted fallback is kept`);
    return 'absent';
  }
  assert.equal(loaded.generation, INITIAL.generation + 1, `${when}: one commit`);
  assert.deepEqual(loaded.state.profiles.map((p) => [p.iccid, p.state]), [[A, 'disabled'], [C, 'enabled']], `${when}: C enabled, A disabled`);
  assert.deepEqual(loaded.state.iot?.fallbackReturnIccid, A, `${when}: A to return to`);
  return 'applied';
}

describe('eUICC process SIGKILLed during ExecuteFallbackMechanism', { concurrency: 3 }, () => {
  for (const delay of DELAYS) {
    it(`killed ${delay} ms after the command was handed over: the switch is whole or absent; then execute or return works`, async () => {
      const dir = mkdtempSync(join(ROOT, `execute-${delay}-`));
      const path = join(dir, STATE_FILE);
      copyFileSync(TEMPLATE, path);
      const a = await restart(path);
      try {
        await a.killWhileProcessing(EXECUTE, delay);
      } finally {
        await a.dispose();
      }
      const b = await restart(path);
      try {
        const o = outcome(path, `killed ${delay} ms in`);
        const executed = decode(ExecuteFallbackMechanismResponse, await command(b, EXECUTE)).executeFallbackMechanismResult;
        assert.equal(executed, o === 'applied' ? ExecuteFallbackMechanismResult.profileNotInDisabledState : ExecuteFallbackMechanismResult.ok);
        assert.equal(outcome(path, 'after executing again'), 'applied');
        assert.equal(decode(ReturnFromFallbackResponse, await command(b, RETURN)).returnFromFallbackResult, 0, 'the return works');
        await b.close();
        assert.deepEqual(readdirSync(dir), [STATE_FILE], 'no tmp file left');
      } finally {
        await b.dispose();
      }
    });
  }
});
