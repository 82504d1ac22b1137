import path from 'node:path';
import { Router } from 'express';
import { connectRedis, kafkaClient, runFromCommandLine, startService, type StartOptions } from '@coupon-rush/platform';
import { parseConfig, type IssueCouponConfig } from './config';

export const NAME = 'issue-coupon-service';

export function start(opts: StartOptions = {}) {
  return startService<IssueCouponConfig>(
    {
      name: NAME,
      rootDir: path.resolve(__dirname, '../..'),
      parseConfig,
      async build(ctx) {
        const cfg = ctx.config();
        const redis = connectRedis(cfg.redis);
        const producer = kafkaClient(cfg.kafka, NAME).producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        return {
          router: Router(),
          readiness: { redis: () => redis.ping() },
          close: async () => {
            await producer.disconnect();
            redis.disconnect();
          },
        };
      },
    },
    opts,
  );
}

if (require.main === module) runFromCommandLine(start);
