// `mcim eim serve` (the eIM: ESipa over HTTPS and the fleet API) and `mcim fleet register|list|run|status|report` (a client of the fleet API, issue 10 "Fleet operations").
import { readFileSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { Option, type Command } from 'commander';
import { McimError } from '../../errors.js';
import { eimClientSettings, initEimDataDir } from '../../eim/dataDir.js';
import { MAX_REGISTRATION_BATCH } from '../../eim/fleetApi.js';
import { FLEET_OPERATION_KINDS } from '../../eim/fleet/operations.js';
import { readRegistrationFile, type RegistrationRecord } from '../../eim/fleet/registrationFile.js';
import { DEFAULT_CONTACT_INTERVAL_MS } from '../../eim/context.js';
import { DEFAULT_ESIPA_LIMITS, type EsipaLimits } from '../../eim/esipaLimits.js';
import { openEimService, type EimServiceOptions } from '../../eim/service.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../http/logging.js';
import { postgresConfig } from '../../store/database.js';
import { parseWholeNumber } from '../wholeNumber.js';
import { untilStopped } from '../untilStopped.js';

/** The token when neither --token-file nor --data is given. */
export const FLEET_TOKEN_ENV = 'MCIM_FLEET_TOKEN';
/** Largest answer the client reads (a report page of 1000 targets). */
const MAX_RESPONSE = 16 * 1024 * 1024;

// ---- the client ----

export interface FleetClientOptions {
  /** https://host[:port] of the eIM. */
  readonly api: string;
  readonly token: string;
  /** PEM of the CA the eIM's TLS certificate verifies to. */
  readonly ca: string;
  /** Connect here instead of resolving the API's host (TLS still checks the host's name). */
  readonly connect?: { readonly host: string; readonly port: number };
}

export interface FleetCliOptions {
  api?: string;
  data?: string;
  tokenFile?: string;
  ca?: string;
  connect?: string;
  json?: boolean;
}

/** The client settings from --data (token, CA, address), each overridden by --token-file, --ca, --api; the token else from $MCIM_FLEET_TOKEN. */
export function fleetClientOptions(o: FleetCliOptions, env: NodeJS.ProcessEnv = process.env): FleetClientOptions {
  const fromDir = o.data === undefined ? undefined : eimClientSettings(o.data);
  const readSmall = (file: string, what: string): string => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      throw new McimError('NOT_FOUND', `the ${what} file ${file} does not exist`);
    }
    if (size > 64 * 1024) throw new McimError('INVALID_ARGUMENT', `the ${what} file ${file} is larger than 64 KiB`);
    return readFileSync(file, 'utf8');
  };
  const token = o.tokenFile !== undefined ? readSmall(o.tokenFile, 'token').trim() : (fromDir?.token ?? env[FLEET_TOKEN_ENV]?.trim());
  if (token === undefined || token === '') throw new McimError('INVALID_ARGUMENT', `give the fleet API token with --token-file, --data or $${FLEET_TOKEN_ENV}`);
  const caFile = o.ca ?? fromDir?.caFile;
  if (caFile === undefined) throw new McimError('INVALID_ARGUMENT', "give the eIM's TLS CA with --ca or --data");
  const api = o.api ?? (fromDir === undefined ? undefined : `https://${fromDir.address}`);
  if (api === undefined) throw new McimError('INVALID_ARGUMENT', 'give the eIM with --api https://HOST[:PORT] or --data');
  let connect: FleetClientOptions['connect'];
  if (o.connect !== undefined) {
    const m = /^(.+):(\d{1,5})$/.exec(o.connect);
    if (m === null || Number(m[2]) > 65535) throw new McimError('INVALID_ARGUMENT', `--connect takes host:port, got '${o.connect}'`);
    connect = { host: m[1]!, port: Number(m[2]) };
  }
  return { api, token, ca: readSmall(caFile, 'CA'), ...(connect === undefined ? {} : { connect }) };
}

/** One request to the fleet API: JSON in, JSON out; an error answer is a McimError with the API's code and message. */
export async function fleetRequest<T>(c: FleetClientOptions, method: string, path: string, body?: unknown): Promise<T> {
  let url: URL;
  try {
    url = new URL(c.api);
  } catch {
    throw new McimError('INVALID_ARGUMENT', `'${c.api}' is not a URL`);
  }
  if (url.protocol !== 'https:') throw new McimError('INVALID_ARGUMENT', `the fleet API is served over HTTPS, not ${url.protocol}`);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
  return new Promise<T>((resolve, reject) => {
    const req = httpsRequest(
      {
        host: c.connect?.host ?? url.hostname,
        port: c.connect?.port ?? (url.port === '' ? 443 : Number(url.port)),
        servername: url.hostname,
        method,
        path: `/fleet${path}`,
        ca: c.ca,
        headers: {
          authorization: `Bearer ${c.token}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(payload.length) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE) {
            req.destroy();
            reject(new McimError('RESPONSE_TOO_LARGE', `the fleet API answered more than ${MAX_RESPONSE} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            reject(new McimError('MALFORMED_RESPONSE', `the fleet API answered HTTP ${res.statusCode} without JSON`));
            return;
          }
          if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) {
            resolve(parsed as T);
            return;
          }
          const e = (parsed as { error?: { code?: string; message?: string } }).error;
          const code = e?.code === 'UNAUTHORIZED' || e?.code === 'NOT_FOUND' || e?.code === 'DEVICE_NOT_FOUND' ? e.code : 'FUNCTION_FAILED';
          reject(new McimError(code, `the fleet API refused ${method} ${path.split('?')[0]} (HTTP ${res.statusCode}): ${e?.code ?? ''} ${e?.message ?? ''}`.trim()));
        });
        res.on('error', reject);
      },
    );
    req.on('error', (e) => reject(new McimError('TRANSPORT_ERROR', `cannot reach the eIM at ${c.api}: ${e.message}`, { cause: e })));
    req.end(payload);
  });
}

// ---- the commands' work ----

export interface RegisterReport {
  readonly registered: number;
  readonly existing: number;
  readonly refused: number;
  /** The refused and existing records, by line of the file. */
  readonly problems: { line: number; eid?: string; status: string; code?: string; message?: string }[];
}

/** Registers the devices of a registration file, in batches (every line checked first by the parser, a bad line stops it). */
export async function fleetRegister(c: FleetClientOptions, file: string, tags: readonly string[] = []): Promise<RegisterReport> {
  let registered = 0;
  let existing = 0;
  let refused = 0;
  const problems: RegisterReport['problems'] = [];
  for await (const batch of readRegistrationFile(file, MAX_REGISTRATION_BATCH)) {
    const devices = batch.map((r: RegistrationRecord) => ({
      ...(r.eid === undefined ? {} : { eid: r.eid }),
      euiccCertificate: r.euiccCertificate.toString('base64'),
      eumCertificate: r.eumCertificate.toString('base64'),
      ...(r.associationToken === undefined ? {} : { associationToken: r.associationToken }),
      ...(r.counter === undefined ? {} : { counter: r.counter }),
      ...(r.keyGeneration === undefined ? {} : { keyGeneration: r.keyGeneration }),
      ...(r.tags === undefined && tags.length === 0 ? {} : { tags: [...new Set([...(r.tags ?? []), ...tags])] }),
    }));
    type Answer = { registered: number; existing: number; refused: number; results: { index: number; eid?: string; status: string; code?: string; message?: string }[] };
    const a = await fleetRequest<Answer>(c, 'POST', '/devices', { devices });
    registered += a.registered;
    existing += a.existing;
    refused += a.refused;
    for (const { index, ...r } of a.results) if (r.status !== 'registered') problems.push({ line: batch[index]!.line, ...r });
  }
  return { registered, existing, refused, problems };
}

export interface OperationAnswer {
  readonly id: string;
  readonly kind: string;
  readonly params: Record<string, unknown>;
  readonly targets: number;
  readonly createdAt: number;
  readonly counts: { pending: number; running: number; done: number; failed: number };
  readonly finished: boolean;
}

export interface TargetAnswer {
  readonly eid: string;
  readonly state: string;
  readonly step: string;
  readonly attempts: number;
  readonly reason?: string;
  readonly waitingForDevice?: boolean;
  readonly result?: Record<string, unknown>;
}

export interface ReportAnswer {
  readonly operation: OperationAnswer;
  readonly targets: TargetAnswer[];
}

export interface RunCliOptions extends FleetCliOptions {
  eids?: string;
  tag?: string;
  file?: string;
  iccid?: string;
  codes?: string;
  defaultSmdp?: boolean;
  operator?: string;
  profileType?: string;
  rollback?: boolean;
  generation?: number;
  wait?: boolean;
  interval?: number;
}

/** EIDs from --eids (comma separated) and --file (one a line, '#' comments). */
function selectedEids(o: RunCliOptions): string[] {
  const list = (o.eids ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (o.file !== undefined) {
    for (const line of readFileSync(o.file, 'utf8').split(/\r?\n/)) {
      const t = line.replace(/#.*/, '').trim();
      if (t !== '') list.push(t);
    }
  }
  for (const e of list) if (!/^[0-9]{32}$/.test(e)) throw new McimError('INVALID_ARGUMENT', `'${e.slice(0, 40)}' is not an EID (32 digits)`);
  return list;
}

/** --codes FILE: lines 'EID,activation code' (or 'EID activation code'); '#' comments. */
function activationCodes(file: string): Record<string, string> {
  const codes: Record<string, string> = {};
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      const t = line.trim();
      if (t === '' || t.startsWith('#')) return;
      const m = /^([0-9]{32})[\s,]+(\S+)$/.exec(t);
      if (m === null) throw new McimError('INVALID_ARGUMENT', `${file} line ${i + 1}: expected 'EID,activation code'`);
      codes[m[1]!] = m[2]!;
    });
  return codes;
}

/** The operation's parameters from the flags. */
export function runParams(kind: string, o: RunCliOptions): Record<string, unknown> {
  switch (kind) {
    case 'enable':
      return { iccid: o.iccid, ...(o.rollback === false ? { rollback: false } : {}) };
    case 'disable':
    case 'delete':
      return { iccid: o.iccid };
    case 'download':
    case 'switchOperator':
      return {
        ...(o.codes === undefined ? {} : { activationCodes: activationCodes(o.codes) }),
        ...(o.defaultSmdp === true ? { defaultSmdp: true } : {}),
        ...(o.operator === undefined ? {} : { operator: o.operator }),
        ...(o.profileType === undefined ? {} : { profileType: o.profileType }),
        ...(o.rollback === false ? { rollback: false } : {}),
      };
    case 'rotateEimKey':
      return o.generation === undefined ? {} : { generation: o.generation };
    default:
      return {};
  }
}

export async function fleetRun(c: FleetClientOptions, kind: string, o: RunCliOptions): Promise<OperationAnswer> {
  const eids = selectedEids(o);
  return fleetRequest<OperationAnswer>(c, 'POST', '/operations', {
    kind,
    ...(eids.length === 0 ? {} : { eids }),
    ...(o.tag === undefined ? {} : { tag: o.tag }),
    params: runParams(kind, o),
  });
}

/** The whole report, page by page. */
export async function fleetReport(c: FleetClientOptions, id: string): Promise<ReportAnswer> {
  if (!/^[0-9a-f]{32}$/.test(id)) throw new McimError('INVALID_ARGUMENT', `'${id.slice(0, 40)}' is not an operation id`);
  const targets: TargetAnswer[] = [];
  let after: string | undefined;
  let operation: OperationAnswer;
  for (;;) {
    const page = await fleetRequest<ReportAnswer & { next?: string }>(c, 'GET', `/operations/${id}?limit=1000${after === undefined ? '' : `&after=${after}`}`);
    operation = page.operation;
    targets.push(...page.targets);
    if (page.next === undefined) break;
    after = page.next;
  }
  return { operation, targets };
}

/** Polls the operation until no target is pending or running; `progress` gets the counts after each poll. */
export async function fleetWait(c: FleetClientOptions, id: string, intervalMs: number, progress: (op: OperationAnswer) => void): Promise<OperationAnswer> {
  for (;;) {
    const page = await fleetRequest<ReportAnswer>(c, 'GET', `/operations/${id}?limit=1`);
    progress(page.operation);
    if (page.operation.finished) return page.operation;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ---- output ----

function countsText(op: OperationAnswer): string {
  const n = op.counts;
  return `operation ${op.id} (${op.kind}, ${op.targets} devices): ${n.done} done, ${n.failed} failed, ${n.pending + n.running} pending${op.finished ? ', finished' : ''}\n`;
}

export function reportText(r: ReportAnswer): string {
  const lines = [countsText(r.operation).trimEnd()];
  for (const t of r.targets) {
    const detail = t.state === 'failed' ? `: ${t.reason ?? ''}` : t.state === 'done' ? '' : ` at ${t.step}${t.waitingForDevice === true ? ' (waiting for the device)' : ''}${t.reason === undefined ? '' : ` (last: ${t.reason})`}`;
    lines.push(`${t.eid}  ${t.state.padEnd(7)}${detail}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---- the commands ----

function clientOptions(cmd: Command): Command {
  return cmd
    .option('--api <url>', "the eIM: https://HOST[:PORT] (default: the data directory's address)")
    .option('--data <dir>', "the eIM's data directory: its token, TLS CA and address")
    .option('--token-file <file>', `the fleet API token (default: DIR/api.token, or $${FLEET_TOKEN_ENV})`)
    .option('--ca <pem>', "the CA of the eIM's TLS certificate (default: DIR/tls/ca.pem)")
    .option('--connect <host:port>', "connect there instead of resolving the API's host")
    .option('--json', 'print JSON');
}

type Write = (text: string) => void;

interface EimServeCliOptions {
  data: string;
  port: string;
  listen: string;
  db?: string;
  eimId?: string;
  address?: string;
  ci?: string[];
  atRestKeyFile?: string;
  pushCa?: string[];
  logLevel: string;
  json?: boolean;
  esipaRate?: string;
  esipaWindow?: string;
  esipaSources?: string;
  esipaConcurrency?: string;
  contactInterval?: string;
  hideUnknownEids?: boolean;
  relay?: boolean;
  smdpAllow?: string[];
  smdpCa?: string[];
  smdpConnect?: string;
}

/** The ESipa abuse bounds `mcim eim serve` was given (each unset one keeps its default). */
export function eimServeLimits(o: Omit<EimServeCliOptions, 'data' | 'port' | 'listen' | 'logLevel'>): Pick<EimServiceOptions, 'esipaLimits' | 'contactIntervalMs' | 'hideUnknownEids'> {
  const n = (v: string | undefined, name: string, min: number, max: number): number | undefined => (v === undefined ? undefined : parseWholeNumber(v, name, min, max));
  const esipa: Partial<EsipaLimits> = {
    ...definedEntry('maxRequestsPerSource', n(o.esipaRate, '--esipa-rate', 0, 1_000_000)),
    ...definedEntry('windowMs', n(o.esipaWindow, '--esipa-window', 1, 3_600_000)),
    ...definedEntry('maxSources', n(o.esipaSources, '--esipa-sources', 1, 1_000_000)),
    ...definedEntry('maxConcurrentRequests', n(o.esipaConcurrency, '--esipa-concurrency', 0, 1_000_000)),
  };
  const contact = n(o.contactInterval, '--contact-interval', 0, 86_400_000);
  return {
    esipaLimits: esipa,
    ...(contact === undefined ? {} : { contactIntervalMs: contact }),
    ...(o.hideUnknownEids === true ? { hideUnknownEids: true } : {}),
  };
}

function definedEntry<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/** `mcim eim serve --relay`: the SM-DP+ allow-list, TLS trust and routing. */
function relayOptions(o: { smdpAllow?: string[]; smdpCa?: string[]; smdpConnect?: string }): NonNullable<EimServiceOptions['relay']> {
  const ca = (o.smdpCa ?? []).map((file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new McimError('INVALID_ARGUMENT', `cannot read CA file ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  let connect: { host: string; port: number } | undefined;
  if (o.smdpConnect !== undefined) {
    const m = /^([^:\s]+):(\d{1,5})$/.exec(o.smdpConnect);
    if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new McimError('INVALID_ARGUMENT', `--smdp-connect '${o.smdpConnect}' is not host:port`);
    connect = { host: m[1]!, port: Number(m[2]) };
  }
  return {
    ...(o.smdpAllow === undefined ? {} : { allowedSmdpAddresses: o.smdpAllow }),
    ...(ca.length === 0 && connect === undefined ? {} : { es9: { ...(ca.length === 0 ? {} : { ca }), ...(connect === undefined ? {} : { connect }) } }),
  };
}

export function registerFleet(program: Command, write: Write = (text) => void process.stdout.write(text)): void {
  const eim = program.command('eim').description('the eIM (SGP.32): ESipa over HTTPS and the fleet API');
  eim
    .command('serve')
    .description('serve ESipa (ASN.1 and JSON bindings) and the fleet API (bearer token, /fleet/openapi.json) on one HTTPS port; fleet operations run and resume here')
    .requiredOption('--data <dir>', 'data directory (created on first use: eim.json, TLS test PKI, cis/, api.token, secret.key)')
    .option('--port <n>', 'port', '8444')
    .option('--listen <ip>', 'address to listen on', '127.0.0.1')
    .option('--db <url>', 'postgres://... (default: $MCIM_DB, else DIR/eim.sqlite)')
    .option('--eim-id <id>', 'the eimId of a new directory')
    .option('--address <host[:port]>', "a new directory's address (its TLS certificate's name; default localhost:8444)")
    .option('--ci <file>', 'a CI certificate (DER or PEM) whose eUICCs may be registered (repeatable)', (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .option('--at-rest-key-file <file>', 'the at-rest key (default DIR/secret.key)')
    .option('--push-ca <pem>', "TransferEimPackage (inject mode): a CA the IPAds' listeners chain to (repeatable); the eIM's TLS certificate is its client certificate. Without: no pushes", (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--relay', "relay ES9+ for IPAds in indirect mode and forward the notifications the eIM receives to their SM-DP+ (SGP.32 3.2.2, 3.6)")
    .option('--smdp-allow <host[:port]>', 'with --relay: an SM-DP+ the eIM may call (repeatable; default: any the device names)', (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .option('--smdp-ca <pem>', "with --relay: a CA certificate file for the SM-DP+'s TLS (repeatable; default: Node's roots)", (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .option('--smdp-connect <host:port>', "with --relay: connect there instead of resolving the SM-DP+'s address (tests)")
    .option('--json', 'print the listening address as JSON')
    .option('--esipa-rate <n>', `ESipa requests per source (IPv4 address, IPv6 /64) per window; 0: no limit (default ${DEFAULT_ESIPA_LIMITS.maxRequestsPerSource})`)
    .option('--esipa-window <ms>', `the rate's window (default ${DEFAULT_ESIPA_LIMITS.windowMs})`)
    .option('--esipa-sources <n>', `sources tracked at most, least recently seen evicted (default ${DEFAULT_ESIPA_LIMITS.maxSources})`)
    .option('--esipa-concurrency <n>', `ESipa requests in progress at once; 0: no cap (default ${DEFAULT_ESIPA_LIMITS.maxConcurrentRequests})`)
    .option('--contact-interval <ms>', `a device's last contact written at most once per this (default ${DEFAULT_CONTACT_INTERVAL_MS})`)
    .option('--hide-unknown-eids', 'answer GetEimPackage for an unknown EID noEimPackageAvailable (1) instead of eidNotFound (2)')
    .action(async (o: EimServeCliOptions) => {
      const port = parseWholeNumber(o.port, '--port', 0, 65535);
      if (!(LOG_LEVELS as readonly string[]).includes(o.logLevel)) throw new McimError('INVALID_ARGUMENT', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
      if (o.db !== undefined && !/^postgres(ql)?:\/\//.test(o.db)) throw new McimError('INVALID_ARGUMENT', '--db takes a postgres:// URL (SQLite: the data directory)');
      const data = initEimDataDir(o.data, {
        ...(o.eimId === undefined ? {} : { eimId: o.eimId }),
        ...(o.address === undefined ? {} : { address: o.address }),
        ...(o.ci === undefined ? {} : { cis: o.ci }),
        ...(o.atRestKeyFile === undefined ? {} : { keySource: { file: o.atRestKeyFile } }),
      });
      const logger = createLogger({ level: o.logLevel as LogLevel });
      const pushCa = (o.pushCa ?? []).map((file) => readFileSync(file));
      const service = await openEimService({
        data,
        ...(o.db === undefined ? {} : { database: postgresConfig(o.db) }),
        ...(o.relay === true ? { relay: relayOptions(o) } : {}),
        logger,
        ...(pushCa.length === 0 ? {} : { pushCa }),
        ...eimServeLimits(o),
      });
      let bound: number;
      try {
        bound = await service.listen(o.listen, port);
      } catch (e) {
        await service.close();
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new McimError('PORT_IN_USE', `port ${port} on ${o.listen} is already in use`);
        throw e;
      }
      const info = { eimId: data.eimId, listen: o.listen, port: bound, address: data.address, tlsCa: data.tlsCaFile, tokenFile: data.tokenFile, activeKeyGeneration: service.ctx.keys.active };
      write(
        o.json === true
          ? `${JSON.stringify(info)}\n`
          : `mcim eIM ${data.eimId} listening on https://${o.listen}:${bound} (TLS name ${data.address}, CA ${data.tlsCaFile})\nESipa: /gsma/rsp2/asn1, /gsma/rsp2/esipa/*; fleet API: /fleet (token ${data.tokenFile}, OpenAPI /fleet/openapi.json)\n`,
      );
      await untilStopped();
      await service.close();
    });

  const fleet = program
    .command('fleet')
    .description("fleet operations through the eIM's fleet API: register devices in bulk, list them, run operations, follow and report them")
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ mcim fleet register devices.jsonl --data eim --tag plant-7',
        '  $ mcim fleet run download --tag plant-7 --codes codes.csv --operator op-a --profile-type iot-m --wait --data eim',
        '  $ mcim fleet run switchOperator --tag plant-7 --codes codes-b.csv --wait --data eim',
        '  $ mcim fleet run rotateEimKey --tag plant-7 --wait --data eim',
        '  $ mcim fleet report 3f2a... --data eim --json',
      ].join('\n'),
    );

  clientOptions(fleet.command('register <file>').description('register the devices of an EUM file (JSON Lines or CSV: eid, euiccCertificate, eumCertificate, associationToken, counter, keyGeneration, tags)'))
    .option('--tag <tag>', 'add this tag to every device (repeatable)', (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .action(async (file: string, o: FleetCliOptions & { tag?: string[] }) => {
      const r = await fleetRegister(fleetClientOptions(o), file, o.tag ?? []);
      write(
        o.json === true
          ? `${JSON.stringify(r, null, 2)}\n`
          : `${r.registered} registered, ${r.existing} already registered, ${r.refused} refused\n${r.problems.map((p) => `line ${p.line}: ${p.status}${p.code === undefined ? '' : ` ${p.code}`}${p.message === undefined ? '' : `: ${p.message}`}\n`).join('')}`,
      );
      if (r.refused > 0) process.exitCode = 1;
    });

  clientOptions(fleet.command('list').description('devices, all or those with a tag'))
    .option('--tag <tag>', 'only devices with this tag')
    .action(async (o: FleetCliOptions & { tag?: string }) => {
      const c = fleetClientOptions(o);
      type Page = { devices: { eid: string; tags: string[]; keyGeneration: number; profiles?: { iccid: string; state: string }[]; lastContactAt?: number }[]; next?: string };
      const devices: Page['devices'] = [];
      let after: string | undefined;
      for (;;) {
        const q = new URLSearchParams({ limit: '1000', ...(o.tag === undefined ? {} : { tag: o.tag }), ...(after === undefined ? {} : { after }) });
        const page = await fleetRequest<Page>(c, 'GET', `/devices?${q.toString()}`);
        devices.push(...page.devices);
        if (page.next === undefined) break;
        after = page.next;
      }
      write(
        o.json === true
          ? `${JSON.stringify(devices, null, 2)}\n`
          : devices.map((d) => `${d.eid}  [${d.tags.join(',')}]  key ${d.keyGeneration}  ${(d.profiles ?? []).map((p) => `${p.iccid}:${p.state}`).join(' ') || '-'}\n`).join('') || 'no devices\n',
      );
    });

  clientOptions(fleet.command('push-address <eid> [url]').description("set where the eIM pushes the device's packages (https://host[:port] of its IPAd's listener: TransferEimPackage), or --clear it (retrieve mode only)"))
    .option('--clear', 'remove the push address')
    .action(async (eid: string, url: string | undefined, o: FleetCliOptions & { clear?: boolean }) => {
      if ((url === undefined) === (o.clear !== true)) throw new McimError('INVALID_ARGUMENT', 'give the push address or --clear');
      const d = await fleetRequest<{ eid: string; pushAddress?: string }>(fleetClientOptions(o), 'PUT', `/devices/${encodeURIComponent(eid)}/push-address`, { pushAddress: url ?? null });
      write(o.json === true ? `${JSON.stringify(d, null, 2)}\n` : `${d.eid}: ${d.pushAddress ?? 'no push address (retrieve mode)'}\n`);
    });

  clientOptions(fleet.command('push <eid>').description("push the device's open packages to its IPAd now (TransferEimPackage); an undelivered one stays for retrieve mode"))
    .action(async (eid: string, o: FleetCliOptions) => {
      type Outcome = { status: string; eimTransactionId: string; kind: string; acknowledged?: number[]; eimPackageError?: number; reason?: string };
      const r = await fleetRequest<{ outcomes: Outcome[] }>(fleetClientOptions(o), 'POST', `/devices/${encodeURIComponent(eid)}/push`);
      write(
        o.json === true
          ? `${JSON.stringify(r.outcomes, null, 2)}\n`
          : r.outcomes.map((x) => `${x.kind} ${x.eimTransactionId}: ${x.status}${x.reason === undefined ? '' : ` (${x.reason})`}${x.eimPackageError === undefined ? '' : ` ${x.eimPackageError}`}\n`).join('') || 'nothing to push\n',
      );
      if (r.outcomes.some((x) => x.status === 'undelivered' || x.status === 'error')) process.exitCode = 1;
    });

  clientOptions(fleet.command('run <kind>').description(`run an operation on a selection: ${FLEET_OPERATION_KINDS.join(', ')}`))
    .option('--eids <list>', 'EIDs, comma separated')
    .option('--tag <tag>', 'the devices with this tag')
    .option('--file <file>', 'EIDs, one a line')
    .option('--iccid <iccid>', 'enable, disable, delete: the profile')
    .option('--codes <file>', "download, switchOperator: lines 'EID,activation code' (the operator's ES2+ orders)")
    .option('--default-smdp', "download, switchOperator: each device asks its default SM-DP+ (EID-bound orders)")
    .option('--operator <name>', 'download, switchOperator: the operator, for the report')
    .option('--profile-type <name>', 'download, switchOperator: the profile type, for the report')
    .option('--no-rollback', 'enable, download: without rollbackFlag')
    .addOption(new Option('--generation <n>', 'rotateEimKey: the key generation to move to (default: a new key)').argParser((v) => parseWholeNumber(v, '--generation', 2)))
    .option('--wait', 'follow the operation to its end (a progress bar on a terminal), then print its report')
    .addOption(new Option('--interval <ms>', 'with --wait: poll interval').default(1000).argParser((v) => parseWholeNumber(v, '--interval', 10, 600_000)))
    .action(async (kind: string, o: RunCliOptions) => {
      if (!FLEET_OPERATION_KINDS.includes(kind)) throw new McimError('INVALID_ARGUMENT', `no fleet operation '${kind}' (known: ${FLEET_OPERATION_KINDS.join(', ')})`);
      const c = fleetClientOptions(o);
      const op = await fleetRun(c, kind, o);
      if (o.wait !== true) {
        write(o.json === true ? `${JSON.stringify(op, null, 2)}\n` : `started ${countsText(op)}`);
        return;
      }
      const bar = process.stderr.isTTY
        ? new (await import('cli-progress')).SingleBar({ stream: process.stderr, format: `${kind} [{bar}] {value}/{total} finished ({failed} failed) eta {eta_formatted}` })
        : undefined;
      bar?.start(op.targets, 0, { failed: 0 });
      try {
        await fleetWait(c, op.id, o.interval ?? 1000, (p) => bar?.update(p.counts.done + p.counts.failed, { failed: p.counts.failed }));
      } finally {
        bar?.stop();
      }
      const report = await fleetReport(c, op.id);
      write(o.json === true ? `${JSON.stringify(report, null, 2)}\n` : reportText(report));
      if (report.operation.counts.failed > 0) process.exitCode = 1;
    });

  clientOptions(fleet.command('status [id]').description("an operation's counts (done, failed, pending); without an id, the latest operations"))
    .action(async (id: string | undefined, o: FleetCliOptions) => {
      const c = fleetClientOptions(o);
      const ops =
        id === undefined
          ? (await fleetRequest<{ operations: OperationAnswer[] }>(c, 'GET', '/operations?limit=20')).operations
          : [(await fleetRequest<ReportAnswer>(c, 'GET', `/operations/${encodeURIComponent(id)}?limit=1`)).operation];
      write(o.json === true ? `${JSON.stringify(id === undefined ? ops : ops[0], null, 2)}\n` : ops.map(countsText).join('') || 'no operations\n');
    });

  clientOptions(fleet.command('report <id>').description('the final report of an operation: each device done, failed with its reason, or pending at its step'))
    .action(async (id: string, o: FleetCliOptions) => {
      const r = await fleetReport(fleetClientOptions(o), id);
      write(o.json === true ? `${JSON.stringify(r, null, 2)}\n` : reportText(r));
    });
}
