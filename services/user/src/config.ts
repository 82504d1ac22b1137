import { type ConfigReader, type MysqlSettings, type PlatformSettings, readMysqlSettings, readPlatformSettings } from '@coupon-rush/platform';

export interface UserServiceConfig {
  platform: PlatformSettings;
  mysql: MysqlSettings;
  jwt: { secret: string; issuer: string; ttlSeconds: number };
  admin: { email: string; password: string };
  bcryptRounds: number;
}

export function parseConfig(r: ConfigReader): UserServiceConfig {
  return r.done({
    platform: readPlatformSettings(r),
    mysql: readMysqlSettings(r),
    jwt: { secret: r.string('jwt.secret'), issuer: r.string('jwt.issuer'), ttlSeconds: r.number('jwt.ttlSeconds', { min: 60 }) },
    // config-repo's dev profile documents the local one; any other profile must bring ADMIN_PASSWORD.
    admin: { email: r.string('admin.email'), password: r.string('admin.password') },
    bcryptRounds: r.number('security.bcryptRounds', { min: 4, max: 15 }),
  });
}
