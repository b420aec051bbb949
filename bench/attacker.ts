// The attackers of `npm run bench -- download-attack` (issue 8), each in its own process forked by bench/download.ts and
// driven over IPC, each from its own loopback source address: `flood` floods InitiateAuthentication, `hold` holds
// connections open (stalled request bodies after the TLS handshake, and sockets that never send a ClientHello), `sizes`
// sends hostile sizes (bodies at and above each function's limit, oversized CI lists, huge base64 fields, deep nesting).
// Every attacker stops by itself after its duration, on 'stop', and when the parent goes away.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { EUICCInfo1, MAX_CI_PKID_LIST, MAX_KEY_IDENTIFIER } from '../src/asn1/definitions/rsp.js';
import { encode } from '../src/asn1/schema.js';
import { ES9PLUS_FUNCTIONS, requestBodyLimit, type Es9FunctionName } from '../src/http/es9plusFunctions.js';

export type AttackKind = 'flood' | 'hold' | 'sizes';

/** Messages from bench/download.ts. */
export type AttackCommand =
  | {
      readonly type: 'start';
      readonly kind: AttackKind;
      /** The loopback source address the attacker's sockets are bound to (not the devices' 127.0.0.1). */
      readonly localAddress: string;
      readonly connect: { readonly host: string; readonly port: number };
      /** The TLS server name and the SM-DP+ address (host[:port]) of the requests. */
      readonly address: string;
      /** The CI certificate (PEM) anchoring the TLS server certificate. */
      readonly ca: string;
      /** The CI's subject key identifier (hex), so that the flood's EUICCInfo1 is one the SM-DP+ accepts. */
      readonly ciKeyId: string;
      readonly durationMs: number;
    }
  | { readonly type: 'stop' };

/** Messages to bench/download.ts. */
export type AttackReply =
  | { readonly type: 'started' }
  | {
      readonly type: 'result';
      readonly kind: AttackKind;
      /** Requests sent (flood, sizes) or connections opened (hold). */
      readonly requests: number;
      /** What came back, by outcome (HTTP status, ES9+ status and subject/reason codes, or how a connection ended). */
      readonly outcomes: Readonly<Record<string, number>>;
      readonly elapsedMs: number;
    };

const FLOOD_LANES = 16;
const SIZES_LANES = 2;
/** Stalled TLS connections and silent TCP connections the hold attacker keeps open (the server caps 64 per address per worker). */
const HOLD_TLS = 96;
const HOLD_RAW = 96;
/** A closed held connection is reopened after this. */
const HOLD_REOPEN_MS = 500;
const REQUEST_TIMEOUT_MS = 15_000;

let command: Extract<AttackCommand, { type: 'start' }> | undefined;
let stopped = false;
let deadline = 0;
let requests = 0;
const outcomes = new Map<string, number>();
const sockets = new Set<Socket>();
const timers = new Set<NodeJS.Timeout>();

function tally(outcome: string): void {
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
}

function running(): boolean {
  return !stopped && performance.now() < deadline;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function servername(): string {
  return command!.address.replace(/:\d+$/, '');
}

/** An ES9+ answer as an outcome: HTTP status, then the ES9+ execution status and its codes when the body has them. */
function outcomeOf(status: number | undefined, text: string): string {
  try {
    const json = JSON.parse(text) as { header?: { functionExecutionStatus?: { status?: string; statusCodeData?: { subjectCode?: string; reasonCode?: string } } }; code?: string };
    const f = json.header?.functionExecutionStatus;
    if (f !== undefined) return `HTTP ${status} ${f.status ?? ''}${f.statusCodeData === undefined ? '' : ` ${f.statusCodeData.subjectCode}/${f.statusCodeData.reasonCode}`}`;
    if (typeof json.code === 'string') return `HTTP ${status} ${json.code}`;
  } catch {
    // not JSON
  }
  return `HTTP ${status}`;
}

function errorOutcome(e: unknown): string {
  return `error ${(e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e))}`;
}

/** POSTs one body to an ES9+ function; resolves with its outcome (never rejects). */
function post(agent: Agent | false, fn: string, body: Buffer, contentLength = body.length): Promise<string> {
  const c = command!;
  return new Promise((resolve) => {
    const req = request(
      {
        host: c.connect.host,
        port: c.connect.port,
        localAddress: c.localAddress,
        servername: servername(),
        ca: c.ca,
        agent,
        method: 'POST',
        path: `/gsma/rsp2/es9plus/${fn}`,
        headers: { Host: c.address, 'Content-Type': 'application/json', 'X-Admin-Protocol': 'gsma/rsp/v2.5.0', 'Content-Length': String(contentLength) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < 8192) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => resolve(outcomeOf(res.statusCode, Buffer.concat(chunks).toString('utf8'))));
        res.on('error', (e) => resolve(errorOutcome(e)));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'client timeout' })));
    req.on('error', (e) => resolve(errorOutcome(e)));
    if (contentLength === body.length) req.end(body);
    else req.write(body);
  });
}

function base64(b: Buffer): string {
  return b.toString('base64');
}

/** A BER TLV with a definite length. */
function tlv(tag: number[], ...content: Buffer[]): Buffer {
  const value = Buffer.concat(content);
  const n = value.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from(tag), Buffer.from(length), value]);
}

/** EUICCInfo1 (BF20) with the given CI key identifier lists, encoded by hand so that the lists may break their bounds. */
function rawEuiccInfo1(verification: Buffer[], signing: Buffer[]): Buffer {
  const list = (tag: number, ids: Buffer[]): Buffer => tlv([tag], ...ids.map((id) => tlv([0x04], id)));
  return tlv([0xbf, 0x20], tlv([0x82], Buffer.from([2, 5, 0])), list(0xa9, verification), list(0xaa, signing));
}

function initiateAuthenticationBody(euiccInfo1: Buffer): Buffer {
  return Buffer.from(JSON.stringify({ euiccChallenge: base64(randomBytes(16)), euiccInfo1: base64(euiccInfo1), smdpAddress: command!.address }));
}

async function flood(): Promise<void> {
  const ciKeyId = Buffer.from(command!.ciKeyId, 'hex');
  const info = encode(EUICCInfo1, { svn: Buffer.from([2, 5, 0]), euiccCiPKIdListForVerification: [ciKeyId], euiccCiPKIdListForSigning: [ciKeyId] });
  const agent = new Agent({ keepAlive: true, maxSockets: FLOOD_LANES });
  const lane = async (): Promise<void> => {
    while (running()) {
      requests++;
      const outcome = await post(agent, 'initiateAuthentication', initiateAuthenticationBody(info));
      tally(outcome);
      // A refused connection fails at once: a short pause keeps the attacker from spinning on its own core.
      if (outcome.startsWith('error')) await sleep(5);
    }
  };
  await Promise.all(Array.from({ length: FLOOD_LANES }, lane));
  agent.destroy();
}

/** How long a held connection lived before the server closed it. */
function lifetime(ms: number): string {
  return ms < 1000 ? 'under 1 s' : ms < 5000 ? '1-5 s' : ms < 15_000 ? '5-15 s' : ms < 35_000 ? '15-35 s' : 'over 35 s';
}

/** One connection held open: TLS, then a request whose body trickles a byte a second; or TCP that never sends a ClientHello. */
function holdOne(tls: boolean): void {
  if (!running()) return;
  const c = command!;
  const opened = performance.now();
  requests++;
  let handshake = false;
  let answer = '';
  let trickle: NodeJS.Timeout | undefined;
  const tcp = netConnect({ host: c.connect.host, port: c.connect.port, localAddress: c.localAddress });
  const socket: Socket = tls
    ? tlsConnect({ socket: tcp, servername: servername(), ca: c.ca }, () => {
        handshake = true;
        socket.write(
          `POST /gsma/rsp2/es9plus/initiateAuthentication HTTP/1.1\r\nHost: ${c.address}\r\nContent-Type: application/json\r\n` +
            `X-Admin-Protocol: gsma/rsp/v2.5.0\r\nContent-Length: 4000\r\n\r\n{"euiccInfo1":"`,
        );
        trickle = setInterval(() => socket.write('A'), 1000);
        timers.add(trickle);
      })
    : tcp;
  sockets.add(socket);
  tcp.on('error', () => {
    // the close that follows is what counts
  });
  socket.on('data', (chunk: Buffer) => {
    if (answer === '') answer = chunk.toString('latin1').split('\r\n')[0] ?? '';
  });
  socket.on('error', () => {
    // the close that follows is what counts
  });
  socket.on('close', () => {
    sockets.delete(socket);
    if (trickle !== undefined) {
      clearInterval(trickle);
      timers.delete(trickle);
    }
    if (stopped) {
      tally(`${tls ? 'TLS stalled body' : 'TCP silent'}: still open at the end`);
      return;
    }
    const how = tls && !handshake ? 'closed before the handshake completed' : `closed by the server after ${lifetime(performance.now() - opened)}`;
    tally(`${tls ? 'TLS stalled body' : 'TCP silent'}: ${how}${answer === '' ? '' : ` (${answer})`}`);
    const reopen = setTimeout(() => {
      timers.delete(reopen);
      holdOne(tls);
    }, HOLD_REOPEN_MS);
    timers.add(reopen);
  });
}

async function hold(): Promise<void> {
  for (let i = 0; i < HOLD_TLS; i++) holdOne(true);
  for (let i = 0; i < HOLD_RAW; i++) holdOne(false);
  while (running()) await sleep(100);
  stopped = true;
  for (const t of timers) clearTimeout(t);
  const open = [...sockets];
  await Promise.all(
    open.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.destroy();
        }),
    ),
  );
}

/** A JSON body of a function's declared fields, its first field padded so that the body is exactly `size` bytes. */
function paddedBody(fn: Es9FunctionName, size: number): Buffer {
  const names = Object.keys(ES9PLUS_FUNCTIONS[fn].request);
  const fields: Record<string, string> = {};
  for (const name of names) fields[name] = name === 'smdpAddress' ? command!.address : '';
  const pad = names.find((n) => n !== 'smdpAddress')!;
  const base = Buffer.byteLength(JSON.stringify(fields));
  fields[pad] = 'A'.repeat(Math.max(0, size - base));
  return Buffer.from(JSON.stringify(fields));
}

interface HostileCase {
  readonly name: string;
  readonly fn: string;
  readonly body: () => Buffer;
  /** A Content-Length larger than the body sent (the rest never comes). */
  readonly declaredLength?: number;
}

function hostileCases(): HostileCase[] {
  const cases: HostileCase[] = [];
  for (const fn of Object.keys(ES9PLUS_FUNCTIONS) as Es9FunctionName[]) {
    const limit = requestBodyLimit(ES9PLUS_FUNCTIONS[fn]);
    const atLimit = paddedBody(fn, limit);
    const overLimit = paddedBody(fn, limit + 1);
    cases.push({ name: `${fn} body at its limit (${limit} B)`, fn, body: () => atLimit });
    cases.push({ name: `${fn} body 1 byte over its limit`, fn, body: () => overLimit });
  }
  const id = (n: number, i: number): Buffer => Buffer.alloc(n, i & 0xff);
  const tooMany = Array.from({ length: MAX_CI_PKID_LIST + 1 }, (_, i) => id(20, i));
  cases.push({ name: `initiateAuthentication EUICCInfo1 with ${MAX_CI_PKID_LIST + 1} CI key ids per list`, fn: 'initiateAuthentication', body: () => initiateAuthenticationBody(rawEuiccInfo1(tooMany, tooMany)) });
  const oneByte = Array.from({ length: 600 }, (_, i) => id(1, i));
  cases.push({ name: 'initiateAuthentication EUICCInfo1 with 2 x 600 one-byte CI key ids', fn: 'initiateAuthentication', body: () => initiateAuthenticationBody(rawEuiccInfo1(oneByte, oneByte)) });
  const longId = [id(MAX_KEY_IDENTIFIER + 1, 1)];
  cases.push({ name: `initiateAuthentication CI key id of ${MAX_KEY_IDENTIFIER + 1} bytes`, fn: 'initiateAuthentication', body: () => initiateAuthenticationBody(rawEuiccInfo1(longId, longId)) });
  const garbage = base64(randomBytes(24 * 1024));
  cases.push({
    name: 'authenticateClient 24 KB of random base64',
    fn: 'authenticateClient',
    body: () => Buffer.from(JSON.stringify({ transactionId: randomBytes(16).toString('hex').toUpperCase(), authenticateServerResponse: garbage })),
  });
  let nested = tlv([0x04]);
  for (let i = 0; i < 5000; i++) nested = tlv([0x30], nested);
  const deep = base64(tlv([0xbf, 0x37], nested));
  cases.push({ name: 'handleNotification 5,000 nested SEQUENCEs', fn: 'handleNotification', body: () => Buffer.from(JSON.stringify({ pendingNotification: deep })) });
  cases.push({ name: 'handleNotification 24 KB of random base64', fn: 'handleNotification', body: () => Buffer.from(JSON.stringify({ pendingNotification: garbage })) });
  cases.push({ name: 'initiateAuthentication Content-Length 1 GB, 16 bytes sent', fn: 'initiateAuthentication', body: () => Buffer.from('{"euiccInfo1":"A'), declaredLength: 1 << 30 });
  return cases;
}

async function sizes(): Promise<void> {
  const cases = hostileCases();
  const agent = new Agent({ keepAlive: true, maxSockets: SIZES_LANES });
  let next = 0;
  const lane = async (): Promise<void> => {
    while (running()) {
      const c = cases[next++ % cases.length]!;
      requests++;
      const body = c.body();
      // A request whose body never completes leaves its connection unusable: it gets its own.
      const outcome = await post(c.declaredLength === undefined ? agent : false, c.fn, body, c.declaredLength ?? body.length);
      tally(`${c.name}: ${outcome}`);
      if (outcome.startsWith('error')) await sleep(5);
    }
  };
  await Promise.all(Array.from({ length: SIZES_LANES }, lane));
  agent.destroy();
}

const ATTACKS: Readonly<Record<AttackKind, () => Promise<void>>> = { flood, hold, sizes };

process.on('message', (message: AttackCommand) => {
  switch (message.type) {
    case 'start': {
      command = message;
      const start = performance.now();
      deadline = start + message.durationMs;
      const done = ATTACKS[message.kind]();
      process.send!({ type: 'started' } satisfies AttackReply);
      void done.then(() => process.send!({ type: 'result', kind: message.kind, requests, outcomes: Object.fromEntries(outcomes), elapsedMs: performance.now() - start } satisfies AttackReply));
      break;
    }
    case 'stop':
      stopped = true;
      break;
  }
});
// The parent going away ends this process too.
process.on('disconnect', () => process.exit(0));
