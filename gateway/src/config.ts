import { type ConfigReader, type PlatformSettings, readPlatformSettings } from '@coupon-rush/platform';

export interface RouteDefinition {
  id: string;
  /** Path prefix; a `*` segment matches exactly one path segment. */
  path: string;
  methods?: string[];
  service: string;
  public: boolean;
  stripPrefix: number;
  timeoutMs: number;
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
}

/** What the gateway answers itself, before any route: a route may not take it over. */
const GATEWAY_OWN = /^\/(health|metrics|refresh)(\/|$)/;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * One route, every field given and checked (config-repo/gateway.yml holds each in full): a route
 * that would match nothing, strip a fraction of a segment or time out after NaN ms is refused with
 * its reason, and the service does not start (or a refresh keeps the table it had).
 */
function readRoute(v: unknown): RouteDefinition {
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
  return { id: r.id, path: r.path.replace(/\/$/, ''), methods, service: r.service, public: r.public, stripPrefix: r.stripPrefix as number, timeoutMs: r.timeoutMs as number };
}

function uniqueIds(routes: RouteDefinition[]): RouteDefinition[] {
  const seen = new Set<string>();
  for (const route of routes) {
    if (seen.has(route.id)) throw new Error(`invalid configuration: gateway.routes: the id ${route.id} is used twice`);
    seen.add(route.id);
  }
  return routes;
}

export function parseConfig(r: ConfigReader): GatewayConfig {
  return r.done({
    platform: readPlatformSettings(r),
    routes: uniqueIds(r.list('gateway.routes', readRoute)),
    jwt: { secret: r.string('jwt.secret'), issuer: r.string('jwt.issuer') },
    traceTrust: { header: r.optionalString('gateway.traceTrust.header')?.toLowerCase(), value: r.optionalString('gateway.traceTrust.value') },
    upstream: {
      maxSockets: r.number('gateway.upstream.maxSockets', { min: 1 }),
      benchMillis: r.number('gateway.upstream.benchMillis', { min: 0 }),
    },
    accessLog: r.boolean('gateway.accessLog'),
  });
}
