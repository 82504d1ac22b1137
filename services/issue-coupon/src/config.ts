import { type ConfigReader, type KafkaSettings, type PlatformSettings, type RedisSettings, readKafkaSettings, readPlatformSettings, readRedisSettings } from '@coupon-rush/platform';

export interface IssueCouponConfig {
  platform: PlatformSettings;
  redis: RedisSettings;
  kafka: KafkaSettings;
}

export function parseConfig(r: ConfigReader): IssueCouponConfig {
  return r.done({ platform: readPlatformSettings(r), redis: readRedisSettings(r), kafka: readKafkaSettings(r) });
}
