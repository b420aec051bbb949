// `mcim device simulate`: a fleet of simulated IoT devices in one process (SGP.32 v1.2 3.1.1 and 3.2-3.6), each a software IoT eUICC with its own sealed state, associated with the eIM (ES10b.AddInitialEim) and polled by its own IPAd.
import { createPublicKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { Option, type Command } from 'commander';
import { McimError } from '../../errors.js';
import { Card } from '../../euicc/card.js';
import { Euicc } from '../../euicc/euicc.js';
import { SealedMemory } from '../../euicc/sealedState.js';
import { addInitialEim } from '../../ipa/es10b/addInitialEim.js';
import { getCerts } from '../../ipa/es10b/getCerts.js';
import { getEimConfigurationData } from '../../ipa/es10b/getEimConfigurationData.js';
import { Es10Client } from '../../ipa/es10Client.js';
import { DEFAULT_ROLLBACK_AFTER_MS, MAX_ROLLBACK_AFTER_MS, runIpad, type IpadOptions } from '../../ipa/ipad.js';
import { parseWholeNumber } from '../wholeNumber.js';
import { deviceSecret, httpOptions, issueEuiccIdentity, loadTestEum, type TestEum } from './device.js';

/** Devices one process simulates at most. */
export const MAX_SIMULATED_DEVICES = 1_000_000;
/** Devices whose cycles run at once at most. */
export const MAX_SIMULATION_CONCURRENCY = 1024;

/** What the eIM needs to register a simulated device (SGP.32 2.5): its certificates and the association token its eUICC assigned. */
export interface SimulatedRegistration {
  readonly eid: string;
  readonly euiccCertificate: Buffer;
  readonly eumCertificate: Buffer;
  readonly associationToken: number;
}

export interface FleetOptions {
  readonly count: number;
  /** The test PKI directory whose EUM issues the eUICCs (the eIM must trust its CI). */
  readonly pki: string;
  readonly keyPassphraseFile?: string;
  readonly atRestKeyFile?: string;
  /** Sealed state files `device-000001.state` ... here (created when missing, reopened when present); default: sealed state in memory. */
  readonly dir?: string;
  /** The eIM the eUICCs are associated with (AddInitialEim) and the IPAds poll: https://host[:port]. */
  readonly eim: string;
  readonly eimId: string;
  /** The eIM's package-signing public key, put in each eUICC's configuration. */
  readonly eimPublicKey: KeyObject;
  /** The IPAd of each device (the eIM URL comes from `eim`). */
  readonly ipad?: Omit<IpadOptions, 'eim' | 'onProgress'>;
  /** Device cycles running at once (default 16). */
  readonly concurrency?: number;
}

export interface RoundReport {
  readonly devices: number;
  /** Cycles that ended with the eIM having nothing left. */
  readonly idle: number;
  /** Packages executed, by outcome (the eUICC's answer type, 'installed', 'rollbackResult', ...). */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly rollbacks: number;
  readonly notificationsDelivered: number;
  /** Cycles that failed, by error (the eIM not knowing the EID among them). */
  readonly failures: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
}

/** The first word(s) of an outcome, without its ICCID or detail: the key it is counted under. */
function outcomeKey(outcome: string): string {
  return outcome.replace(/ [0-9]{18,20}F?$/, '').replace(/:.*$/, '');
}

function failureKey(e: unknown): string {
  return e instanceof McimError ? `${e.code}: ${e.message.replace(/[0-9]{32}/g, '<eid>').slice(0, 160)}` : String(e).slice(0, 160);
}

/** Runs `one(i)` for i in 0..n-1, `concurrency` at a time. */
async function pool(n: number, concurrency: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, async () => {
    while (next < n) await one(next++);
  }));
}

interface SimulatedDevice {
  readonly eid: string;
  readonly where: string | SealedMemory;
  readonly secret: Buffer;
}

/**
 * N simulated devices. create() personalises the missing eUICCs (a key and certificate from the EUM each) and
 * associates every eUICC without an eIM with this one; round() runs one IPAd cycle on every device, `concurrency` at
 * a time, each opening its eUICC from its sealed state for the cycle only (between cycles a device is its sealed
 * bytes and secret: a few kilobytes). In memory, each device has its own random secret; in a directory, the device
 * secret of each state file is in `<state>.secret` (as `mcim device init` writes it).
 */
export class SimulatedFleet {
  readonly #o: FleetOptions;
  readonly #devices: SimulatedDevice[] = [];
  readonly #concurrency: number;

  constructor(o: FleetOptions) {
    if (!Number.isInteger(o.count) || o.count < 1 || o.count > MAX_SIMULATED_DEVICES) throw new McimError('INVALID_ARGUMENT', `count is 1 to ${MAX_SIMULATED_DEVICES}`);
    const concurrency = o.concurrency ?? 16;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_SIMULATION_CONCURRENCY) {
      throw new McimError('INVALID_ARGUMENT', `concurrency is 1 to ${MAX_SIMULATION_CONCURRENCY}`);
    }
    try {
      new URL(o.eim);
    } catch {
      throw new McimError('INVALID_ARGUMENT', `'${o.eim}' is not a URL`);
    }
    this.#o = o;
    this.#concurrency = concurrency;
  }

  get size(): number {
    return this.#devices.length;
  }

  /** The sealed states' size in memory (0 for state files). */
  get sealedBytes(): number {
    return this.#devices.reduce((sum, d) => sum + (typeof d.where === 'string' ? 0 : (d.where.bytes?.length ?? 0)), 0);
  }

  get eids(): readonly string[] {
    return this.#devices.map((d) => d.eid);
  }

  async #withEs10<T>(d: SimulatedDevice, run: (es10: Es10Client) => Promise<T>): Promise<T> {
    const euicc = Euicc.open(d.where, d.secret);
    const card = new Card();
    euicc.attach(card);
    const es10 = await Es10Client.open({ transmit: (apdu) => card.transmit(apdu) });
    try {
      return await run(es10);
    } finally {
      await es10.close();
    }
  }

  /** Personalises and associates the devices; answers the registrations of the devices associated now (to register with the eIM). */
  async create(): Promise<SimulatedRegistration[]> {
    if (this.#devices.length > 0) throw new McimError('INVALID_ARGUMENT', 'the fleet is created already');
    const o = this.#o;
    let eum: TestEum | undefined;
    if (o.dir !== undefined) mkdirSync(o.dir, { recursive: true });
    const host = new URL(o.eim).host;
    const spki = o.eimPublicKey.export({ type: 'spki', format: 'der' });
    const registrations: SimulatedRegistration[] = [];
    for (let i = 0; i < o.count; i++) {
      let where: string | SealedMemory;
      let secret: Buffer;
      let eid: string;
      const file = o.dir === undefined ? undefined : join(o.dir, `device-${String(i + 1).padStart(6, '0')}.state`);
      if (file !== undefined && existsSync(file)) {
        where = file;
        secret = deviceSecret({ state: file });
        eid = Euicc.open(file, secret).eid;
      } else {
        eum ??= loadTestEum(o.pki, o);
        const identity = issueEuiccIdentity(eum);
        eid = identity.eid;
        where = file ?? new SealedMemory(`simulated eUICC ${eid}`);
        secret = file === undefined ? randomBytes(32) : deviceSecret({ state: file }, true);
        Euicc.create(where, secret, identity);
      }
      const device: SimulatedDevice = { eid, where, secret };
      this.#devices.push(device);
      const registration = await this.#withEs10(device, async (es10) => {
        if ((await getEimConfigurationData(es10)).length > 0) return undefined;
        const [token] = await addInitialEim(es10, [{ eimId: o.eimId, eimFqdn: host, eimPublicKeyData: { type: 'eimPublicKey', value: spki } }]);
        const certs = await getCerts(es10);
        return { eid, euiccCertificate: certs.euiccCertificate, eumCertificate: certs.eumCertificate, associationToken: token! };
      });
      if (registration !== undefined) registrations.push(registration);
    }
    return registrations;
  }

  /** One IPAd cycle on every device; a failed cycle is counted, not thrown. */
  async round(): Promise<RoundReport> {
    const started = performance.now();
    const outcomes: Record<string, number> = {};
    const failures: Record<string, number> = {};
    let idle = 0;
    let rollbacks = 0;
    let notificationsDelivered = 0;
    await pool(this.#devices.length, this.#concurrency, async (i) => {
      try {
        const r = await this.#withEs10(this.#devices[i]!, (es10) => runIpad(es10, { ...this.#o.ipad, eim: this.#o.eim }));
        if (r.idle) idle++;
        notificationsDelivered += r.notificationsDelivered;
        for (const p of r.packages) {
          const key = outcomeKey(p.outcome);
          outcomes[key] = (outcomes[key] ?? 0) + 1;
          if (p.rollback !== undefined) rollbacks++;
        }
      } catch (e) {
        const key = failureKey(e);
        failures[key] = (failures[key] ?? 0) + 1;
      }
    });
    return { devices: this.#devices.length, idle, outcomes, rollbacks, notificationsDelivered, failures, elapsedMs: performance.now() - started };
  }
}

// ---- the command ----

interface SimulateCliOptions {
  count: number;
  pki: string;
  keyPassphraseFile?: string;
  atRestKeyFile?: string;
  dir?: string;
  eim: string;
  eimId: string;
  eimPublicKey: string;
  binding: 'asn1' | 'json';
  eimCa?: string[];
  eimConnect?: string;
  ca?: string[];
  connect?: string;
  concurrency: number;
  rounds: number;
  interval: number;
  registrations?: string;
  rollbackAfter?: number;
  unreachable?: string[];
  json?: boolean;
}

function readPublicKey(path: string): KeyObject {
  try {
    return createPublicKey(readFileSync(path));
  } catch (e) {
    throw new McimError('INVALID_ARGUMENT', `cannot read a public key from ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The IPAd's simulated connectivity and rollback time from --rollback-after and --unreachable (shared by run and simulate). */
export function rollbackOptions(o: { rollbackAfter?: number; unreachable?: readonly string[] }): Pick<IpadOptions, 'rollbackAfterMs' | 'reachable'> {
  const unreachable = new Set((o.unreachable ?? []).map((i) => i.toUpperCase()));
  return {
    ...(o.rollbackAfter === undefined ? {} : { rollbackAfterMs: o.rollbackAfter * 1000 }),
    ...(unreachable.size === 0 ? {} : { reachable: (iccid: string) => !unreachable.has(iccid.toUpperCase()) }),
  };
}

/** Adds --rollback-after and --unreachable to an IPAd command. */
export function addRollbackOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--rollback-after <seconds>', `after an enable with rollbackFlag: how long the new profile may fail to reach the eIM before ProfileRollback (default ${DEFAULT_ROLLBACK_AFTER_MS / 1000})`).argParser((v) =>
        parseWholeNumber(v, '--rollback-after', 0, MAX_ROLLBACK_AFTER_MS / 1000),
      ),
    )
    .option('--unreachable <iccid>', 'simulated connectivity: the eIM cannot be reached over this profile (repeatable)', collect);
}

function formatRound(n: number, r: RoundReport): string {
  const list = (m: Readonly<Record<string, number>>): string => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return (
    `round ${n}: ${r.devices} devices in ${(r.elapsedMs / 1000).toFixed(1)} s (${(r.devices / (r.elapsedMs / 1000)).toFixed(1)} devices/s), ${r.idle} idle; ` +
    `packages: ${list(r.outcomes)}; rollbacks ${r.rollbacks}; notifications ${r.notificationsDelivered}; failed: ${list(r.failures)}\n`
  );
}

/** Registers `mcim device simulate` under `device`. */
export function addSimulateCommand(device: Command, write: (text: string) => void): void {
  addRollbackOptions(
    device
      .command('simulate')
      .description('N simulated IoT devices in one process, each a software IoT eUICC (own sealed state) associated with the eIM and polled by its IPAd, for fleet tests (SGP.32 3.1.1)')
      .addOption(new Option('--count <n>', 'devices').argParser((v) => parseWholeNumber(v, '--count', 1, MAX_SIMULATED_DEVICES)).makeOptionMandatory())
      .requiredOption('--pki <dir>', 'test PKI directory whose EUM issues the eUICCs (the eIM trusts its CI)')
      .option('--key-passphrase-file <file>', "the --pki keys' passphrase (as for device init)")
      .option('--at-rest-key-file <file>', '--pki inside an SM-DP+ data directory: its at-rest key (as for device init)')
      .option('--dir <dir>', 'keep the sealed states as files here (device-000001.state ..., reopened next time); default: sealed in memory')
      .requiredOption('--eim <url>', 'the eIM (https://host[:port]): associated with each new eUICC and polled')
      .requiredOption('--eim-id <id>', "the eIM's eimId")
      .requiredOption('--eim-public-key <pem>', "the eIM's package-signing public key (PEM)")
      .addOption(new Option('--binding <binding>', 'ESipa binding').choices(['asn1', 'json']).default('asn1'))
      .option('--eim-ca <pem>', "trusted CA certificate file for the eIM's TLS (repeatable)", collect)
      .option('--eim-connect <host:port>', "connect there instead of resolving the eIM's address")
      .option('--ca <pem>', 'trusted CA certificate file for SM-DP+ TLS (repeatable)', collect)
      .option('--connect <host:port>', 'connect to SM-DP+ servers there')
      .addOption(new Option('--concurrency <n>', 'device cycles at once').argParser((v) => parseWholeNumber(v, '--concurrency', 1, MAX_SIMULATION_CONCURRENCY)).default(16))
      .addOption(new Option('--rounds <n>', 'IPAd cycles per device (0: create and associate only)').argParser((v) => parseWholeNumber(v, '--rounds', 0, 1_000_000)).default(1))
      .addOption(new Option('--interval <seconds>', 'pause between rounds').argParser((v) => parseWholeNumber(v, '--interval', 0, 86_400)).default(0))
      .option('--registrations <file>', 'write the newly associated devices (EID, certificates, association token) as JSON lines, for registering them with the eIM')
      .option('--json', 'print JSON'),
  ).action(async (o: SimulateCliOptions) => {
    const started = performance.now();
    const baseline = process.memoryUsage().rss;
    const fleet = new SimulatedFleet({
      count: o.count,
      pki: o.pki,
      ...(o.keyPassphraseFile === undefined ? {} : { keyPassphraseFile: o.keyPassphraseFile }),
      ...(o.atRestKeyFile === undefined ? {} : { atRestKeyFile: o.atRestKeyFile }),
      ...(o.dir === undefined ? {} : { dir: o.dir }),
      eim: o.eim,
      eimId: o.eimId,
      eimPublicKey: readPublicKey(o.eimPublicKey),
      concurrency: o.concurrency,
      ipad: {
        binding: o.binding,
        eimHttp: httpOptions({ ...(o.eimCa === undefined ? {} : { ca: o.eimCa }), ...(o.eimConnect === undefined ? {} : { connect: o.eimConnect }) }),
        smdpHttp: httpOptions(o),
        ...rollbackOptions(o),
      },
    });
    const registrations = await fleet.create();
    const createdMs = performance.now() - started;
    if (o.registrations !== undefined) {
      const line = (r: SimulatedRegistration): string =>
        JSON.stringify({ eid: r.eid, euiccCertificate: r.euiccCertificate.toString('base64'), eumCertificate: r.eumCertificate.toString('base64'), associationToken: r.associationToken });
      writeFileSync(o.registrations, registrations.map((r) => `${line(r)}\n`).join(''), { mode: 0o600 });
    }
    if (!o.json) write(`${fleet.size} devices ready in ${(createdMs / 1000).toFixed(1)} s, ${registrations.length} newly associated with ${o.eimId}\n`);
    const rounds: RoundReport[] = [];
    for (let n = 1; n <= o.rounds; n++) {
      if (n > 1 && o.interval > 0) await new Promise((resolve) => setTimeout(resolve, o.interval * 1000));
      const r = await fleet.round();
      rounds.push(r);
      if (!o.json) write(formatRound(n, r));
    }
    const rss = process.memoryUsage().rss;
    const summary = {
      devices: fleet.size,
      associated: registrations.length,
      createdMs: Math.round(createdMs),
      rounds,
      memory: { rss, perDeviceBytes: Math.round(Math.max(0, rss - baseline) / fleet.size), sealedBytesPerDevice: Math.round(fleet.sealedBytes / fleet.size) },
    };
    if (o.json) write(`${JSON.stringify(summary, null, 2)}\n`);
    else write(`memory: ${(rss / 1048576).toFixed(0)} MiB resident, about ${(summary.memory.perDeviceBytes / 1024).toFixed(1)} KiB per device\n`);
    if (rounds.some((r) => Object.keys(r.failures).length > 0)) process.exitCode = 1;
  });
}
