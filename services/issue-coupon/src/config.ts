import { type ConfigReader, type KafkaSettings, type PlatformSettings, type RedisSettings, readKafkaSettings, readPlatformSettings, readRedisSettings } from '@coupon-rush/platform';

export interface IssueCouponConfig {
  platform: PlatformSettings;
  redis: RedisSettings;
  kafka: KafkaSettings;
  couponService: string;
  cache: { localTtlMs: number; redisTtlSeconds: number };
  publisher: { maxBatch: number; lingerMs: number; timeoutMs: number };
}

export function parseConfig(r: ConfigReader): IssueCouponConfig {
  return r.done({
    platform: readPlatformSettings(r),
    redis: readRedisSettings(r),
    kafka: readKafkaSettings(r),
    couponService: r.string('issue.couponService', 'coupon-service'),
    cache: {
      localTtlMs: r.number('issue.cache.localTtlMs', 5000, { min: 0 }),
      redisTtlSeconds: r.number('issue.cache.redisTtlSeconds', 300, { min: 1 }),
    },
    publisher: {
      maxBatch: r.number('issue.publisher.maxBatch', 500, { min: 1, max: 10_000 }),
      lingerMs: r.number('issue.publisher.lingerMs', 0, { min: 0, max: 100 }),
      timeoutMs: r.number('issue.publisher.timeoutMs', 3000, { min: 100 }),
    },
  });
}
