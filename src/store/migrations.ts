// Schema migrations shared by SQLite and PostgreSQL: portable types only (text, integer, bigint, blob/bytea).
import { sql, type Kysely, type Migration } from 'kysely';

export type Engine = 'sqlite' | 'postgres';

/** The migrations in order; binary columns are BLOB on SQLite and BYTEA on PostgreSQL. */
export function migrations(engine: Engine): Record<string, Migration> {
  const bin = engine === 'sqlite' ? 'blob' : 'bytea';
  return {
    '0001_smdp': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('smdp_orders')
          .addColumn('matching_id', 'text', (c) => c.primaryKey())
          .addColumn('iccid', 'text', (c) => c.notNull())
          .addColumn('eid', 'text')
          .addColumn('cc_hash', 'text')
          .addColumn('cc_attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('error_reason', 'text')
          .addColumn('profile_name', 'text', (c) => c.notNull())
          .addColumn('service_provider_name', 'text', (c) => c.notNull())
          .addColumn('profile_class', 'integer', (c) => c.notNull())
          .addColumn('package_sealed', bin, (c) => c.notNull())
          .addColumn('transaction_id', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('smdp_orders_iccid').on('smdp_orders').column('iccid').execute();
        await db.schema
          .createTable('smdp_sessions')
          .addColumn('transaction_id', 'text', (c) => c.primaryKey())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('curve', 'text', (c) => c.notNull())
          .addColumn('ci_key_id', 'text', (c) => c.notNull())
          .addColumn('euicc_challenge', bin, (c) => c.notNull())
          .addColumn('server_challenge', bin, (c) => c.notNull())
          .addColumn('eid', 'text')
          .addColumn('euicc_certificate', bin)
          .addColumn('matching_id', 'text')
          .addColumn('smdp_signature2', bin)
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('smdp_notifications')
          .addColumn('notification_key', 'text', (c) => c.primaryKey())
          .addColumn('eid', 'text', (c) => c.notNull())
          .addColumn('seq_number', 'integer', (c) => c.notNull())
          .addColumn('operation', 'text', (c) => c.notNull())
          .addColumn('iccid', 'text')
          .addColumn('transaction_id', 'text')
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    // The installation result finds its order by transaction ID: without an index that is a scan of every order,
    // reading each sealed package (stored before transaction_id) from its overflow pages.
    '0002_smdp_orders_transaction_id': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.createIndex('smdp_orders_transaction_id').on('smdp_orders').column('transaction_id').execute();
      },
    },
    // Notifications about a profile are accepted only from the eUICC it was delivered to; sessions are purged once
    // expired, so the delivery EID lives on the order (backfilled from the delivering session where it still exists).
    '0003_smdp_orders_delivered_eid': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable('smdp_orders').addColumn('delivered_eid', 'text').execute();
        await sql`UPDATE smdp_orders SET delivered_eid = (SELECT s.eid FROM smdp_sessions s WHERE s.transaction_id = smdp_orders.transaction_id AND s.state = 'delivered') WHERE transaction_id IS NOT NULL AND state IN ('downloaded', 'installed', 'deleted')`.execute(db);
        await db.schema.createIndex('smdp_sessions_expires_at').on('smdp_sessions').column('expires_at').execute();
      },
    },
    // Default SM-DP+ / SM-DS without a matching ID (SGP.22 3.1.2, 5.6.3): an order bound to an EID alone, keyed by an
    // internal random key no eUICC can present (eid_only = 1), found by EID; and the session's two CIs apart (the CI
    // of CERT.DPauth/DPpb, ci_key_id, and the CI the eUICC's chain must end at, euicc_ci_key_id; NULL: the same).
    '0004_smdp_default_orders': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable('smdp_orders').addColumn('eid_only', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.createIndex('smdp_orders_eid_state').on('smdp_orders').columns(['eid', 'state']).execute();
        await db.schema.alterTable('smdp_sessions').addColumn('euicc_ci_key_id', 'text').execute();
      },
    },
    // SGP.22 conformance (issue 7): order limits and eligibility data set on import (ES2+ would set them), the profile
    // policy rules, owner and icon carried in StoreMetadata, the download attempts counted, and the last bound profile
    // package (sealed) with the eUICC one-time key it was bound to, for a retry with the same otPK.EUICC.ECKA (5.6.2).
    '0005_smdp_orders_limits_and_retry': {
      async up(db: Kysely<unknown>): Promise<void> {
        const columns: [string, 'text' | 'integer' | 'bigint' | 'blob' | 'bytea'][] = [
          ['order_expires_at', 'bigint'],
          ['max_download_attempts', 'integer'],
          ['profile_policy_rules', 'integer'],
          ['profile_owner', 'text'],
          ['icon_type', 'integer'],
          ['icon', bin],
          ['bpp_sealed', bin],
          ['bpp_euicc_otpk', bin],
        ];
        for (const [name, type] of columns) await db.schema.alterTable('smdp_orders').addColumn(name, type).execute();
        await db.schema.alterTable('smdp_orders').addColumn('download_attempts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    // Hostile load (issue 8): the source address of each session (a per-source limit on open sessions, counted by index),
    // and the failures and lockouts of EIDs and source addresses guessing matching IDs (src/store/lockouts.ts).
    '0006_smdp_abuse_control': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable('smdp_sessions').addColumn('source', 'text').execute();
        await db.schema.createIndex('smdp_sessions_source_state').on('smdp_sessions').columns(['source', 'state', 'expires_at']).execute();
        await db.schema.createIndex('smdp_sessions_state').on('smdp_sessions').column('state').execute();
        await db.schema
          .createTable('smdp_lockouts')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('failures', 'integer', (c) => c.notNull())
          .addColumn('window_started_at', 'bigint', (c) => c.notNull())
          .addColumn('lockouts', 'integer', (c) => c.notNull())
          .addColumn('locked_until', 'bigint', (c) => c.notNull())
          .addColumn('last_failure_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('smdp_lockouts_expires_at').on('smdp_lockouts').column('expires_at').execute();
      },
    },
    // The audit trail of profile state changes (src/store/auditLog.ts): append-only, each row hash-chained to the one
    // before it, so a row altered, deleted or reordered breaks the chain (mcim smdpp audit verify). No index but the
    // primary key: an index on order_ref costs every state change a write for an operator's occasional lookup.
    '0007_audit_log': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('smdp_audit_log')
          .addColumn('seq', 'integer', (c) => c.primaryKey())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('order_ref', 'text', (c) => c.notNull())
          .addColumn('iccid', 'text', (c) => c.notNull())
          .addColumn('from_state', 'text')
          .addColumn('to_state', 'text', (c) => c.notNull())
          .addColumn('cause', 'text', (c) => c.notNull())
          .addColumn('prev_hash', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute();
      },
    },
    // Download CPU (issues 7, 8): an order's row is updated several times per download, and SQLite and PostgreSQL rewrite
    // the whole row: the 12 KB sealed package moves to its own table, and a retry keeps the binding's secrets (about 180
    // bytes) instead of the whole bound package. Packages retained before cannot be rebuilt: their orders forget the
    // retained one-time key, so a retry is bound afresh.
    '0008_smdp_order_packages_and_binding': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('smdp_order_packages')
          .addColumn('matching_id', 'text', (c) => c.primaryKey())
          .addColumn('package_sealed', bin, (c) => c.notNull())
          .execute();
        await sql`INSERT INTO smdp_order_packages (matching_id, package_sealed) SELECT matching_id, package_sealed FROM smdp_orders`.execute(db);
        await db.schema.alterTable('smdp_orders').dropColumn('package_sealed').execute();
        await db.schema.alterTable('smdp_orders').dropColumn('bpp_sealed').execute();
        await db.schema.alterTable('smdp_orders').addColumn('binding_sealed', bin).execute();
        await sql`UPDATE smdp_orders SET bpp_euicc_otpk = NULL`.execute(db);
      },
    },
    // The AuC (src/store/aucStore.ts): subscribers with K and OPc/TOPc sealed under their operator's data key, the data
    // keys wrapped under the KEK, the 5G AKA authentications waiting for RES*, and the home network's SUCI keys.
    '0009_auc_subscribers': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('auc_data_keys')
          .addColumn('operator_id', 'text', (c) => c.primaryKey())
          .addColumn('wrapped_key', bin, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('auc_subscribers')
          .addColumn('imsi', 'text', (c) => c.primaryKey())
          .addColumn('iccid', 'text')
          .addColumn('operator_id', 'text', (c) => c.notNull().references('auc_data_keys.operator_id'))
          .addColumn('algorithm', 'text', (c) => c.notNull())
          .addColumn('k_sealed', bin, (c) => c.notNull())
          .addColumn('opc_sealed', bin, (c) => c.notNull())
          .addColumn('mac_length', 'integer')
          .addColumn('res_length', 'integer')
          .addColumn('ck_length', 'integer')
          .addColumn('ik_length', 'integer')
          .addColumn('keccak_iterations', 'integer')
          .addColumn('amf', 'text', (c) => c.notNull())
          .addColumn('seq_he', 'bigint', (c) => c.notNull())
          .addColumn('ind_bits', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('data_only', 'integer', (c) => c.notNull())
          .addColumn('volume_cap', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('auc_subscribers_operator').on('auc_subscribers').column('operator_id').execute();
        await db.schema
          .createTable('auc_pending_authentications')
          .addColumn('auth_ctx_id', 'text', (c) => c.primaryKey())
          .addColumn('imsi', 'text', (c) => c.notNull())
          .addColumn('serving_network_name', 'text', (c) => c.notNull())
          .addColumn('xres_star_sealed', bin, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('auc_pending_imsi').on('auc_pending_authentications').columns(['imsi', 'created_at']).execute();
        await db.schema.createIndex('auc_pending_expires_at').on('auc_pending_authentications').column('expires_at').execute();
        await db.schema
          .createTable('auc_hn_keys')
          .addColumn('profile', 'text', (c) => c.notNull())
          .addColumn('hn_key_id', 'integer', (c) => c.notNull())
          .addColumn('private_key_sealed', bin, (c) => c.notNull())
          .addColumn('public_key', bin, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('auc_hn_keys_pk', ['profile', 'hn_key_id'])
          .execute();
      },
    },
    // Profile stock (issue 9, src/store/profileStock.ts): each operator's data key wrapped under the key-encryption key,
    // profile types (template and rules, sealed under the operator's data key) and personalized profiles in stock, their
    // package and subscriber secrets sealed under the same data key. Claims take the first available profile of a type.
    '0010_profile_stock': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('stock_data_keys')
          .addColumn('operator', 'text', (c) => c.primaryKey())
          .addColumn('wrapped_key', bin, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('stock_profile_types')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('operator', 'text', (c) => c.notNull())
          .addColumn('template_sealed', bin, (c) => c.notNull())
          .addColumn('rules', 'text', (c) => c.notNull())
          .addColumn('rules_sealed', bin, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('stock_profiles')
          .addColumn('iccid', 'text', (c) => c.primaryKey())
          .addColumn('imsi', 'text', (c) => c.notNull().unique())
          .addColumn('profile_type', 'text', (c) => c.notNull())
          .addColumn('operator', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('package_sealed', bin, (c) => c.notNull())
          .addColumn('secrets_sealed', bin, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('stock_profiles_type_state').on('stock_profiles').columns(['profile_type', 'state', 'iccid']).execute();
        await db.schema.createIndex('stock_profiles_operator').on('stock_profiles').columns(['operator', 'iccid']).execute();
      },
    },
    // A session changes state three times in a download: indexes on its state are rewritten each time. The open-session
    // count and the purge of ended sessions need only the rows in those states, so their indexes hold only those rows
    // (partial indexes, on SQLite and PostgreSQL alike); a session leaving them is one index deletion, later changes none.
    '0011_smdp_sessions_partial_indexes': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropIndex('smdp_sessions_source_state').execute();
        await db.schema.dropIndex('smdp_sessions_state').execute();
        await db.schema
          .createIndex('smdp_sessions_open_by_source')
          .on('smdp_sessions')
          .columns(['source', 'expires_at'])
          .where(sql.ref('state'), 'in', [sql.lit('initiated'), sql.lit('authenticating')])
          .execute();
        await db.schema
          .createIndex('smdp_sessions_ended')
          .on('smdp_sessions')
          .column('expires_at')
          .where(sql.ref('state'), 'in', [sql.lit('failed'), sql.lit('cancelled'), sql.lit('expired')])
          .execute();
      },
    },
    // ES2+ (issue 9, SGP.22 5.3): operators as tenants (identified by their TLS client certificates), the profile life
    // cycle before an order exists (stock rows: available, allocated, linked, ordered, unavailable; the order row carries
    // it on from confirmed), the operator and profile type on each order (callbacks), and the durable outbox of
    // HandleDownloadProgressInfo calls with their delivery lease.
    '0012_es2plus': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('es2_operators')
          .addColumn('operator', 'text', (c) => c.primaryKey())
          .addColumn('function_requester_identifier', 'text', (c) => c.notNull())
          .addColumn('callback_url', 'text')
          .addColumn('callback_ca', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('es2_operator_certificates')
          .addColumn('fingerprint', 'text', (c) => c.primaryKey())
          .addColumn('operator', 'text', (c) => c.notNull().references('es2_operators.operator'))
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('not_before', 'bigint', (c) => c.notNull())
          .addColumn('not_after', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.alterTable('stock_profiles').addColumn('eid', 'text').execute();
        await db.schema.alterTable('stock_profiles').addColumn('order_key', 'text').execute();
        await db.schema.alterTable('smdp_orders').addColumn('operator', 'text').execute();
        await db.schema.alterTable('smdp_orders').addColumn('profile_type', 'text').execute();
        await db.schema
          .createTable('es2_progress_outbox')
          .addColumn('id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) => c.primaryKey())
          .addColumn('operator', 'text', (c) => c.notNull())
          .addColumn('iccid', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('lease_token', 'text')
          .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('delivered_at', 'bigint')
          .execute();
        await db.schema
          .createIndex('es2_progress_outbox_due')
          .on('es2_progress_outbox')
          .columns(['next_attempt_at', 'id'])
          .where(sql.ref('state'), '=', sql.lit('pending'))
          .execute();
        await db.schema.createIndex('es2_progress_outbox_operator').on('es2_progress_outbox').columns(['operator', 'id']).execute();
      },
    },
    // The eIM (issue 10, SGP.32 v1.2): its device registry (EID, eUICC and EUM certificates, association, the counter of
    // the last package issued, last contact, the profiles as last reported), tags, the queue of packages per EID keyed
    // by eimTransactionId, and the sequence numbers of the results and notifications it has stored (EimAcknowledgements).
    '0013_eim': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('eim_devices')
          .addColumn('eid', 'text', (c) => c.primaryKey())
          .addColumn('eim_id', 'text', (c) => c.notNull())
          .addColumn('euicc_certificate', bin, (c) => c.notNull())
          .addColumn('eum_certificate', bin, (c) => c.notNull())
          .addColumn('ci_key_id', 'text', (c) => c.notNull())
          .addColumn('association_token', 'integer', (c) => c.notNull())
          .addColumn('counter', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('profiles', 'text')
          .addColumn('profiles_reported_at', 'bigint')
          .addColumn('last_contact_at', 'bigint')
          .addColumn('state_change_cause', 'integer')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('eim_device_tags')
          .addColumn('eid', 'text', (c) => c.notNull().references('eim_devices.eid').onDelete('cascade'))
          .addColumn('tag', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('eim_device_tags_pk', ['eid', 'tag'])
          .execute();
        await db.schema.createIndex('eim_device_tags_tag').on('eim_device_tags').columns(['tag', 'eid']).execute();
        await db.schema
          .createTable('eim_packages')
          .addColumn('id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) => c.primaryKey())
          .addColumn('eim_transaction_id', 'text', (c) => c.notNull().unique())
          .addColumn('eid', 'text', (c) => c.notNull().references('eim_devices.eid').onDelete('cascade'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('counter', 'bigint')
          .addColumn('request', bin, (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('result', bin)
          .addColumn('outcome', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('sent_at', 'bigint')
          .addColumn('done_at', 'bigint')
          .execute();
        await db.schema
          .createIndex('eim_packages_open')
          .on('eim_packages')
          .columns(['eid', 'id'])
          .where(sql.ref('state'), 'in', [sql.lit('pending'), sql.lit('sent')])
          .execute();
        await db.schema
          .createTable('eim_received')
          .addColumn('eid', 'text', (c) => c.notNull().references('eim_devices.eid').onDelete('cascade'))
          .addColumn('seq_number', 'bigint', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('eim_transaction_id', 'text')
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('eim_received_pk', ['eid', 'seq_number'])
          .execute();
      },
    },
    // ES2+: the notification points each operator asked for (SGP.22 5.3.5: as agreed); NULL: every point.
    '0014_es2_notification_points': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable('es2_operators').addColumn('notification_points', 'text').execute();
      },
    },
    // eIM fleet operations (issue 10): the eIM's package-signing keys by generation (private keys sealed under the data
    // directory's at-rest key; updateEim moves a device to a newer one), the generation each device knows, and fleet
    // operations with one row per target device (its step, the package it waits for, attempts, backoff, lease, reason).
    '0015_eim_fleet': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable('eim_devices').addColumn('key_generation', 'integer', (c) => c.notNull().defaultTo(1)).execute();
        await db.schema
          .createTable('eim_keys')
          .addColumn('generation', 'integer', (c) => c.primaryKey())
          .addColumn('curve', 'text', (c) => c.notNull())
          .addColumn('public_key', bin, (c) => c.notNull())
          .addColumn('private_key_sealed', bin, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('eim_fleet_operations')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('params', 'text', (c) => c.notNull())
          .addColumn('targets', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('eim_fleet_targets')
          .addColumn('operation_id', 'text', (c) => c.notNull().references('eim_fleet_operations.id').onDelete('cascade'))
          .addColumn('eid', 'text', (c) => c.notNull().references('eim_devices.eid').onDelete('cascade'))
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('step', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('data', 'text', (c) => c.notNull())
          .addColumn('eim_transaction_id', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_at', 'bigint', (c) => c.notNull())
          .addColumn('lease_token', 'text')
          .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('reason', 'text')
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('eim_fleet_targets_pk', ['operation_id', 'eid'])
          .execute();
        await db.schema
          .createIndex('eim_fleet_targets_due')
          .on('eim_fleet_targets')
          .columns(['next_at'])
          .where(sql.ref('state'), 'in', [sql.lit('pending'), sql.lit('running')])
          .execute();
        await db.schema.createIndex('eim_fleet_targets_eid').on('eim_fleet_targets').columns(['eid', 'state']).execute();
      },
    },
    // SGP.32 ESipa inject mode (TransferEimPackage): the HTTPS address the eIM pushes a device's packages to; NULL: the
    // device only polls (retrieve mode).
    '0016_eim_push_address': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable('eim_devices').addColumn('push_address', 'text').execute();
      },
    },
    // eIM indirect profile download and notification forwarding (SGP.32 v1.2 3.2.2, 3.6): the ES9+ sessions the eIM
    // relays for its IPAs (the SM-DP+'s transactionId, the device it belongs to, one call in flight), and the eUICC
    // notifications it has taken over and delivers to their SM-DP+ (attempts, backoff).
    '0017_eim_relay': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('eim_relays')
          .addColumn('transaction_id', 'text', (c) => c.primaryKey())
          .addColumn('eid', 'text')
          .addColumn('eim_transaction_id', 'text')
          .addColumn('smdp_address', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('smdp_signature2', bin)
          .addColumn('busy_until', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('eim_relays_expiry').on('eim_relays').columns(['expires_at']).execute();
        await db.schema.createIndex('eim_relays_eid').on('eim_relays').columns(['eid', 'expires_at']).execute();
        await db.schema
          .createTable('eim_forwards')
          .addColumn('eid', 'text', (c) => c.notNull())
          .addColumn('seq_number', 'bigint', (c) => c.notNull())
          .addColumn('address', 'text', (c) => c.notNull())
          .addColumn('notification', bin, (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_at', 'bigint', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('delivered_at', 'bigint')
          .addPrimaryKeyConstraint('eim_forwards_pk', ['eid', 'seq_number'])
          .execute();
        await db.schema
          .createIndex('eim_forwards_due')
          .on('eim_forwards')
          .columns(['next_at'])
          .where(sql.ref('state'), '=', sql.lit('pending'))
          .execute();
      },
    },
    // eIM packages by device and counter: a result without eimTransactionId is matched by (EID, counter), a device's
    // packages are listed, and a device deleted cascades to its packages; without it each of these read every package of
    // every device (quadratic over a fleet of 100,000). The open-package index covers only pending and sent ones.
    '0018_eim_packages_by_device': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.createIndex('eim_packages_eid_counter').on('eim_packages').columns(['eid', 'counter']).execute();
      },
    },
    // The default SM-DP+ lookup (an EID-only order by EID, SGP.22 3.1.2) is the only reader of the (eid, state) index:
    // it now holds only EID-only orders, so the state changes of the others (three per download) no longer rewrite it.
    '0019_smdp_orders_eid_only_index': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropIndex('smdp_orders_eid_state').execute();
        await db.schema.createIndex('smdp_orders_eid_only').on('smdp_orders').columns(['eid', 'state']).where(sql.ref('eid_only'), '=', sql.lit(1)).execute();
      },
    },
  };
}
