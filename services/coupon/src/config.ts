import {
  type ConfigReader, type KafkaSettings, type MysqlSettings, type PlatformSettings, type RedisSettings,
  readKafkaSettings, readMysqlSettings, readPlatformSettings, readRedisSettings,
} from '@coupon-rush/platform';

export interface CouponServiceConfig {
  platform: PlatformSettings;
  mysql: MysqlSettings;
  redis: RedisSettings;
  kafka: KafkaSettings;
  consumer: { groupId: string; retries: number };
  writeBack: { intervalMs: number };
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
      groupId: kafka.topicPrefix + r.string('coupon.consumer.groupId', 'coupon-service'),
      retries: r.number('coupon.consumer.retries', 5, { min: 0 }),
    },
    writeBack: { intervalMs: r.number('coupon.writeBack.intervalMs', 1000, { min: 50 }) },
  });
}
