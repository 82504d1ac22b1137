import type { QueueSettings } from './domain/waiting-room';
import { type ConfigReader, type KafkaSettings, type PlatformSettings, type RedisSettings, readKafkaSettings, readPlatformSettings, readRedisSettings } from '@coupon-rush/platform';

export interface IssueCouponConfig {
  platform: PlatformSettings;
  redis: RedisSettings;
  kafka: KafkaSettings;
  couponService: string;
  cache: { localTtlMs: number; redisTtlSeconds: number };
  publisher: { maxBatch: number; lingerMs: number; timeoutMs: number };
  answer: { withinMs: number; claimTimeoutMs: number; releaseReserveMs: number };
  queue: QueueSettings;
  /** Where the automatic admission rate reads the issue route's latency: the gateway's histograms. */
  gateway: { service: string; issueRoute: string; scrapeTimeoutMs: number };
}

export function parseConfig(r: ConfigReader): IssueCouponConfig {
  return r.done({
    platform: readPlatformSettings(r),
    redis: readRedisSettings(r),
    kafka: readKafkaSettings(r),
    couponService: r.string('issue.couponService'),
    cache: {
      localTtlMs: r.number('issue.cache.localTtlMs', { min: 0 }),
      redisTtlSeconds: r.number('issue.cache.redisTtlSeconds', { min: 1 }),
    },
    publisher: {
      maxBatch: r.number('issue.publisher.maxBatch', { min: 1, max: 10_000 }),
      lingerMs: r.number('issue.publisher.lingerMs', { min: 0, max: 100 }),
      timeoutMs: r.number('issue.publisher.timeoutMs', { min: 100 }),
    },
    answer: {
      withinMs: r.number('issue.answer.withinMs', { min: 500, max: 60_000 }),
      claimTimeoutMs: r.number('issue.answer.claimTimeoutMs', { min: 50 }),
      releaseReserveMs: r.number('issue.answer.releaseReserveMs', { min: 100 }),
    },
    queue: {
      passTtlMs: r.number('issue.queue.passTtlMs', { min: 1000, max: 600_000 }),
      marginRatio: r.number('issue.queue.marginRatio', { min: 0, max: 1 }),
      minPollMs: r.number('issue.queue.minPollMs', { min: 100 }),
      maxPollMs: r.number('issue.queue.maxPollMs', { min: 100, max: 120_000 }),
      auto: {
        targetP99Ms: r.number('issue.queue.auto.targetP99Ms', { min: 1 }),
        startPerSecond: r.number('issue.queue.auto.startPerSecond', { min: 1 }),
        minPerSecond: r.number('issue.queue.auto.minPerSecond', { min: 1 }),
        maxPerSecond: r.number('issue.queue.auto.maxPerSecond', { min: 1 }),
        intervalMs: r.number('issue.queue.auto.intervalMs', { min: 200 }),
        windowSeconds: r.number('issue.queue.auto.windowSeconds', { min: 1, max: 300 }),
      },
    },
    gateway: { service: r.string('issue.gateway.service'), issueRoute: r.string('issue.gateway.issueRoute'), scrapeTimeoutMs: r.number('issue.gateway.scrapeTimeoutMs', { min: 50 }) },
  });
}
