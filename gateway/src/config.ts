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

function readRoute(v: unknown): RouteDefinition | undefined {
  const r = v as Record<string, unknown>;
  if (!r || typeof r.id !== 'string' || typeof r.path !== 'string' || !r.path.startsWith('/') || typeof r.service !== 'string') return undefined;
  const methods = r.methods === undefined ? undefined : Array.isArray(r.methods) ? r.methods.map((m) => String(m).toUpperCase()) : undefined;
  return {
    id: r.id,
    path: r.path.replace(/\/$/, ''),
    methods,
    service: r.service,
    public: r.public === true || r.public === 'true',
    stripPrefix: Number(r.stripPrefix ?? 0),
    timeoutMs: Number(r.timeoutMs ?? 5000),
  };
}

export function parseConfig(r: ConfigReader): GatewayConfig {
  return r.done({
    platform: readPlatformSettings(r),
    routes: r.list('gateway.routes', readRoute),
    jwt: { secret: r.string('jwt.secret'), issuer: r.string('jwt.issuer') },
    traceTrust: { header: r.optionalString('gateway.traceTrust.header')?.toLowerCase(), value: r.optionalString('gateway.traceTrust.value') },
    upstream: {
      maxSockets: r.number('gateway.upstream.maxSockets', 256, { min: 1 }),
      benchMillis: r.number('gateway.upstream.benchMillis', 5000, { min: 0 }),
    },
    accessLog: r.boolean('gateway.accessLog', true),
  });
}
