import {
  type ConfigReader,
  type KafkaSettings,
  type MysqlSettings,
  type PlatformSettings,
  type RedisSettings,
  readKafkaSettings,
  readMysqlSettings,
  readPlatformSettings,
  readRedisSettings,
} from '@coupon-rush/platform';
import type { LedgerRebuildSettings } from './domain/ledger-rebuild';
import type { StrandedClaimSettings } from './domain/stranded-claims';
import type { ExpirySettings } from './domain/expire-coupons';

export interface CouponServiceConfig {
  platform: PlatformSettings;
  mysql: MysqlSettings;
  redis: RedisSettings;
  kafka: KafkaSettings;
  consumer: { groupId: string; retries: number };
  writeBack: { intervalMs: number };
  expiry: ExpirySettings;
  strandedClaims: StrandedClaimSettings;
  ledgerRebuild: LedgerRebuildSettings;
  codes: { batchSize: number };
  archive: ArchiveSettings;
}

export interface ArchiveSettings {
  /** How long a soft-deleted campaign stays in the live tables before the archive job moves it. */
  olderThanHours: number;
  intervalMs: number;
  campaignsPerBatch: number;
  codesPerBatch: number;
}

export function parseConfig(r: ConfigReader): CouponServiceConfig {
  const kafka = readKafkaSettings(r);
  return r.done({
    platform: readPlatformSettings(r),
    mysql: readMysqlSettings(r),
    redis: readRedisSettings(r),
    kafka,
    consumer: {
      // Prefixed like the topics, so a test run's consumers never join npm start's group.
      groupId: kafka.topicPrefix + r.string('coupon.consumer.groupId'),
      retries: r.number('coupon.consumer.retries', { min: 0 }),
    },
    writeBack: { intervalMs: r.number('coupon.writeBack.intervalMs', { min: 50 }) },
    expiry: { intervalMs: r.number('coupon.expiry.intervalMs', { min: 100 }), batch: r.number('coupon.expiry.batch', { min: 1, max: 50_000 }) },
    strandedClaims: {
      intervalMs: r.number('coupon.strandedClaims.intervalMs', { min: 100 }),
      // Ten times the publisher's 3 s timeout: only a claim whose process is gone gets this old.
      staleAfterMs: r.number('coupon.strandedClaims.staleAfterMs', { min: 1000 }),
    },
    ledgerRebuild: {
      settleMs: r.number('coupon.ledgerRebuild.settleMs', { min: 0, max: 60_000 }),
      drainTimeoutMs: r.number('coupon.ledgerRebuild.drainTimeoutMs', { min: 1000 }),
    },
    // Rows per INSERT when generating codes: 3 placeholders each, far below MariaDB's 65,535.
    codes: { batchSize: r.number('coupon.codes.batchSize', { min: 1, max: 20_000 }) },
    archive: {
      olderThanHours: r.number('coupon.archive.olderThanHours', { min: 0 }),
      intervalMs: r.number('coupon.archive.intervalMs', { min: 1000 }),
      campaignsPerBatch: r.number('coupon.archive.campaignsPerBatch', { min: 1, max: 10_000 }),
      codesPerBatch: r.number('coupon.archive.codesPerBatch', { min: 1, max: 50_000 }),
    },
  });
}
