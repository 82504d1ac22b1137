import { type ConfigReader, type MysqlSettings, type PlatformSettings, type RedisSettings, readMysqlSettings, readPlatformSettings, readRedisSettings } from '@coupon-rush/platform';

export interface ConsoleConfig {
  platform: PlatformSettings;
  mysql: MysqlSettings;
  redis: RedisSettings;
  live: LiveSettings;
}

export interface LiveSettings {
  /** One sample of the platform per tick, shared by every open page. */
  tickMs: number;
  /** The gateway's p50/p99 are over this many seconds of requests. */
  latencyWindowSeconds: number;
  /** The gateway route whose latency the live view shows. */
  latencyRoute: string;
  /** A scrape of one instance's /metrics slower than this counts as unreadable for that tick. */
  scrapeTimeoutMs: number;
  /** Distinct coupons watched at once, and open streams in all: the bounds on a tick's work. */
  maxWatchedCoupons: number;
  maxStreams: number;
  /** While a coupon's claims and rows agree in count, its users are compared again this often. */
  memberCheckMs: number;
  /** A watched coupon's uses are counted (by coupon-service) this often. */
  usageCheckMs: number;
  /** The Consul services whose instances the view counts (and whose metrics it reads). */
  services: { gateway: string; issue: string; coupon: string; others: string[] };
}

const serviceName = (v: unknown) => (typeof v === 'string' && /^[a-z][a-z0-9-]*$/.test(v) ? v : undefined);

export function parseConfig(r: ConfigReader): ConsoleConfig {
  return r.done({
    platform: readPlatformSettings(r),
    mysql: readMysqlSettings(r),
    redis: readRedisSettings(r),
    live: {
      tickMs: r.number('console.live.tickMs', { min: 100, max: 10_000 }),
      latencyWindowSeconds: r.number('console.live.latencyWindowSeconds', { min: 1, max: 300 }),
      latencyRoute: r.string('console.live.latencyRoute'),
      scrapeTimeoutMs: r.number('console.live.scrapeTimeoutMs', { min: 50 }),
      maxWatchedCoupons: r.number('console.live.maxWatchedCoupons', { min: 1 }),
      maxStreams: r.number('console.live.maxStreams', { min: 1 }),
      memberCheckMs: r.number('console.live.memberCheckMs', { min: 100 }),
      usageCheckMs: r.number('console.live.usageCheckMs', { min: 100 }),
      services: {
        gateway: r.string('console.services.gateway'),
        issue: r.string('console.services.issue'),
        coupon: r.string('console.services.coupon'),
        others: r.list('console.services.others', serviceName),
      },
    },
  });
}
