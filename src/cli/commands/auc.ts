// `mcim auc ...`: the operator's AuC (HSS/UDM): its HTTP API, subscribers, EPS/5G vectors, resync and SUCI from the command line.
import { createECDH, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { McimError } from '../../errors.js';
import { hnPublicKeyOf } from '../../crypto/suci.js';
import { confirmResStar } from '../../auc/confirmResStar.js';
import { createAucContext, type AucContext } from '../../auc/context.js';
import { deconcealSuci } from '../../auc/deconcealSuci.js';
import { generate5gVector } from '../../auc/generate5gVector.js';
import { generateEpsVector } from '../../auc/generateEpsVector.js';
import { DEFAULT_MAX_EXPORT_BYTES, DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_LINES, importSubscribers } from '../../auc/importSubscribers.js';
import { resynchronise, type ResyncTarget } from '../../auc/resynchronise.js';
import { createAucServer, epsVectorJson, fiveGVectorJson, MIN_TOKEN_LENGTH, resyncJson, subscriberJson } from '../../auc/server.js';
import { parseSubscriberRecord } from '../../auc/subscriberRecord.js';
import { AucStore, type HnKeyProfile } from '../../store/aucStore.js';
import { DATABASE_ENV, openDatabase, postgresConfig, type Database, type DatabaseConfig } from '../../store/database.js';
import { AtRestKey } from '../../store/secretBox.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../http/logging.js';
import { parseHexArg } from './aka.js';
import { untilStopped } from '../untilStopped.js';

/** The KEK file when --kek-file is not given. */
export const KEK_FILE_ENV = 'MCIM_AUC_KEK_FILE';
/** The API token when --token-file is not given. */
export const TOKEN_ENV = 'MCIM_AUC_TOKEN';
export const DEFAULT_AUC_PORT = 7650;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export interface AucCliOptions {
  db?: string;
  kekFile?: string;
  json?: boolean;
}

/** --db: a PostgreSQL URL (postgres://...[?schema=NAME]) or a SQLite file; default $MCIM_DB. */
export function aucDatabase(db: string | undefined, env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const value = db ?? (env[DATABASE_ENV] === '' ? undefined : env[DATABASE_ENV]);
  if (value === undefined) throw new McimError('INVALID_ARGUMENT', `give the AuC database with --db (a SQLite file or postgres://...) or $${DATABASE_ENV}`);
  return /^postgres(?:ql)?:\/\//.test(value) ? postgresConfig(value) : { engine: 'sqlite', file: value };
}

/** The key-encryption key from --kek-file or $MCIM_AUC_KEK_FILE: 32 bytes, raw, 64 hex digits or base64. */
export function readKek(file: string | undefined, env: NodeJS.ProcessEnv = process.env): AtRestKey {
  const path = file ?? (env[KEK_FILE_ENV] === '' ? undefined : env[KEK_FILE_ENV]);
  if (path === undefined) throw new McimError('INVALID_ARGUMENT', `give the AuC key-encryption key with --kek-file or $${KEK_FILE_ENV}`);
  if (!existsSync(path)) throw new McimError('NOT_FOUND', `the KEK file ${path} does not exist (create one: head -c 32 /dev/urandom > ${path}; chmod 600 ${path})`);
  return AtRestKey.resolve(path, { file: path, env: {} });
}

/** Opens the AuC's database and store; `run` gets its context, and the database is closed after. */
export async function withAuc<T>(o: AucCliOptions, run: (ctx: AucContext, db: Database) => Promise<T>): Promise<T> {
  const kek = readKek(o.kekFile);
  const db = await openDatabase(aucDatabase(o.db));
  try {
    return await run(createAucContext(new AucStore(db, kek.box())), db);
  } finally {
    await db.destroy();
  }
}

function print(o: AucCliOptions, value: unknown, human: () => string): void {
  process.stdout.write(o.json === true ? `${JSON.stringify(value, null, 2)}\n` : human());
}

function rows(value: Record<string, unknown>): string {
  return `${Object.entries(value)
    .map(([k, v]) => `${k.padEnd(20)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join('\n')}\n`;
}

function common(cmd: Command): Command {
  return cmd
    .option('--db <db>', `the AuC database: a SQLite file or postgres://USER@HOST:PORT/DATABASE[?schema=NAME] (default: $${DATABASE_ENV})`)
    .option('--kek-file <file>', `the key-encryption key, 32 bytes raw, hex or base64 (default: $${KEK_FILE_ENV})`)
    .option('--json', 'print JSON');
}

function integerOption(name: string, value: string, min: number, max: number): number {
  if (!/^\d{1,16}$/.test(value) || Number(value) < min || Number(value) > max) throw new McimError('INVALID_ARGUMENT', `${name} must be an integer ${min}..${max}, got "${value}"`);
  return Number(value);
}

function resyncTarget(o: { mcc?: string; mnc?: string; snn?: string }): ResyncTarget {
  if (o.snn !== undefined) return { type: '5g', servingNetworkName: o.snn };
  if (o.mcc === undefined || o.mnc === undefined) throw new McimError('INVALID_ARGUMENT', 'give --mcc and --mnc (EPS) or --snn (5G)');
  return { type: 'eps', plmn: { mcc: o.mcc, mnc: o.mnc } };
}

/** The API token from --token-file or $MCIM_AUC_TOKEN (surrounding white space dropped). */
export function readToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (file !== undefined) {
    if (!existsSync(file)) throw new McimError('NOT_FOUND', `the token file ${file} does not exist`);
    if (statSync(file).size > 4096) throw new McimError('INVALID_ARGUMENT', `the token file ${file} is larger than 4 KiB`);
    return readFileSync(file, 'utf8').trim();
  }
  const token = env[TOKEN_ENV];
  if (token === undefined || token === '') throw new McimError('INVALID_ARGUMENT', `give the API token with --token-file or $${TOKEN_ENV}`);
  return token.trim();
}

function listenError(e: unknown, host: string, port: number): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return new McimError('PORT_IN_USE', `port ${port} on ${host} is already in use`);
  if (code === 'EACCES') return new McimError('PORT_NOT_ALLOWED', `not allowed to listen on port ${port} on ${host}`);
  if (code === 'EADDRNOTAVAIL') return new McimError('INVALID_ARGUMENT', `--host ${host}: no such interface on this host`);
  return e;
}

interface ServeOptions extends AucCliOptions {
  port: string;
  host: string;
  tokenFile?: string;
  tlsKey?: string;
  tlsCert?: string;
  logLevel: string;
}

/** `mcim auc serve`: the API on host:port until SIGINT/SIGTERM. Beyond loopback only over TLS. */
async function serve(o: ServeOptions): Promise<void> {
  const port = integerOption('--port', o.port, 0, 65535);
  if ((o.tlsKey === undefined) !== (o.tlsCert === undefined)) throw new McimError('INVALID_ARGUMENT', '--tls-key and --tls-cert go together');
  if (!LOOPBACK.has(o.host) && o.tlsKey === undefined) throw new McimError('INVALID_ARGUMENT', `--host ${o.host} is not loopback: serve it over TLS (--tls-key, --tls-cert)`);
  if (!(LOG_LEVELS as readonly string[]).includes(o.logLevel)) throw new McimError('INVALID_ARGUMENT', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const token = readToken(o.tokenFile);
  if (token.length < MIN_TOKEN_LENGTH) throw new McimError('INVALID_ARGUMENT', `the API token must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces`);
  const kek = readKek(o.kekFile);
  const db = await openDatabase(aucDatabase(o.db));
  const logger = createLogger({ level: o.logLevel as LogLevel });
  try {
    const tls = o.tlsKey === undefined ? undefined : { key: readFileSync(o.tlsKey), cert: readFileSync(o.tlsCert!) };
    const app = await createAucServer(createAucContext(new AucStore(db, kek.box())), { token, logger, ...(tls === undefined ? {} : { tls }) });
    await app.listen({ host: o.host, port }).catch((e: unknown) => {
      throw listenError(e, o.host, port);
    });
    const address = app.server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : port;
    process.stdout.write(o.json === true ? `${JSON.stringify({ host: o.host, port: bound, tls: tls !== undefined })}\n` : `mcim AuC listening on ${tls === undefined ? 'http' : 'https'}://${o.host}:${bound} (OpenAPI: /openapi.json)\n`);
    await untilStopped();
    await app.close();
  } finally {
    await db.destroy();
  }
}

interface AddOptions extends AucCliOptions {
  imsi: string;
  iccid?: string;
  operator: string;
  algorithm: string;
  k: string;
  opc?: string;
  topc?: string;
  amf?: string;
  sqn?: string;
  indBits?: string;
  macLength?: string;
  resLength?: string;
  ckLength?: string;
  ikLength?: string;
  keccakIterations?: string;
}

/** The options of `subscribers add` as a subscriber record (the import format), checked by the same parser. */
function addRecord(o: AddOptions): Record<string, unknown> {
  const record: Record<string, unknown> = { imsi: o.imsi, operator: o.operator, algorithm: o.algorithm, k: o.k };
  for (const name of ['iccid', 'opc', 'topc', 'amf', 'sqn'] as const) if (o[name] !== undefined) record[name] = o[name];
  for (const name of ['indBits', 'macLength', 'resLength', 'ckLength', 'ikLength', 'keccakIterations'] as const) {
    const v = o[name];
    if (v !== undefined) record[name] = integerOption(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v, 0, 999_999);
  }
  return record;
}

/** A home network key pair for SUCI: profile A an X25519 key, profile B a P-256 key (private scalar, 32 bytes). */
function hnKeyPair(profile: HnKeyProfile, privateHex: string | undefined): { privateKey: Buffer; publicKey: Buffer } {
  let privateKey: Buffer;
  if (privateHex !== undefined) privateKey = parseHexArg('the private key file', privateHex, 32);
  else if (profile === 'A') privateKey = randomBytes(32);
  else {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    privateKey = ecdh.getPrivateKey();
  }
  return { privateKey, publicKey: hnPublicKeyOf(profile, privateKey) };
}

export function registerAuc(program: Command): void {
  const auc = program.command('auc').description("The operator's AuC (HSS/UDM authentication centre): API, subscribers, EPS/5G AKA vectors, resync, SUCI");

  common(auc.command('serve').description('Serve the AuC HTTP API (bearer token; loopback unless over TLS)'))
    .option('--port <n>', 'TCP port', String(DEFAULT_AUC_PORT))
    .option('--host <host>', 'address to listen on (a non-loopback address needs --tls-key/--tls-cert)', '127.0.0.1')
    .option('--token-file <file>', `the API bearer token, at least 32 characters (default: $${TOKEN_ENV})`)
    .option('--tls-key <file>', 'PEM private key: serve HTTPS')
    .option('--tls-cert <file>', 'PEM certificate chain for --tls-key')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`, 'info')
    .action((o: ServeOptions) => serve(o));

  const subscribers = auc.command('subscribers').description('Subscribers: K and OPc/TOPc encrypted at rest, never shown');
  common(subscribers.command('add').description('Add one subscriber'))
    .requiredOption('--imsi <digits>', 'IMSI, 6 to 15 digits')
    .requiredOption('--operator <id>', "operator id: its data key encrypts the subscriber's secrets")
    .requiredOption('--algorithm <name>', 'milenage or tuak')
    .requiredOption('--k <hex>', 'K: 16 bytes (TUAK: 16 or 32)')
    .option('--iccid <digits>', 'ICCID of the profile')
    .option('--opc <hex>', 'OPc, 16 bytes (Milenage)')
    .option('--topc <hex>', 'TOPc, 32 bytes (TUAK)')
    .option('--amf <hex>', 'AMF, 2 bytes (default 8000)')
    .option('--sqn <hex>', 'the SQN last used, 6 bytes (default 000000000000)')
    .option('--ind-bits <n>', 'IND length in bits (default 5)')
    .option('--mac-length <bytes>', 'TUAK MAC length: 8, 16 or 32')
    .option('--res-length <bytes>', 'TUAK RES length: 4, 8, 16 or 32')
    .option('--ck-length <bytes>', 'TUAK CK length: 16 or 32')
    .option('--ik-length <bytes>', 'TUAK IK length: 16 or 32')
    .option('--keccak-iterations <n>', 'TUAK Keccak iterations')
    .action((o: AddOptions) =>
      withAuc(o, async (ctx) => {
        const s = parseSubscriberRecord(addRecord(o), 'subscriber');
        await ctx.store.addSubscribers([s], ctx.now());
        const shown = subscriberJson(await ctx.store.getSubscriber(s.imsi));
        print(o, shown, () => `added subscriber ${s.imsi}\n`);
      }),
    );
  common(subscribers.command('import').description(`Import the operator's subscriber export (JSON Lines), all or nothing`))
    .argument('<file>', `JSON Lines, one subscriber a line (at most ${DEFAULT_MAX_LINES} lines of ${DEFAULT_MAX_LINE_BYTES} bytes, ${DEFAULT_MAX_EXPORT_BYTES / 1024 / 1024} MiB)`)
    .action((file: string, o: AucCliOptions) =>
      withAuc(o, async (ctx) => {
        if (!existsSync(file)) throw new McimError('NOT_FOUND', `${file} does not exist`);
        if (statSync(file).size > DEFAULT_MAX_EXPORT_BYTES) throw new McimError('INPUT_TOO_LARGE', `${file} is larger than a subscriber export may be (${DEFAULT_MAX_EXPORT_BYTES} bytes)`);
        const imported = await importSubscribers(ctx, readFileSync(file));
        print(o, { imported }, () => `imported ${imported} subscribers\n`);
      }),
    );
  common(subscribers.command('list').description('List subscribers (no secrets)'))
    .option('--after <imsi>', 'start after this IMSI')
    .option('--limit <n>', 'at most this many (1..1000)', '100')
    .action((o: AucCliOptions & { after?: string; limit: string }) =>
      withAuc(o, async (ctx) => {
        const list = await ctx.store.listSubscribers({ ...(o.after === undefined ? {} : { after: o.after }), limit: integerOption('--limit', o.limit, 1, 1000) });
        print(o, list.map(subscriberJson), () => list.map((s) => `${s.imsi}  ${s.algorithm.padEnd(8)} ${s.state.padEnd(9)} ${s.operatorId}  SEQ_HE ${s.seqHe}\n`).join(''));
      }),
    );
  common(subscribers.command('show').description('One subscriber (no secrets)'))
    .argument('<imsi>')
    .action((imsi: string, o: AucCliOptions) =>
      withAuc(o, async (ctx) => {
        const shown = subscriberJson(await ctx.store.getSubscriber(imsi));
        print(o, shown, () => rows(shown));
      }),
    );
  for (const [name, state] of [
    ['suspend', 'suspended'],
    ['resume', 'active'],
  ] as const) {
    common(subscribers.command(name).description(name === 'suspend' ? 'Suspend: no vector until resumed' : 'Resume a suspended subscriber'))
      .argument('<imsi>')
      .action((imsi: string, o: AucCliOptions) =>
        withAuc(o, async (ctx) => {
          const shown = subscriberJson(await ctx.store.setState(imsi, state, ctx.now()));
          print(o, shown, () => `subscriber ${imsi} ${state}\n`);
        }),
      );
  }
  common(subscribers.command('restrict').description('Set the service restrictions returned with every vector'))
    .argument('<imsi>')
    .option('--data-only', 'packet data only')
    .option('--volume-cap <bytes>', 'bytes the subscriber may transfer (none: no cap)')
    .action((imsi: string, o: AucCliOptions & { dataOnly?: boolean; volumeCap?: string }) =>
      withAuc(o, async (ctx) => {
        const volumeCapBytes = o.volumeCap === undefined ? undefined : integerOption('--volume-cap', o.volumeCap, 0, Number.MAX_SAFE_INTEGER);
        const shown = subscriberJson(await ctx.store.setRestrictions(imsi, { dataOnly: o.dataOnly === true, volumeCapBytes }, ctx.now()));
        print(o, shown, () => rows(shown));
      }),
    );
  common(subscribers.command('delete').description('Delete a subscriber'))
    .argument('<imsi>')
    .action((imsi: string, o: AucCliOptions) =>
      withAuc(o, async (ctx) => {
        await ctx.store.deleteSubscriber(imsi);
        print(o, { deleted: imsi }, () => `deleted subscriber ${imsi}\n`);
      }),
    );

  const vector = auc.command('vector').description('Authentication vectors');
  common(vector.command('eps').description('EPS-AKA vector: RAND, XRES, AUTN, KASME (TS 33.401 A.2)'))
    .requiredOption('--imsi <digits>', 'IMSI')
    .requiredOption('--mcc <digits>', 'serving network MCC')
    .requiredOption('--mnc <digits>', 'serving network MNC')
    .action((o: AucCliOptions & { imsi: string; mcc: string; mnc: string }) =>
      withAuc(o, async (ctx) => {
        const v = epsVectorJson(await generateEpsVector(ctx, o.imsi, { mcc: o.mcc, mnc: o.mnc }));
        print(o, v, () => rows(v));
      }),
    );
  common(vector.command('5g').description('5G-AKA vector: RAND, AUTN, HXRES*, KAUSF, KSEAF (TS 33.501 6.1.3.2)'))
    .requiredOption('--imsi <digits>', 'IMSI')
    .requiredOption('--snn <name>', 'serving network name, 5G:mncNNN.mccNNN.3gppnetwork.org')
    .action((o: AucCliOptions & { imsi: string; snn: string }) =>
      withAuc(o, async (ctx) => {
        const v = fiveGVectorJson(await generate5gVector(ctx, o.imsi, o.snn));
        print(o, v, () => rows(v));
      }),
    );
  common(vector.command('confirm').description('5G-AKA confirmation: RES* against the stored XRES*'))
    .requiredOption('--auth-ctx-id <hex>', 'the authCtxId of the 5G vector')
    .requiredOption('--res-star <hex>', 'RES*, 16 bytes')
    .action((o: AucCliOptions & { authCtxId: string; resStar: string }) =>
      withAuc(o, async (ctx) => {
        const r = await confirmResStar(ctx, o.authCtxId, parseHexArg('--res-star', o.resStar, 16));
        print(o, r, () => `confirmed ${r.supi}\n`);
      }),
    );

  common(auc.command('resync').description('Re-synchronise SQN from AUTS and print a fresh vector (TS 33.102 6.3.5)'))
    .requiredOption('--imsi <digits>', 'IMSI')
    .requiredOption('--rand <hex>', 'RAND of the refused vector, 16 bytes')
    .requiredOption('--auts <hex>', 'AUTS from the USIM')
    .option('--mcc <digits>', 'EPS: serving network MCC')
    .option('--mnc <digits>', 'EPS: serving network MNC')
    .option('--snn <name>', '5G: serving network name')
    .action((o: AucCliOptions & { imsi: string; rand: string; auts: string; mcc?: string; mnc?: string; snn?: string }) =>
      withAuc(o, async (ctx) => {
        const rand = parseHexArg('--rand', o.rand, 16);
        const auts = parseHexArg('--auts', o.auts, 14, 22, 38);
        const r = await resynchronise(ctx, o.imsi, rand, auts, resyncTarget(o));
        const shown = resyncJson(r);
        print(o, shown, () => `SQN_MS               ${shown.sqnMs}\n${rows(shown.vector)}`);
      }),
    );

  common(auc.command('suci').description('De-conceal a SUCI with the home network key it names (TS 33.501 6.12.5)'))
    .argument('<suci>', 'suci-0-<mcc>-<mnc>-<routing>-<scheme>-<key id>-<output>')
    .action((suci: string, o: AucCliOptions) =>
      withAuc(o, async (ctx) => {
        const r = await deconcealSuci(ctx, suci);
        print(o, r, () => `${r.supi}\n`);
      }),
    );

  const hnKeys = auc.command('hn-keys').description('Home network SUCI keys (profile A: X25519, B: P-256), private keys encrypted under the KEK');
  common(hnKeys.command('add').description('Add (or replace) a home network key; generated unless --private-key-file'))
    .requiredOption('--profile <A|B>', 'ECIES profile')
    .requiredOption('--id <n>', 'home network public key id, 0..255')
    .option('--private-key-file <file>', 'the private key, 32 bytes as hex')
    .action((o: AucCliOptions & { profile: string; id: string; privateKeyFile?: string }) =>
      withAuc(o, async (ctx) => {
        if (o.profile !== 'A' && o.profile !== 'B') throw new McimError('INVALID_ARGUMENT', `--profile must be A or B, got "${o.profile}"`);
        const id = integerOption('--id', o.id, 0, 255);
        if (o.privateKeyFile !== undefined && !existsSync(o.privateKeyFile)) throw new McimError('NOT_FOUND', `${o.privateKeyFile} does not exist`);
        const given = o.privateKeyFile === undefined ? undefined : readFileSync(o.privateKeyFile, 'utf8').slice(0, 200).trim();
        const { privateKey, publicKey } = hnKeyPair(o.profile, given);
        await ctx.store.putHnKey(o.profile, id, privateKey, publicKey, ctx.now());
        const shown = { profile: o.profile, hnKeyId: id, publicKey: publicKey.toString('hex') };
        print(o, shown, () => rows(shown));
      }),
    );
  common(hnKeys.command('list').description('Home network keys: profile, id, public key'))
    .action((o: AucCliOptions) =>
      withAuc(o, async (ctx) => {
        const list = (await ctx.store.listHnKeys()).map((k) => ({ profile: k.profile, hnKeyId: k.hnKeyId, publicKey: k.publicKey.toString('hex') }));
        print(o, list, () => list.map((k) => `${k.profile} ${String(k.hnKeyId).padStart(3)} ${k.publicKey}\n`).join(''));
      }),
    );
}
