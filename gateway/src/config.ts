import { type ConfigReader, type PlatformSettings, type RedisSettings, readPlatformSettings, readRedisSettings } from '@coupon-rush/platform';

/**
 * A token bucket, like Spring Cloud Gateway's RequestRateLimiter: `replenishRate` tokens a second
 * up to `burstCapacity`, each request taking `requestedTokens`. Whose bucket: the verified token's
 * subject (`user`), the client's address (`client`) or the email a login body names (`account`).
 */
export interface RateLimit {
  name: string;
  key: 'user' | 'client' | 'account';
  replenishRate: number;
  burstCapacity: number;
  requestedTokens: number;
}

export interface RouteDefinition {
  id: string;
  /** Path prefix; a `*` segment matches exactly one path segment. */
  path: string;
  methods?: string[];
  service: string;
  public: boolean;
  stripPrefix: number;
  timeoutMs: number;
  /** The limiters of gateway.rateLimits this route's requests pass, in order (none: unlimited). */
  rateLimits: RateLimit[];
  /**
   * A route of turns in issue-coupon's waiting rooms (/coupons/:id/queue upstream): the gateway
   * answers the users who are waiting or admitted itself, from the room in Redis (WaitingDoor), and
   * forwards the rest.
   */
  waitingRoom: boolean;
}

export interface GatewayConfig {
  platform: PlatformSettings;
  routes: RouteDefinition[];
  jwt: { secret: string; issuer: string };
  /**
   * Whose traceparent the gateway honours: an admin token's, or a request carrying this header with
   * this value (an operator's load tool, a trusted upstream). Anyone else's is dropped.
   */
  traceTrust: { header?: string; value?: string };
  upstream: { maxSockets: number; benchMillis: number };
  /** One JSON line per proxied request (method, path, route, status, duration, trace id). */
  accessLog: boolean;
  redis: RedisSettings;
  /** How long a limiter's Redis call may take before the request goes on without it (fail open). */
  rateLimiterTimeoutMs: number;
  /** How long the waiting-room door's Redis call may take before the turn goes on to the service behind the route. */
  waitingRoomTimeoutMs: number;
  cors: { allowedOrigins: string[]; allowedMethods: string[]; allowedHeaders: string[]; exposedHeaders: string[]; maxAgeSeconds: number };
}

/** What the gateway answers itself, before any route: a route may not take it over. */
const GATEWAY_OWN = /^\/(health|metrics|refresh)(\/|$)/;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * One route, every field given and checked (config-repo/gateway.yml holds each in full): a route
 * that would match nothing, strip a fraction of a segment or time out after NaN ms is refused with
 * its reason, and the service does not start (or a refresh keeps the table it had).
 */
function readRoute(v: unknown, limits: Map<string, RateLimit>): RouteDefinition {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('a route is an object');
  const r = v as Record<string, unknown>;
  if (typeof r.id !== 'string' || !/^[\w-]{1,64}$/.test(r.id)) throw new Error('id: letters, digits, _ or -');
  if (typeof r.path !== 'string' || !/^\/[\w.~*/-]*$/.test(r.path) || r.path.includes('//')) throw new Error(`${r.id}: path is a /-rooted prefix of segments (a * segment matches one)`);
  if (GATEWAY_OWN.test(r.path)) throw new Error(`${r.id}: path ${r.path} is the gateway's own (health, metrics, refresh)`);
  if (typeof r.service !== 'string' || !/^[\w.-]{1,128}$/.test(r.service)) throw new Error(`${r.id}: service is a Consul service name`);
  if (typeof r.public !== 'boolean') throw new Error(`${r.id}: public is true or false`);
  if (!Number.isInteger(r.stripPrefix) || (r.stripPrefix as number) < 0 || (r.stripPrefix as number) > r.path.split('/').length - 1)
    throw new Error(`${r.id}: stripPrefix is a whole number of the path's segments`);
  if (!Number.isInteger(r.timeoutMs) || (r.timeoutMs as number) < 1 || (r.timeoutMs as number) > 600_000) throw new Error(`${r.id}: timeoutMs is a whole number of milliseconds, 1 to 600000`);
  let methods: string[] | undefined;
  if (r.methods !== undefined) {
    if (!Array.isArray(r.methods) || r.methods.length === 0 || !r.methods.every((m) => typeof m === 'string' && METHODS.has(m.toUpperCase())))
      throw new Error(`${r.id}: methods is a non-empty list of ${[...METHODS].join(', ')}`);
    methods = r.methods.map((m) => (m as string).toUpperCase());
  }
  const named = r.rateLimits === undefined ? [] : Array.isArray(r.rateLimits) ? r.rateLimits : [r.rateLimits];
  const rateLimits = named.map((name) => {
    const limit = limits.get(String(name));
    if (!limit) throw new Error(`${r.id}: rateLimits names ${String(name)}, which is not one of gateway.rateLimits (${[...limits.keys()].join(', ')})`);
    if (limit.key === 'user' && r.public) throw new Error(`${r.id}: a public route has no verified user to limit by (${limit.name} has key: user)`);
    return limit;
  });
  if (r.waitingRoom !== undefined && typeof r.waitingRoom !== 'boolean') throw new Error(`${r.id}: waitingRoom is true or false`);
  if (r.waitingRoom && r.public) throw new Error(`${r.id}: a waiting room's turns are a verified user's`);
  return {
    id: r.id,
    path: r.path.replace(/\/$/, ''),
    methods,
    service: r.service,
    public: r.public,
    stripPrefix: r.stripPrefix as number,
    timeoutMs: r.timeoutMs as number,
    rateLimits,
    waitingRoom: r.waitingRoom === true,
  };
}

const LIMIT_KEYS = new Set(['user', 'client', 'account']);

function readRateLimits(r: ConfigReader): Map<string, RateLimit> {
  const out = new Map<string, RateLimit>();
  for (const [name, v] of Object.entries(r.optionalMap('gateway.rateLimits'))) {
    const at = `gateway.rateLimits.${name}`;
    const l = (v ?? {}) as Record<string, unknown>;
    const key = r.string(`${at}.key`);
    if (!LIMIT_KEYS.has(key)) r.problem(`${at}.key: expected user, client or account, got ${JSON.stringify(key)}`);
    const limit: RateLimit = {
      name,
      key: key as RateLimit['key'],
      replenishRate: r.number(`${at}.replenishRate`, { min: 1e-6 }),
      burstCapacity: r.number(`${at}.burstCapacity`, { min: 1 }),
      requestedTokens: l.requestedTokens === undefined ? 1 : r.number(`${at}.requestedTokens`, { min: 1 }),
    };
    // A cost above the burst could never be paid: every request would be refused.
    if (limit.requestedTokens > limit.burstCapacity) r.problem(`${at}: requestedTokens ${limit.requestedTokens} is more than burstCapacity ${limit.burstCapacity}`);
    out.set(name, limit);
  }
  return out;
}

const ORIGIN = /^https?:\/\/[^/\s]+$/;

function uniqueIds(routes: RouteDefinition[]): RouteDefinition[] {
  const seen = new Set<string>();
  for (const route of routes) {
    if (seen.has(route.id)) throw new Error(`invalid configuration: gateway.routes: the id ${route.id} is used twice`);
    seen.add(route.id);
  }
  return routes;
}

export function parseConfig(r: ConfigReader): GatewayConfig {
  const limits = readRateLimits(r);
  const names = (path: string, valid: RegExp) =>
    r.optionalList(path, (v) => {
      if (typeof v !== 'string' || !valid.test(v)) throw new Error(`expected a value matching ${valid}, got ${JSON.stringify(v)}`);
      return v;
    });
  const config = r.done({
    platform: readPlatformSettings(r),
    routes: uniqueIds(r.list('gateway.routes', (v) => readRoute(v, limits))),
    jwt: { secret: r.string('jwt.secret'), issuer: r.string('jwt.issuer') },
    traceTrust: { header: r.optionalString('gateway.traceTrust.header')?.toLowerCase(), value: r.optionalString('gateway.traceTrust.value') },
    upstream: {
      maxSockets: r.number('gateway.upstream.maxSockets', { min: 1 }),
      benchMillis: r.number('gateway.upstream.benchMillis', { min: 0 }),
    },
    accessLog: r.boolean('gateway.accessLog'),
    redis: readRedisSettings(r),
    rateLimiterTimeoutMs: r.number('gateway.rateLimiter.commandTimeoutMs', { min: 10, max: 5000 }),
    waitingRoomTimeoutMs: r.number('gateway.waitingRoom.commandTimeoutMs', { min: 10, max: 10_000 }),
    cors: {
      allowedOrigins: names('gateway.cors.allowedOrigins', ORIGIN),
      allowedMethods: names('gateway.cors.allowedMethods', /^[A-Z]+$/),
      allowedHeaders: names('gateway.cors.allowedHeaders', /^[\w-]+$/).map((h) => h.toLowerCase()),
      exposedHeaders: names('gateway.cors.exposedHeaders', /^[\w-]+$/),
      maxAgeSeconds: r.number('gateway.cors.maxAgeSeconds', { min: 0, max: 86_400 }),
    },
  });
  // With one key for both, a user's own token would pass where only the gateway's may.
  if (config.platform.internalToken.secret === config.jwt.secret) throw new Error('invalid configuration: internalToken.secret must differ from jwt.secret');
  return config;
}
