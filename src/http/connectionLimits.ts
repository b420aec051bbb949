// Connection limits of the HTTPS server (docs/operations.md, Connections and timeouts): caps on open connections per process and per source address, TLS handshake, header, request, idle and keep-alive timeouts.
import { isIPv4, isIPv6, type Server, type Socket } from 'node:net';
import { McimError } from '../errors.js';

export interface ConnectionLimits {
  /** Open connections per process; a connection beyond it is closed as it is accepted, before TLS (0: no cap). */
  readonly maxConnections: number;
  /** Open connections per source address (an IPv6 address counts by its /64); beyond it a connection is closed as it is accepted (0: no cap). */
  readonly maxConnectionsPerAddress: number;
  /** A connection whose TLS handshake has not completed within this is closed. */
  readonly handshakeTimeoutMs: number;
  /** A request's headers must have arrived within this after the request started. */
  readonly headersTimeoutMs: number;
  /** A whole request, headers and body, must have arrived within this: a trickled or stalled body is cut off with 408. */
  readonly requestTimeoutMs: number;
  /** A connection with no traffic in either direction for this long is closed. */
  readonly idleTimeoutMs: number;
  /** A keep-alive connection with no request for this long after a response is closed. */
  readonly keepAliveTimeoutMs: number;
  /** Requests served on one connection; the response to the last one closes it (0: no limit). */
  readonly maxRequestsPerSocket: number;
}

/** The defaults, per process (each worker of `mcim serve --workers N` has its own). */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 512,
  maxConnectionsPerAddress: 64,
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 100,
};

/** Live counts of a server's connections (for metrics and tests). */
export interface ConnectionCounts {
  /** Connections open now (raw TCP, whether or not their TLS handshake completed). */
  readonly open: number;
  /** Source addresses (IPv6: /64 prefixes) with at least one open connection: the size of the per-address accounting. */
  readonly addresses: number;
  /** Connections closed on accept because a cap was reached, since the server started. */
  readonly refusedGlobal: number;
  readonly refusedPerAddress: number;
}

const MAX_TIMEOUT_MS = 3_600_000;
const MAX_COUNT = 1_000_000;

/** The limits with `overrides` applied, each checked: counts 0..1,000,000, timeouts 1 ms..1 h, headers timeout at most the request timeout. */
export function connectionLimits(overrides: Partial<ConnectionLimits> = {}): ConnectionLimits {
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...definedOnly(overrides) };
  for (const name of ['maxConnections', 'maxConnectionsPerAddress', 'maxRequestsPerSocket'] as const) {
    const value = limits[name];
    if (!Number.isInteger(value) || value < 0 || value > MAX_COUNT) throw new McimError('INVALID_ARGUMENT', `${name} is 0 to ${MAX_COUNT}, got ${value}`);
  }
  for (const name of ['handshakeTimeoutMs', 'headersTimeoutMs', 'requestTimeoutMs', 'idleTimeoutMs', 'keepAliveTimeoutMs'] as const) {
    const value = limits[name];
    if (!Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MS) throw new McimError('INVALID_ARGUMENT', `${name} is 1 to ${MAX_TIMEOUT_MS} ms, got ${value}`);
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new McimError('INVALID_ARGUMENT', `headersTimeoutMs (${limits.headersTimeoutMs}) must not exceed requestTimeoutMs (${limits.requestTimeoutMs})`);
  }
  return limits;
}

function definedOnly(overrides: Partial<ConnectionLimits>): Partial<ConnectionLimits> {
  return Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<ConnectionLimits>;
}

/**
 * What https.createServer takes for the limits: the TLS handshake timeout, and the header and request timeouts with a
 * check interval short enough for them to bite on time (node checks them every 30 s by default).
 */
export function connectionServerOptions(limits: ConnectionLimits): {
  handshakeTimeout: number;
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    handshakeTimeout: limits.handshakeTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/**
 * The key a source address is counted under: an IPv4 address (also IPv4-mapped IPv6) as is, an IPv6 address by its
 * first 64 bits (one host commonly holds a whole /64, so counting single addresses would not cap it).
 */
export function sourceKey(address: string): string {
  if (isIPv4(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const bare = address.split('%')[0]!.toLowerCase().replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a: string, b: string, c: string, d: string) => {
    const [x, y, z, w] = [a, b, c, d].map(Number) as [number, number, number, number];
    return `${((x << 8) | y).toString(16)}:${((z << 8) | w).toString(16)}`;
  });
  const [head, tail] = bare.includes('::') ? bare.split('::') : [bare, undefined];
  const left = head === '' ? [] : head!.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

const counts = new WeakMap<Server, () => ConnectionCounts>();

/** The live counts of a server limited by limitConnections, or undefined for another server. */
export function connectionCounts(server: Server): ConnectionCounts | undefined {
  return counts.get(server)?.();
}

/**
 * Caps `server`'s connections: the global cap by node's own maxConnections (the socket is closed in the accept
 * callback, before any JavaScript object or TLS state exists for it), the per-address cap by a 'connection' listener
 * that runs before TLS starts. The per-address map holds only addresses with open connections: an entry is deleted
 * when its count drops to 0, so it never has more than maxConnections entries.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): void {
  const perAddress = new Map<string, number>();
  let open = 0;
  let refusedGlobal = 0;
  let refusedPerAddress = 0;
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  server.on('drop', () => {
    refusedGlobal++;
  });
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address === undefined) {
      // Reset by the peer before it could be accounted: nothing to serve.
      socket.destroy();
      return;
    }
    const key = sourceKey(address);
    const current = perAddress.get(key) ?? 0;
    if (limits.maxConnectionsPerAddress > 0 && current >= limits.maxConnectionsPerAddress) {
      refusedPerAddress++;
      socket.destroy();
      return;
    }
    perAddress.set(key, current + 1);
    open++;
    socket.once('close', () => {
      open--;
      const left = (perAddress.get(key) ?? 1) - 1;
      if (left <= 0) perAddress.delete(key);
      else perAddress.set(key, left);
    });
  });
  counts.set(server, () => ({
    open,
    addresses: perAddress.size,
    refusedGlobal,
    refusedPerAddress,
  }));
}
