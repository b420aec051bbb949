// The eIM as a server (SGP.32 v1.2 6.1-6.4 ESipa over HTTPS, issue 10 fleet operations): a data directory's identity, TLS and CIs, its store and keys, the ESipa bindings, the fleet API and the engine that runs fleet operations, on one HTTPS port.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { generateKeyPair } from '../crypto/ecdsa.js';
import type { Logger } from '../http/logging.js';
import { writePrivateFile } from '../pki/privateFiles.js';
import { DATABASE_ENV, openDatabase, postgresConfig, type Database, type DatabaseConfig } from '../store/database.js';
import { EimFleetStore } from '../store/eimFleetStore.js';
import { EimStore } from '../store/eimStore.js';
import type { EimContext } from './context.js';
import type { EimDataDir } from './dataDir.js';
import { EimKeyring } from './eimKeys.js';
import { FleetEngine, type FleetEngineOptions } from './fleet/engine.js';
import { registerFleetApi } from './fleetApi.js';
import { createEimServer, type EimServerOptions } from './server.js';
import type { RelayOptions } from './relayContext.js';
import { EimRelayStore } from '../store/eimRelayStore.js';

export interface EimServiceOptions {
  readonly data: EimDataDir;
  /** Default: $MCIM_DB (PostgreSQL), else `eim.sqlite` in the data directory. */
  readonly database?: DatabaseConfig;
  readonly engine?: FleetEngineOptions;
  readonly logger?: Logger;
  readonly onRefusal?: EimServerOptions['onRefusal'];
  readonly onInternalError?: (e: unknown) => void;
  /** TransferEimPackage (inject mode): the CA certificates (PEM) the IPAds' listeners chain to; the eIM's TLS credentials are its client certificate. Without: no pushes. */
  readonly pushCa?: readonly Buffer[];
  /** ESipa abuse bounds (src/eim/esipaLimits.ts): each given one replaces its default. */
  readonly esipaLimits?: EimServerOptions['esipaLimits'];
  readonly onLimited?: EimServerOptions['onLimited'];
  /** Last contact written at most once per this many ms per device (default 60 s). */
  readonly contactIntervalMs?: number;
  /** Unknown EIDs answered noEimPackageAvailable instead of eidNotFound (default false). */
  readonly hideUnknownEids?: boolean;
  /** The indirect profile download and notification forwarding (SGP.32 3.2.2, 3.6), relay state in the eIM's store; absent: off. */
  readonly relay?: Omit<RelayOptions, 'store'>;
}

export interface EimService {
  readonly app: FastifyInstance;
  readonly ctx: EimContext;
  readonly fleet: EimFleetStore;
  readonly engine: FleetEngine;
  readonly db: Database;
  /** Listens, then starts the engine (operations left by a stopped eIM continue). Returns the port. */
  listen(host: string, port: number): Promise<number>;
  /** Stops the engine after its round, closes the server and the database. */
  close(): Promise<void>;
}

/** The store's database: the one given, else $MCIM_DB, else `eim.sqlite` in the data directory (created mode 0600). */
export function eimDatabase(data: EimDataDir, database?: DatabaseConfig): DatabaseConfig {
  if (database !== undefined) return database;
  const fromEnvironment = process.env[DATABASE_ENV];
  if (fromEnvironment !== undefined && fromEnvironment !== '') return postgresConfig(fromEnvironment);
  const file = join(data.dir, 'eim.sqlite');
  if (!existsSync(file)) writePrivateFile(file, '', 'a');
  return { engine: 'sqlite', file };
}

/**
 * Opens the eIM: its store (migrated), its keys (generation 1 made on first start; private keys sealed under the data
 * directory's at-rest key), the ESipa server, the fleet API under /fleet (the data directory's token) and the engine.
 */
export async function openEimService(o: EimServiceOptions): Promise<EimService> {
  const config = eimDatabase(o.data, o.database);
  const db = await openDatabase(config);
  try {
    const fleet = new EimFleetStore(db, o.data.atRestKey.box(), config.engine);
    const store = new EimStore(db);
    let keys = await fleet.keys();
    if (keys.length === 0) {
      // Another process starting on the same new database at once may store its first key instead: both use that one.
      await fleet.addFirstKey(generateKeyPair(o.data.curve).privateKey, o.data.curve, Date.now());
      keys = await fleet.keys();
    }
    const keyring = new EimKeyring(keys, () => fleet.keys());
    const server = createEimServer({
      eimId: o.data.eimId,
      keyring,
      trustedCis: o.data.trustedCis,
      store,
      ...(o.relay === undefined ? {} : { relay: { ...o.relay, store: new EimRelayStore(db) } }),
      tls: o.data.tls,
      // Called only once the server listens, after the engine exists.
      onPackageResult: (eid) => running.wake(eid),
      ...(o.logger === undefined ? {} : { logger: o.logger }),
      ...(o.onRefusal === undefined ? {} : { onRefusal: o.onRefusal }),
      ...(o.onInternalError === undefined ? {} : { onInternalError: o.onInternalError }),
      ...(o.esipaLimits === undefined ? {} : { esipaLimits: o.esipaLimits }),
      ...(o.onLimited === undefined ? {} : { onLimited: o.onLimited }),
      ...(o.contactIntervalMs === undefined ? {} : { contactIntervalMs: o.contactIntervalMs }),
      ...(o.hideUnknownEids === undefined ? {} : { hideUnknownEids: o.hideUnknownEids }),
    });
    const ctx = server.context;
    const onError = o.engine?.onError ?? o.onInternalError ?? ((e: unknown) => o.logger?.error({ err: e }, 'fleet engine error'));
    const running = new FleetEngine(ctx, fleet, { ...o.engine, onError });
    const push = o.pushCa === undefined || o.pushCa.length === 0 ? {} : { push: { key: o.data.tls.key, cert: o.data.tls.cert, ca: o.pushCa } };
    await registerFleetApi(server.app, { ctx, fleet, engine: running, token: o.data.token, ...push });
    return {
      app: server.app,
      ctx,
      fleet,
      engine: running,
      db,
      async listen(host, port) {
        await server.app.listen({ host, port });
        running.start();
        const address = server.app.server.address();
        return typeof address === 'object' && address !== null ? address.port : port;
      },
      async close() {
        await running.stop();
        await server.app.close();
        await db.destroy();
      },
    };
  } catch (e) {
    await db.destroy();
    throw e;
  }
}
