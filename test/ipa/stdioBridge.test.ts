// The stdio APDU/HTTP bridge (docs/lpa-bridge.md) with a scripted LPA child process and a card running a trivial ISD-R application.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { certificateToPem } from '../../src/pki/certificate.js';
import { issueTestPki } from '../../src/pki/testPki.js';
import { BRIDGE_LOGICAL_CHANNELS, answerApdu, runStdioBridge } from '../../src/ipa/stdioBridge.js';
import { ISD_R_AID } from '../../src/ipa/es10Client.js';
import { deviceInit } from '../../src/cli/commands/device.js';
import { ROOT } from '../helpers/fixtures.js';
import { SCRIPTED_LPA, sink } from './bridgeHelpers.js';
import { TEST_ICCID, testCard } from './testCard.js';

describe('stdio bridge', () => {
  const pki = issueTestPki();
  let server: Server;
  let port = 0;

  before(async () => {
    server = createServer({ cert: certificateToPem(pki.dpTls.der), key: pki.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ path: req.url, got: JSON.parse(Buffer.concat(chunks).toString('utf8')), admin: req.headers['x-admin-protocol'] }));
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((ok) => server.close(() => ok())));

  it('serves channel, APDU and HTTP requests and passes the LPA output through', async () => {
    const t = testCard();
    const out = sink();
    let batches = 0;
    const code = await runStdioBridge({
      command: process.execPath,
      args: [SCRIPTED_LPA, 'list', `enable:${TEST_ICCID}`, 'list', `disable:${TEST_ICCID}`, 'bad-close', `http:https://${pki.smdpAddress}/gsma/rsp2/es9plus/x`],
      card: t.card,
      http: { ca: [certificateToPem(pki.ci.der)], connect: { host: '127.0.0.1', port } },
      output: out.stream,
      afterApdu: () => {
        batches++;
      },
    });
    assert.equal(code, 0);
    const lines = out.lines() as { type: string; payload: { code: number; message: string; data: unknown } }[];
    assert.deepEqual(lines.filter((l) => l.type === 'progress').map((l) => l.payload.message), ['channel', 'list', 'enable', 'list', 'disable', 'bad-close', 'http']);
    const result = lines.at(-1)!;
    assert.equal(result.type, 'lpa');
    assert.equal(result.payload.code, 0);
    const [list1, enabled, list2, disabled, badClose, http] = result.payload.data as unknown[];
    assert.equal((list1 as { state: string }[])[0]!.state, 'disabled');
    assert.equal(enabled, `enabled ${TEST_ICCID}`);
    assert.equal((list2 as { state: string }[])[0]!.state, 'enabled');
    assert.equal(disabled, `disabled ${TEST_ICCID}`);
    assert.deepEqual(badClose, { ecode: -1 });
    assert.deepEqual(http, { rcode: 200, rx: JSON.stringify({ path: '/gsma/rsp2/es9plus/x', got: { ping: 1 }, admin: 'gsma/rsp/v2.5.0' }) });
    assert.ok(batches >= 8, `afterApdu called per APDU request (${batches})`);
    assert.equal(t.profile.state, 0);
  });

  it("exits with the LPA's exit code", async () => {
    const out = sink();
    const code = await runStdioBridge({ command: process.execPath, args: [SCRIPTED_LPA, 'nonsense'], card: testCard().card, output: out.stream });
    assert.equal(code, 3);
    assert.match(JSON.stringify(out.lines().at(-1)), /unknown step nonsense/);
  });

  it('keeps the device secret out of the LPA environment', async () => {
    const out = sink();
    const report = "process.stdout.write(JSON.stringify({ type: 'lpa', payload: { secret: process.env.MCIM_DEVICE_SECRET ?? null, other: process.env.MCIM_OTHER ?? null } }) + '\\n')";
    const code = await runStdioBridge({
      command: process.execPath,
      args: ['-e', report],
      card: testCard().card,
      output: out.stream,
      env: { ...process.env, MCIM_DEVICE_SECRET: 'aa'.repeat(32), MCIM_OTHER: 'kept' },
    });
    assert.equal(code, 0);
    assert.deepEqual(out.lines().at(-1), { type: 'lpa', payload: { secret: null, other: 'kept' } });
  });

  it('answers bad APDU requests with ecode -1', async () => {
    const { card } = testCard();
    assert.deepEqual(await answerApdu(card, 'logic_channel_open', 'A000000000'), { ecode: -1 });
    assert.deepEqual(await answerApdu(card, 'logic_channel_open', 'zz'), { ecode: -1 });
    assert.deepEqual(await answerApdu(card, 'transmit', null), { ecode: -1 });
    assert.deepEqual(await answerApdu(card, 'reboot', null), { ecode: -1 });
    assert.deepEqual(await answerApdu(card, 'transmit', '00A4040000'), { ecode: 0, data: '6700' });
    // Opening after a failed open still gets channel 1: the failed one was closed again.
    assert.deepEqual(await answerApdu(card, 'logic_channel_open', 'A0000005591010FFFFFFFF8900000100'), { ecode: 1 });
    // lpac writes the channel as one hex byte: a bare digit is not that.
    assert.deepEqual(await answerApdu(card, 'logic_channel_close', '1'), { ecode: -1 });
    assert.deepEqual(await answerApdu(card, 'logic_channel_close', '01'), { ecode: 0 });
  });

  it("reads logic_channel_close's param as one hex byte, as lpac writes it (channel 16 is '10')", async () => {
    const { card } = testCard({ logicalChannels: BRIDGE_LOGICAL_CHANNELS });
    const open = async (): Promise<number> => (await answerApdu(card, 'logic_channel_open', ISD_R_AID.toString('hex'))).ecode;
    for (let expected = 1; expected <= 16; expected++) assert.equal(await open(), expected);
    assert.deepEqual(await answerApdu(card, 'logic_channel_close', '10'), { ecode: 0 });
    // The lowest free channel is 16 again: '10' closed channel 16, not channel 10.
    assert.equal(await open(), 16);
    assert.deepEqual(await answerApdu(card, 'logic_channel_close', '0a'), { ecode: 0 });
    assert.equal(await open(), 10);
    assert.deepEqual(await answerApdu(card, 'logic_channel_close', '0A'), { ecode: 0 });
    assert.deepEqual(await answerApdu(card, 'logic_channel_close', '0A'), { ecode: -1 }, 'channel 10 is closed already (6881)');
    for (const bad of ['00', '14', 'ff', '010', 'g1', '', null, 0, 20]) {
      assert.deepEqual(await answerApdu(card, 'logic_channel_close', bad), { ecode: -1 }, `param ${JSON.stringify(bad)}`);
    }
    assert.deepEqual(await answerApdu(card, 'logic_channel_close', 16), { ecode: 0 }, 'a JSON number is the channel itself');
  });

  it('mcim euicc attach offers the LPA every logical channel of docs/lpa-bridge.md (1 to 19)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcim-attach-'));
    try {
      const state = join(dir, 'device.state');
      deviceInit({ state });
      const env = { ...process.env };
      delete env['MCIM_DEVICE_SECRET'];
      const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'euicc', 'attach', '--state', state, '--', process.execPath, SCRIPTED_LPA, 'open-all'], {
        encoding: 'utf8',
        env,
      });
      assert.equal(run.status, 0, run.stderr);
      const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { type: string; payload: { data: { opened: number[]; closed: number[] }[] } };
      assert.equal(result.type, 'lpa');
      // The LPA's own channel is 1; open-all gets the other 18 and closes each by its hex byte.
      const [{ opened, closed }] = result.payload.data as [{ opened: number[]; closed: number[] }];
      assert.deepEqual(opened, Array.from({ length: BRIDGE_LOGICAL_CHANNELS - 2 }, (_, i) => i + 2));
      assert.deepEqual(closed, opened.map(() => 0));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
