import { type ConfigReader, type MysqlSettings, type PlatformSettings, readMysqlSettings, readPlatformSettings } from '@coupon-rush/platform';

export interface CouponServiceConfig {
  platform: PlatformSettings;
  mysql: MysqlSettings;
}

export function parseConfig(r: ConfigReader): CouponServiceConfig {
  return r.done({ platform: readPlatformSettings(r), mysql: readMysqlSettings(r) });
}
