import path from 'node:path';
import { Counter, Gauge, Histogram } from 'prom-client';
import {
  MYSQL_ENVIRONMENT,
  REDIS_ENVIRONMENT,
  ServiceDirectory,
  connectDatabase,
  connectRedis,
  runFromCommandLine,
  startService,
  type StartOptions,
  type ServiceConfigSource,
} from '@coupon-rush/platform';
import { ClaimLedger, WaitingLine } from '@coupon-rush/issue-contract';
import { parseConfig, type ConsoleConfig } from './config';
import { fetchUsage } from './data/coupon-usage';
import { LiveConsole } from './domain/live-console';
import { PlatformPulse } from './domain/platform-pulse';
import { consoleRoutes } from './routes/console-routes';

export const NAME = 'console-service';

/** How this service's configuration is made (also read by the compose test). */
export const CONFIG: ServiceConfigSource<ConsoleConfig> = { name: NAME, parseConfig, environment: { ...MYSQL_ENVIRONMENT, ...REDIS_ENVIRONMENT } };

/** Where `npm run build` writes the bundled page (services/console/page/build.mjs). */
export const PAGE_DIR = path.resolve(__dirname, '../page');

export function start(opts: StartOptions = {}) {
  return startService<ConsoleConfig>(
    {
      ...CONFIG,
      async build(ctx) {
        const cfg = ctx.config();
        const db = connectDatabase(cfg.mysql);
        const redis = connectRedis(cfg.redis);
        const ledger = new ClaimLedger(redis, cfg.redis.keyPrefix);
        const suffix = cfg.platform.consul.serviceSuffix;
        const directory = new ServiceDirectory(cfg.platform.consul, ctx.logger);
        const { services } = cfg.live;
        await Promise.all([services.gateway, services.issue, services.coupon, ...services.others].map((s) => directory.watch(s + suffix)));
        // The console's own cost, per tick and not per page: what the bound on its work is checked by.
        const ticks = new Histogram({
          name: 'console_tick_seconds',
          help: 'Time to sample the platform and the watched coupons once',
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
          registers: [ctx.metrics],
        });
        const watchedCoupons = new Gauge({ name: 'console_watched_coupons', help: 'Coupons whose live view is open', registers: [ctx.metrics] });
        const openStreams = new Gauge({ name: 'console_open_streams', help: 'Live views (event streams) open', registers: [ctx.metrics] });
        const scrapes = new Counter({ name: 'console_instance_scrapes_total', help: "Services' /metrics read by the live view", registers: [ctx.metrics] });
        const pulse = new PlatformPulse(
          directory,
          () => ctx.config().live,
          suffix,
          (n) => scrapes.inc(n),
        );
        const meters = {
          tick: (seconds: number) => ticks.observe(seconds),
          streams: (open: number, coupons: number) => {
            openStreams.set(open);
            watchedCoupons.set(coupons);
          },
        };
        const countUsage = (couponId: number) => fetchUsage(directory, services.coupon + suffix, ctx.serviceCredential(services.coupon), couponId, ctx.config().live.scrapeTimeoutMs);
        const live = new LiveConsole(db, ledger, pulse, () => ctx.config().live, ctx.logger, meters, countUsage, new WaitingLine(redis, cfg.redis.keyPrefix));
        return {
          router: consoleRoutes(live, PAGE_DIR),
          readiness: { mysql: () => db.raw('select 1'), redis: () => redis.ping() },
          async close() {
            live.stop();
            directory.stop();
            redis.disconnect();
            await db.destroy();
          },
        };
      },
    },
    opts,
  );
}

if (require.main === module) runFromCommandLine(start);
