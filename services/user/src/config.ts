import { type ConfigReader, type MysqlSettings, type PlatformSettings, readMysqlSettings, readPlatformSettings } from '@coupon-rush/platform';

export interface UserServiceConfig {
  platform: PlatformSettings;
  mysql: MysqlSettings;
  jwt: { secret: string; issuer: string; ttlSeconds: number };
  admin: { email: string; password: string };
  bcryptRounds: number;
}

/** The documented local admin password; any other profile must bring ADMIN_PASSWORD. */
const DEV_ADMIN_PASSWORD = 'admin1234!';

export function parseConfig(r: ConfigReader): UserServiceConfig {
  const dev = r.string('app.profile') === 'dev';
  return r.done({
    platform: readPlatformSettings(r),
    mysql: readMysqlSettings(r),
    jwt: { secret: r.string('jwt.secret'), issuer: r.string('jwt.issuer'), ttlSeconds: r.number('jwt.ttlSeconds', 1800, { min: 60 }) },
    admin: { email: r.string('admin.email'), password: dev ? r.optionalString('admin.password') ?? DEV_ADMIN_PASSWORD : r.string('admin.password') },
    bcryptRounds: r.number('security.bcryptRounds', 10, { min: 4, max: 15 }),
  });
}
