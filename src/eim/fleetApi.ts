// The eIM's fleet API (issue 10 "Fleet operations", over SGP.32 v1.2 2.5 registry and 2.11 packages): bulk registration, devices by tag, operations on a selection and their reports; bearer token, bounded schemas, OpenAPI document.
import { createHash, timingSafeEqual } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { generateKeyPair } from '../crypto/ecdsa.js';
import { McimError, type ErrorCode } from '../errors.js';
import { MAX_PUSH_ADDRESS, type Device } from '../store/eimStore.js';
import type { EimFleetStore, FleetOperation, FleetTarget } from '../store/eimFleetStore.js';
import type { EimContext } from './context.js';
import { EimError } from './errors.js';
import type { FleetEngine } from './fleet/engine.js';
import { FLEET_OPERATION_KINDS, operationKind } from './fleet/operations.js';
import { pushPackages, type PushOptions } from './transferEimPackage.js';
import { registerDevice } from './registerDevice.js';

export const FLEET_API_PREFIX = '/fleet';
export const MIN_TOKEN_LENGTH = 32;
/** Devices in one registration request (a file is sent in batches of this size). */
export const MAX_REGISTRATION_BATCH = 1000;
/** Body of a registration request: MAX_REGISTRATION_BATCH records of two certificates in base64. */
export const REGISTRATION_BODY_LIMIT = 8 * 1024 * 1024;
/** Body of an operation request: its EIDs and activation codes (about 100 bytes each). */
export const OPERATION_BODY_LIMIT = 16 * 1024 * 1024;
const MAX_OPERATION_EIDS = 100_000;

const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  DEVICE_NOT_FOUND: 404,
  DEVICE_EXISTS: 409,
  INPUT_TOO_LARGE: 413,
  TAMPERED: 500,
};

export interface FleetApiDeps {
  readonly ctx: EimContext;
  readonly fleet: EimFleetStore;
  readonly engine: FleetEngine;
  readonly token: string;
  /** TransferEimPackage (inject mode): the eIM's TLS client credentials and the CAs of the IPAds' listeners; without it, pushes are refused. */
  readonly push?: PushOptions;
}

const EID = { type: 'string', pattern: '^[0-9]{32}$' };
const TAG = { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' };
const B64 = { type: 'string', minLength: 4, maxLength: 8192 };
const ERROR = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
  required: ['error'],
};
const PROFILE = {
  type: 'object',
  properties: { iccid: { type: 'string' }, state: { type: 'string' }, profileName: { type: 'string' }, serviceProviderName: { type: 'string' }, profileClass: { type: 'integer' } },
  required: ['iccid', 'state'],
};
const DEVICE = {
  type: 'object',
  properties: {
    eid: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    counter: { type: 'integer' },
    keyGeneration: { type: 'integer' },
    profiles: { type: 'array', items: PROFILE },
    lastContactAt: { type: 'integer' },
    createdAt: { type: 'integer' },
    pushAddress: { type: 'string' },
  },
  required: ['eid', 'tags', 'counter', 'keyGeneration', 'createdAt'],
};
const COUNTS = {
  type: 'object',
  properties: { pending: { type: 'integer' }, running: { type: 'integer' }, done: { type: 'integer' }, failed: { type: 'integer' } },
  required: ['pending', 'running', 'done', 'failed'],
};
const OPERATION = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    params: { type: 'object', additionalProperties: true },
    targets: { type: 'integer' },
    createdAt: { type: 'integer' },
    counts: COUNTS,
    finished: { type: 'boolean' },
  },
  required: ['id', 'kind', 'params', 'targets', 'createdAt', 'counts', 'finished'],
};
const TARGET = {
  type: 'object',
  properties: {
    eid: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'running', 'done', 'failed'] },
    step: { type: 'string' },
    attempts: { type: 'integer' },
    reason: { type: 'string' },
    waitingForDevice: { type: 'boolean' },
    result: { type: 'object', additionalProperties: true },
    updatedAt: { type: 'integer' },
  },
  required: ['eid', 'state', 'step', 'attempts', 'updatedAt'],
};

function responses(schema: unknown, status = 200): Record<number, unknown> {
  return { [status]: schema ?? { type: 'null' }, 400: ERROR, 401: ERROR, 404: ERROR, 409: ERROR, 413: ERROR, 500: ERROR };
}

function body(properties: Record<string, unknown>, required: string[]): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, properties, required };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function errorReply(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send({ error: { code, message } });
}

export function deviceJson(d: Device): Record<string, unknown> {
  return {
    eid: d.eid,
    tags: d.tags,
    counter: d.counter,
    keyGeneration: d.keyGeneration,
    ...(d.profiles === undefined ? {} : { profiles: d.profiles }),
    ...(d.lastContactAt === undefined ? {} : { lastContactAt: d.lastContactAt }),
    createdAt: d.createdAt,
    ...(d.pushAddress === undefined ? {} : { pushAddress: d.pushAddress }),
  };
}

/** An operation's parameters as shown: activation codes are bearer credentials of the operator's orders, so only their count. */
function shownParams(params: unknown): Record<string, unknown> {
  const p = { ...(params as Record<string, unknown>) };
  if (typeof p['activationCodes'] === 'object' && p['activationCodes'] !== null) p['activationCodes'] = Object.keys(p['activationCodes']).length;
  return p;
}

export async function operationJson(fleet: EimFleetStore, op: FleetOperation): Promise<Record<string, unknown>> {
  const counts = await fleet.counts(op.id);
  return { id: op.id, kind: op.kind, params: shownParams(op.params), targets: op.targets, createdAt: op.createdAt, counts, finished: counts.pending + counts.running === 0 };
}

/** A target as reported: the step it is at (by name, 'finished' past the last), why it failed, what it learned. */
export function targetJson(kind: string, t: FleetTarget): Record<string, unknown> {
  const steps = operationKind(kind).steps;
  return {
    eid: t.eid,
    state: t.state,
    step: t.step < steps.length ? steps[t.step]!.name : 'finished',
    attempts: t.attempts,
    ...(t.reason === undefined ? {} : { reason: t.reason }),
    ...(t.state === 'running' && t.eimTransactionId !== undefined ? { waitingForDevice: true } : {}),
    ...(Object.keys(t.data).length === 0 ? {} : { result: t.data }),
    updatedAt: t.updatedAt,
  };
}

/** What selects an operation's devices: EIDs, a tag, or both (their union). */
export interface Selection {
  readonly eids?: readonly string[];
  readonly tag?: string;
}

/**
 * Starts an operation on a selection: the parameters checked by the operation's kind, every EID registered, the targets
 * created in one transaction, the engine told. rotateEimKey without a generation first adds the eIM's next key.
 */
export async function startOperation(deps: Omit<FleetApiDeps, 'token'>, kind: string, selection: Selection, params: unknown): Promise<FleetOperation> {
  const k = operationKind(kind);
  let p = params ?? {};
  if (kind === 'rotateEimKey' && (typeof p !== 'object' || !('generation' in p))) {
    const generation = await deps.fleet.addKey(generateKeyPair(deps.ctx.curve).privateKey, deps.ctx.curve, deps.ctx.now());
    await deps.ctx.keys.refresh();
    p = { ...(p as object), generation };
  }
  const parsed = k.parse(p);
  const eids = [...(selection.eids ?? []), ...(selection.tag === undefined ? [] : await deps.fleet.eidsWithTag(selection.tag))];
  if (eids.length === 0) throw new EimError('INVALID_ARGUMENT', 'the selection holds no device (give EIDs or a tag with devices)');
  const op = await deps.fleet.createOperation(kind, parsed, eids, deps.ctx.now());
  deps.engine.poke();
  return op;
}

/** The API's routes, as registered and as the OpenAPI document must show them. */
export const FLEET_ROUTES: readonly (readonly [string, string])[] = [
  ['GET', '/fleet/eim'],
  ['POST', '/fleet/devices'],
  ['GET', '/fleet/devices'],
  ['PUT', '/fleet/devices/{eid}/tags'],
  ['PUT', '/fleet/devices/{eid}/push-address'],
  ['POST', '/fleet/devices/{eid}/push'],
  ['POST', '/fleet/operations'],
  ['GET', '/fleet/operations'],
  ['GET', '/fleet/operations/{id}'],
];

/**
 * Registers the fleet API under /fleet on the eIM's HTTPS server: every route behind the bearer token, with bounded
 * request and response schemas (unknown fields refused; responses carry only declared fields), and its OpenAPI document
 * at /fleet/openapi.json. The ESipa routes registered before it stay outside the document and the token.
 */
export async function registerFleetApi(app: FastifyInstance, deps: FleetApiDeps): Promise<void> {
  if (deps.token.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(deps.token)) {
    throw new EimError('INVALID_ARGUMENT', `the fleet API token must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces`);
  }
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'mcim eIM fleet API', description: 'Devices (bulk registration, tags) and fleet operations over SGP.32 eIM packages.', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  const expected = digest(deps.token);
  const { ctx, fleet } = deps;
  await app.register(
    async (api) => {
      api.addHook('onRequest', async (request: FastifyRequest) => {
        const header = request.headers.authorization;
        const m = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header) : null;
        if (m === null || !timingSafeEqual(digest(m[1]!), expected)) throw new EimError('UNAUTHORIZED', 'missing or wrong bearer token');
      });
      api.setNotFoundHandler((request, reply) => errorReply(reply, 404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 80)}`));
      api.setErrorHandler((error: FastifyError | McimError, request, reply) => {
        if (error instanceof McimError) {
          const status = STATUS[error.code] ?? 400;
          if (status === 401) void reply.header('www-authenticate', 'Bearer');
          if (status === 500) request.log.error({ err: error }, 'fleet API request failed');
          return errorReply(reply, status, error.code, status === 500 ? 'internal error' : error.message);
        }
        if (error.validation !== undefined) return errorReply(reply, 400, 'INVALID_ARGUMENT', `invalid request: ${error.message.slice(0, 200)}`);
        if (error.statusCode === 413) return errorReply(reply, 413, 'INPUT_TOO_LARGE', 'request body too large');
        if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return errorReply(reply, error.statusCode, 'INVALID_ARGUMENT', `malformed request: ${error.message.slice(0, 200)}`);
        request.log.error({ err: error }, 'fleet API request failed');
        return errorReply(reply, 500, 'INTERNAL', 'internal error');
      });
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

      api.get(
        '/eim',
        {
          schema: {
            tags: ['eim'],
            summary: "The eIM's identity and public keys (eimPublicKeyData for AddInitialEim: the active generation)",
            response: responses({
              type: 'object',
              properties: {
                eimId: { type: 'string' },
                activeKeyGeneration: { type: 'integer' },
                keys: { type: 'array', items: { type: 'object', properties: { generation: { type: 'integer' }, curve: { type: 'string' }, publicKey: { type: 'string' } }, required: ['generation', 'curve', 'publicKey'] } },
                operations: { type: 'array', items: { type: 'string' } },
              },
              required: ['eimId', 'activeKeyGeneration', 'keys', 'operations'],
            }),
          },
        },
        async () => {
          await ctx.keys.refresh();
          return {
            eimId: ctx.eimId,
            activeKeyGeneration: ctx.keys.active,
            keys: ctx.keys.publicKeys().map((k) => ({ generation: k.generation, curve: k.curve, publicKey: k.spki.toString('base64') })),
            operations: [...FLEET_OPERATION_KINDS],
          };
        },
      );

      const REGISTRATION = body(
        {
          eid: EID,
          euiccCertificate: B64,
          eumCertificate: B64,
          associationToken: { type: 'integer', minimum: 0, maximum: 2147483647 },
          counter: { type: 'integer', minimum: 0, maximum: 0x7fffff },
          keyGeneration: { type: 'integer', minimum: 1, maximum: 2147483647 },
          tags: { type: 'array', maxItems: 32, items: TAG },
        },
        ['euiccCertificate', 'eumCertificate'],
      );
      api.post(
        '/devices',
        {
          bodyLimit: REGISTRATION_BODY_LIMIT,
          schema: {
            tags: ['devices'],
            summary: `Register up to ${MAX_REGISTRATION_BATCH} devices: each chain-validated against the eIM's CIs and stored on its own (one refusal does not stop the others)`,
            body: body({ devices: { type: 'array', minItems: 1, maxItems: MAX_REGISTRATION_BATCH, items: REGISTRATION } }, ['devices']),
            response: responses({
              type: 'object',
              properties: {
                registered: { type: 'integer' },
                existing: { type: 'integer' },
                refused: { type: 'integer' },
                results: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { index: { type: 'integer' }, eid: { type: 'string' }, status: { type: 'string', enum: ['registered', 'exists', 'refused'] }, code: { type: 'string' }, message: { type: 'string' } },
                    required: ['index', 'status'],
                  },
                },
              },
              required: ['registered', 'existing', 'refused', 'results'],
            }),
          },
        },
        async (request) => {
          type Item = { eid?: string; euiccCertificate: string; eumCertificate: string; associationToken?: number; counter?: number; keyGeneration?: number; tags?: string[] };
          const items = (request.body as { devices: Item[] }).devices;
          const results: Record<string, unknown>[] = [];
          for (const [index, d] of items.entries()) {
            try {
              const device = await registerDevice(ctx, {
                euiccCertificate: Buffer.from(d.euiccCertificate, 'base64'),
                eumCertificate: Buffer.from(d.eumCertificate, 'base64'),
                // The first token an eUICC assigns (AddInitialEim on a new eUICC), when the file does not say.
                associationToken: d.associationToken ?? 1,
                ...(d.eid === undefined ? {} : { eid: d.eid }),
                ...(d.counter === undefined ? {} : { counter: d.counter }),
                ...(d.keyGeneration === undefined ? {} : { keyGeneration: d.keyGeneration }),
                ...(d.tags === undefined ? {} : { tags: d.tags }),
              });
              results.push({ index, eid: device.eid, status: 'registered' });
            } catch (e) {
              if (!(e instanceof McimError)) throw e;
              results.push({ index, ...(d.eid === undefined ? {} : { eid: d.eid }), status: e.code === 'DEVICE_EXISTS' ? 'exists' : 'refused', code: e.code, message: e.message.slice(0, 300) });
            }
          }
          const count = (s: string): number => results.filter((r) => r['status'] === s).length;
          return { registered: count('registered'), existing: count('exists'), refused: count('refused'), results };
        },
      );

      api.get(
        '/devices',
        {
          schema: {
            tags: ['devices'],
            summary: 'Devices in EID order, all or those with a tag',
            querystring: { type: 'object', additionalProperties: false, properties: { tag: TAG, after: EID, limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } } },
            response: responses({ type: 'object', properties: { devices: { type: 'array', items: DEVICE }, next: { type: 'string' } }, required: ['devices'] }),
          },
        },
        async (request) => {
          const q = request.query as { tag?: string; after?: string; limit?: string };
          const limit = q.limit === undefined ? 100 : Math.min(Number(q.limit), 1000);
          const list = await ctx.store.listDevices({ ...(q.tag === undefined ? {} : { tag: q.tag }), ...(q.after === undefined ? {} : { after: q.after }), limit });
          return { devices: list.map(deviceJson), ...(list.length === limit ? { next: list.at(-1)!.eid } : {}) };
        },
      );

      api.put(
        '/devices/:eid/tags',
        {
          schema: {
            tags: ['devices'],
            summary: "Replace a device's tags",
            params: { type: 'object', properties: { eid: EID }, required: ['eid'] },
            body: body({ tags: { type: 'array', maxItems: 32, items: TAG } }, ['tags']),
            response: responses(DEVICE),
          },
        },
        async (request) => {
          const eid = (request.params as { eid: string }).eid;
          await ctx.store.setTags(eid, (request.body as { tags: string[] }).tags);
          return deviceJson((await ctx.store.getDevice(eid))!);
        },
      );

      api.put(
        '/devices/:eid/push-address',
        {
          schema: {
            tags: ['devices'],
            summary: "Set the device's push address (https://host[:port] of its IPAd's listener: TransferEimPackage, inject mode), or clear it with null (retrieve mode only)",
            params: { type: 'object', properties: { eid: EID }, required: ['eid'] },
            body: body({ pushAddress: { type: 'string', nullable: true, maxLength: MAX_PUSH_ADDRESS } }, ['pushAddress']),
            response: responses(DEVICE),
          },
        },
        async (request) => {
          const eid = (request.params as { eid: string }).eid;
          await ctx.store.setPushAddress(eid, (request.body as { pushAddress: string | null }).pushAddress ?? undefined);
          return deviceJson((await ctx.store.getDevice(eid))!);
        },
      );

      api.post(
        '/devices/:eid/push',
        {
          schema: {
            tags: ['devices'],
            summary: "Push the device's open packages to its IPAd now (TransferEimPackage), one after another until none is left, one is taken for later or one is undelivered (it then stays for retrieve mode)",
            params: { type: 'object', properties: { eid: EID }, required: ['eid'] },
            response: responses({
              type: 'object',
              properties: {
                outcomes: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      status: { type: 'string', enum: ['result', 'received', 'error', 'undelivered'] },
                      eimTransactionId: { type: 'string' },
                      kind: { type: 'string' },
                      acknowledged: { type: 'array', items: { type: 'integer' } },
                      acknowledgementsDelivered: { type: 'boolean' },
                      eimPackageError: { type: 'integer' },
                      reason: { type: 'string' },
                    },
                    required: ['status', 'eimTransactionId', 'kind'],
                  },
                },
              },
              required: ['outcomes'],
            }),
          },
        },
        async (request) => {
          if (deps.push === undefined) throw new EimError('INVALID_ARGUMENT', 'pushes are not configured on this eIM (mcim eim serve --push-ca)');
          const eid = (request.params as { eid: string }).eid;
          const outcomes = await pushPackages(ctx, eid, deps.push);
          if (outcomes.some((o) => o.status === 'result' || o.status === 'error')) deps.engine.wake(eid);
          return { outcomes };
        },
      );

      api.post(
        '/operations',
        {
          bodyLimit: OPERATION_BODY_LIMIT,
          schema: {
            tags: ['operations'],
            summary: `Run an operation on a selection (EIDs and/or a tag): ${FLEET_OPERATION_KINDS.join(', ')}`,
            body: body(
              {
                kind: { type: 'string', enum: [...FLEET_OPERATION_KINDS] },
                eids: { type: 'array', maxItems: MAX_OPERATION_EIDS, items: EID },
                tag: TAG,
                params: { type: 'object', additionalProperties: true },
              },
              ['kind'],
            ),
            response: responses(OPERATION, 201),
          },
        },
        async (request, reply) => {
          const b = request.body as { kind: string; eids?: string[]; tag?: string; params?: unknown };
          const op = await startOperation(deps, b.kind, { ...(b.eids === undefined ? {} : { eids: b.eids }), ...(b.tag === undefined ? {} : { tag: b.tag }) }, b.params);
          return reply.code(201).send(await operationJson(fleet, op));
        },
      );

      api.get(
        '/operations',
        {
          schema: {
            tags: ['operations'],
            summary: 'Operations, newest first, with their counts',
            querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' } } },
            response: responses({ type: 'object', properties: { operations: { type: 'array', items: OPERATION } }, required: ['operations'] }),
          },
        },
        async (request) => {
          const q = request.query as { limit?: string };
          const ops = await fleet.listOperations(q.limit === undefined ? 50 : Number(q.limit));
          return { operations: await Promise.all(ops.map((op) => operationJson(fleet, op))) };
        },
      );

      api.get(
        '/operations/:id',
        {
          schema: {
            tags: ['operations'],
            summary: 'An operation and its targets (done, failed with reason, pending), in EID order',
            params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$' } }, required: ['id'] },
            querystring: {
              type: 'object',
              additionalProperties: false,
              properties: { after: EID, limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' }, state: { type: 'string', enum: ['pending', 'running', 'done', 'failed'] } },
            },
            response: responses({ type: 'object', properties: { operation: OPERATION, targets: { type: 'array', items: TARGET }, next: { type: 'string' } }, required: ['operation', 'targets'] }),
          },
        },
        async (request) => {
          const id = (request.params as { id: string }).id;
          const q = request.query as { after?: string; limit?: string; state?: 'pending' | 'running' | 'done' | 'failed' };
          const op = await fleet.getOperation(id);
          if (op === undefined) throw new McimError('NOT_FOUND', `no operation ${id}`);
          const limit = q.limit === undefined ? 1000 : Number(q.limit);
          // The counts first, then the targets: a report that says finished lists every target in its final state (read
          // the other way round, another eIM process finishing a target in between gave finished beside a running target).
          const operation = await operationJson(fleet, op);
          const targets = await fleet.targets(id, { ...(q.after === undefined ? {} : { after: q.after }), ...(q.state === undefined ? {} : { state: q.state }), limit });
          return {
            operation,
            targets: targets.map((t) => targetJson(op.kind, t)),
            ...(targets.length === limit ? { next: targets.at(-1)!.eid } : {}),
          };
        },
      );
    },
    { prefix: FLEET_API_PREFIX },
  );
}
