// The eUICC behind vsmartcard's vpcd protocol (NOTES.md "Virtual smart-card reader"), against an in-test vpcd: controls, ATR,
// APDUs (SELECT ISD-R, GetEID over STORE DATA), refused oversize frames, reconnecting with backoff, stopping on abort.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { euiccVpcd } from '../../src/cli/commands/euicc.js';
import { Card, ISD_R_AID } from '../../src/euicc/card.js';
import { runVpcdClient, VPCD_MAX_FRAME, VpcdSession } from '../../src/euicc/vpcd.js';
import { h } from './cardHelpers.js';
import { rigsCleanedAfter } from './harness.js';

const SELECT_ISD_R = h(`00A40400 10 ${ISD_R_AID} 00`);
const GET_EID = h('80E29100 06 BF3E035C015A 00');

/** vpcd's side of one connection: sends frames, reads the card's frames in order. */
class VpcdPeer {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  readonly #waiting: ((frame: Buffer) => void)[] = [];
  readonly #frames: Buffer[] = [];
  readonly closed: Promise<void>;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 2 && this.#buffer.length >= 2 + this.#buffer.readUInt16BE(0)) {
        const frame = this.#buffer.subarray(2, 2 + this.#buffer.readUInt16BE(0));
        this.#buffer = this.#buffer.subarray(2 + frame.length);
        const w = this.#waiting.shift();
        if (w) w(frame);
        else this.#frames.push(frame);
      }
    });
  }

  /** Writes raw bytes (a frame, part of one, or several). */
  write(bytes: Buffer): void {
    this.#socket.write(bytes);
  }

  sendFrame(payload: Buffer): void {
    const header = Buffer.alloc(2);
    header.writeUInt16BE(payload.length);
    this.write(Buffer.concat([header, payload]));
  }

  next(timeoutMs = 5000): Promise<Buffer> {
    const ready = this.#frames.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame from the card')), timeoutMs);
      this.#waiting.push((f) => {
        clearTimeout(timer);
        resolve(f);
      });
    });
  }

  async transmit(apdu: Buffer): Promise<{ data: Buffer; sw: number }> {
    this.sendFrame(apdu);
    const r = await this.next();
    return { data: r.subarray(0, r.length - 2), sw: r.readUInt16BE(r.length - 2) };
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** An in-test vpcd: a TCP server that hands each connection from the card out in order. */
class FakeVpcd {
  readonly server: Server;
  readonly #waiting: ((peer: VpcdPeer) => void)[] = [];
  readonly #peers: VpcdPeer[] = [];

  constructor() {
    this.server = createServer((socket) => {
      const peer = new VpcdPeer(socket);
      const w = this.#waiting.shift();
      if (w) w(peer);
      else this.#peers.push(peer);
    });
  }

  listen(port = 0): Promise<number> {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port)));
  }

  connection(timeoutMs = 5000): Promise<VpcdPeer> {
    const ready = this.#peers.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the card did not connect')), timeoutMs);
      this.#waiting.push((p) => {
        clearTimeout(timer);
        resolve(p);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A port nobody listens on (bound, then released). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('mcim euicc vpcd: the eUICC as the card of an in-test vpcd', () => {
  const r = rigsCleanedAfter()();
  const secretFile = join(r.dir, 'secret.hex');
  writeFileSync(secretFile, r.secret.toString('hex'));
  const vpcd = new FakeVpcd();
  const controller = new AbortController();
  const logs: string[] = [];
  let running: Promise<void> | undefined;
  after(async () => {
    controller.abort();
    await running;
    await vpcd.close();
  });

  it('answers get ATR with a T=1-capable ATR carrying historical bytes, SELECT ISD-R and GetEID over STORE DATA', async () => {
    const port = await vpcd.listen();
    running = euiccVpcd({ state: r.path, secretFile, host: '127.0.0.1', port: String(port) }, controller.signal, (m) => logs.push(m));
    const peer = await vpcd.connection();
    peer.sendFrame(Buffer.from([1]));
    peer.sendFrame(Buffer.from([4]));
    const atr = await peer.next();
    assert.equal(atr[0], 0x3b, 'direct convention');
    // T0: Y1 and K; TD1, TD2: the protocols offered; then the historical bytes and TCK.
    const k = atr[1]! & 0x0f;
    const protocols: number[] = [];
    let td = atr[1]!;
    let i = 2;
    while ((td & 0x80) !== 0) {
      i += [0x10, 0x20, 0x40].filter((bit) => (td & bit) !== 0).length;
      td = atr[i]!;
      protocols.push(td & 0x0f);
      i += 1;
    }
    assert.ok(protocols.includes(1), `T=1 offered (protocols ${protocols.join(', ')})`);
    assert.equal(atr.subarray(i, i + k).toString('ascii'), 'mcim', 'historical bytes');
    assert.equal(atr.length, i + k + 1, 'TCK follows the historical bytes');
    assert.equal(atr.subarray(1).reduce((x, b) => x ^ b, 0), 0, 'TCK checks T0 to TCK');

    const selected = await peer.transmit(SELECT_ISD_R);
    assert.equal(selected.sw, 0x9000);
    assert.deepEqual(selected.data, h(`6F12 8410 ${ISD_R_AID}`));
    const eid = await peer.transmit(GET_EID);
    assert.equal(eid.sw, 0x9000);
    assert.deepEqual(eid.data, h(`BF3E12 5A10 ${r.euicc.eid}`));
    assert.ok(logs.some((m) => m.includes(`eUICC ${r.euicc.eid}`)), logs.join('\n'));
    activePeer = peer;
  });

  it('refuses a frame longer than a short APDU with 6700 and stays in step, whatever the segmentation', async () => {
    const conn = connected();
    const big = Buffer.alloc(VPCD_MAX_FRAME + 1, 0xaa);
    const header = Buffer.alloc(2);
    header.writeUInt16BE(big.length);
    const stream = Buffer.concat([header, big]);
    for (let o = 0; o < stream.length; o += 7) conn.write(stream.subarray(o, o + 7));
    const refused = await conn.next();
    assert.deepEqual(refused, h('6700'));
    assert.equal((await conn.transmit(SELECT_ISD_R)).sw, 0x9000, 'the next frame is read from the right place');
    assert.equal((await conn.transmit(GET_EID)).sw, 0x9000);
    assert.ok(logs.some((m) => m.includes(`${big.length}-byte frame`)));
  });

  it('reset and power off end the selection; two frames in one write are answered in order', async () => {
    const conn = connected();
    assert.equal((await conn.transmit(SELECT_ISD_R)).sw, 0x9000);
    conn.sendFrame(Buffer.from([2]));
    assert.equal((await conn.transmit(GET_EID)).sw, 0x6986, 'no application selected after reset');
    assert.equal((await conn.transmit(SELECT_ISD_R)).sw, 0x9000);
    conn.sendFrame(Buffer.from([0]));
    conn.sendFrame(Buffer.from([1]));
    assert.equal((await conn.transmit(GET_EID)).sw, 0x6986, 'no application selected after power off and on');
    const two = Buffer.concat([SELECT_ISD_R, GET_EID].map((a) => Buffer.concat([Buffer.from([0, a.length]), a])));
    conn.write(two);
    assert.equal((await conn.next()).readUInt16BE(20), 0x9000);
    assert.deepEqual((await conn.next()).subarray(-2), h('9000'));
  });

  it('a GET ATR between two APDUs answers the ATR and keeps the selection (pcscd polls the reader at any time)', async () => {
    const conn = connected();
    assert.equal((await conn.transmit(SELECT_ISD_R)).sw, 0x9000);
    conn.sendFrame(Buffer.from([4]));
    const atr = await conn.next();
    assert.equal(atr[0], 0x3b, 'the ATR');
    const eid = await conn.transmit(GET_EID);
    assert.equal(eid.sw, 0x9000, 'the ISD-R is still selected');
  });

  it("serves lpac's pcsc driver session byte for byte (T=0): TERMINAL CAPABILITY, open, SELECT, GetEID over GET RESPONSE, close with P3 00", async () => {
    const conn = connected();
    // As pcscd --apdu logged them for `lpac chip info` with LPAC_APDU=pcsc (lpac 2.3.0, commit 8f68d5c).
    const terminalCapability = await conn.transmit(h('80AA0000 0A A908 8100 820101 830107'));
    assert.equal(terminalCapability.sw, 0x6d00, 'TERMINAL CAPABILITY is not offered (TS 102 221 11.1.19: not indicated in the MF FCP)');
    assert.deepEqual(await conn.transmit(h('0070000001')), { data: h('01'), sw: 0x9000 });
    assert.deepEqual(await conn.transmit(h(`01A40400 10 ${ISD_R_AID}`)), { data: h(''), sw: 0x6114 }, 'no Le: the FCI waits for GET RESPONSE');
    assert.deepEqual(await conn.transmit(h('81E29100 06 BF3E035C015A')), { data: h(''), sw: 0x6115 }, 'case 4 without Le: 61xx');
    assert.deepEqual(await conn.transmit(h('81C0000015')), { data: h(`BF3E12 5A10 ${r.euicc.eid}`), sw: 0x9000 });
    assert.deepEqual(await conn.transmit(h('0070800100')), { data: h(''), sw: 0x9000 }, 'MANAGE CHANNEL close with P3 00');
    assert.equal((await conn.transmit(h('81E29100 06 BF3E035C015A'))).sw, 0x6881, 'channel 1 is closed');
  });

  it('closes the connection on an empty frame and connects again', async () => {
    const conn = connected();
    conn.write(h('0000'));
    await conn.closed;
    assert.ok(logs.some((m) => m.includes('empty frame')));
    const again = await vpcd.connection();
    assert.equal((await again.transmit(SELECT_ISD_R)).sw, 0x9000);
    activePeer = again;
  });

  it('stops on abort: the connection is closed and the command returns', async () => {
    const conn = connected();
    controller.abort();
    await running;
    await conn.closed;
  });
});

/** The connection the card holds: the first test's, or the one it made after the last close. */
let activePeer: VpcdPeer | undefined;
function connected(): VpcdPeer {
  assert.ok(activePeer, 'the card is connected');
  return activePeer;
}

describe('vpcd client: reconnection', () => {
  it('retries with a growing delay while vpcd is not there, then serves it', async () => {
    const port = await freePort();
    const card = new Card();
    const controller = new AbortController();
    const logs: string[] = [];
    const running = runVpcdClient({ card, port, initialDelayMs: 20, maxDelayMs: 80, signal: controller.signal, log: (m) => logs.push(m) });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const refusals = logs.filter((m) => m.includes('not reachable'));
    assert.ok(refusals.length >= 3, logs.join('\n'));
    const delays = refusals.map((m) => Number(/in (\d+) ms/.exec(m)![1]));
    assert.deepEqual(delays.slice(0, 3), [20, 40, 80]);
    assert.ok(delays.every((d) => d <= 80), 'the delay stops growing at maxDelayMs');
    const vpcd = new FakeVpcd();
    await vpcd.listen(port);
    const peer = await vpcd.connection();
    peer.sendFrame(Buffer.from([4]));
    assert.equal((await peer.next())[0], 0x3b);
    controller.abort();
    await running;
    await vpcd.close();
  });

  it('refuses bad settings', async () => {
    const controller = new AbortController();
    await assert.rejects(runVpcdClient({ card: new Card(), port: 70000, signal: controller.signal }), /port must be/);
    assert.throws(() => new VpcdSession(new Card(), () => undefined, { maxFrame: 3 }), /maxFrame/);
  });
});

describe('VpcdSession: framing', () => {
  it('reassembles frames split at every byte and answers each once', () => {
    const out: Buffer[] = [];
    const session = new VpcdSession(new Card(), (f) => out.push(f));
    const stream = Buffer.concat([h('0001 04'), h('0001 01'), h('0005 00A4040C00')]);
    for (const byte of stream) assert.equal(session.receive(Buffer.from([byte])), true);
    assert.equal(out.length, 2, 'the ATR and one response; power on is not answered');
    assert.equal(out[0]!.readUInt16BE(0), out[0]!.length - 2);
    assert.deepEqual(out[1], h('0002 6700'), 'SELECT with Lc 00 is malformed: the card answers it');
  });
});
