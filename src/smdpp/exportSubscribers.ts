// The operator's subscriber data for its own HSS/UDM (docs/operations.md, Subscriber exports): mcim JSON Lines (the
// AuC's import format), Open5GS subscriber documents (mongoimport) and an osmo-hlr SQL script (sqlite3 hlr.db).
import { McimError } from '../errors.js';
import type { ProfileStock, StockSubscriber } from '../store/profileStock.js';
import type { SubscriberSecrets } from './generateProfiles.js';
import type { PublicProfileTypeRules } from './profileType.js';

export const EXPORT_FORMATS = ['mcim', 'open5gs', 'osmo-hlr'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One line of the mcim format: exactly these fields, in this order. */
function mcimLine(s: StockSubscriber, operator: string, x: SubscriberSecrets): string {
  if (x.algorithm === 'milenage') {
    return JSON.stringify({ imsi: s.imsi, iccid: s.iccid, operator, algorithm: 'milenage', k: x.k, opc: x.opc, amf: x.amf, sqn: x.sqn });
  }
  const t = x.tuak!;
  return JSON.stringify({
    imsi: s.imsi,
    iccid: s.iccid,
    operator,
    algorithm: 'tuak',
    k: x.k,
    topc: x.opc,
    macLength: t.macLength,
    resLength: t.resLength,
    ckLength: t.ckLength,
    ikLength: t.ikLength,
    keccakIterations: t.keccakIterations,
    amf: x.amf,
    sqn: x.sqn,
  });
}

/**
 * An Open5GS subscriber document (its `subscribers` collection, schema_version 1) in MongoDB Extended JSON: the security
 * block (k, opc, op null, amf, sqn as a 64-bit integer) and Open5GS's defaults for the rest (one slice SST 1, session
 * 'internet' IPv4, QoS index 9, AMBR 1 Gbps).
 */
function open5gsLine(s: StockSubscriber, x: SubscriberSecrets): string {
  const ambr = { downlink: { value: 1000000000, unit: 0 }, uplink: { value: 1000000000, unit: 0 } };
  return JSON.stringify({
    schema_version: 1,
    imsi: s.imsi,
    msisdn: [],
    imeisv: [],
    mme_host: [],
    mm_realm: [],
    purge_flag: [],
    slice: [
      {
        sst: 1,
        default_indicator: true,
        session: [{ name: 'internet', type: 3, qos: { index: 9, arp: { priority_level: 8, pre_emption_capability: 1, pre_emption_vulnerability: 2 } }, ambr, pcc_rule: [] }],
      },
    ],
    security: { k: x.k, op: null, opc: x.opc, amf: x.amf, sqn: { $numberLong: String(parseInt(x.sqn, 16)) } },
    ambr,
    access_restriction_data: 32,
    network_access_mode: 0,
    subscriber_status: 0,
    subscribed_rau_tau_timer: 12,
    __v: 0,
  });
}

/** libosmocore's enum osmo_auth_algo: OSMO_AUTH_ALG_MILENAGE. */
const OSMO_AUTH_ALG_MILENAGE = 5;

/** osmo-hlr's database (schema 6): one subscriber row and its auc_3g row (Milenage, K, OPc, SQN) per subscriber. */
function osmoHlrLines(s: StockSubscriber, x: SubscriberSecrets): string {
  return (
    `INSERT INTO subscriber (imsi) VALUES ('${s.imsi}');\n` +
    `INSERT INTO auc_3g (subscriber_id, algo_id_3g, k, opc, sqn) VALUES ((SELECT id FROM subscriber WHERE imsi = '${s.imsi}'), ${OSMO_AUTH_ALG_MILENAGE}, '${x.k}', '${x.opc}', ${parseInt(x.sqn, 16)});`
  );
}

/**
 * Streams the operator's subscribers in `format` to `write`, one line (or SQL pair) at a time: memory stays flat. The
 * osmo-hlr format has no TUAK: an operator with TUAK profiles is refused before anything is written.
 */
export async function exportSubscribers(stock: ProfileStock, operator: string, format: ExportFormat, write: (text: string) => Promise<void>): Promise<number> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new McimError('INVALID_ARGUMENT', `'${format}' is not an export format (${EXPORT_FORMATS.join(', ')})`);
  if (format === 'osmo-hlr') {
    const tuakTypes = (await stock.listTypes()).filter((t) => t.operator === operator && (JSON.parse(t.rules) as PublicProfileTypeRules).algorithm === 'tuak');
    const counts = await stock.counts();
    if (tuakTypes.some((t) => counts.some((c) => c.profileType === t.name && c.count > 0))) {
      throw new McimError('INVALID_ARGUMENT', `operator '${operator}' has TUAK profiles, which osmo-hlr does not authenticate: export them as mcim or open5gs`);
    }
    await write('BEGIN TRANSACTION;\n');
  }
  let n = 0;
  for await (const s of stock.subscribers(operator)) {
    const x = JSON.parse(s.secrets.toString('utf8')) as SubscriberSecrets;
    s.secrets.fill(0);
    const text = format === 'mcim' ? mcimLine(s, operator, x) : format === 'open5gs' ? open5gsLine(s, x) : osmoHlrLines(s, x);
    await write(`${text}\n`);
    n++;
  }
  if (format === 'osmo-hlr') await write('COMMIT;\n');
  return n;
}
