import { type ConfigReader, type MysqlSettings, type PlatformSettings, type RedisSettings, readMysqlSettings, readPlatformSettings, readRedisSettings } from '@coupon-rush/platform';
import type { LockoutPolicy } from './data/login-failures';

export interface UserServiceConfig {
  platform: PlatformSettings;
  mysql: MysqlSettings;
  jwt: { secret: string; issuer: string; ttlSeconds: number };
  admin: { email: string; password: string };
  bcryptRounds: number;
  redis: RedisSettings;
  lockout: LockoutPolicy & { commandTimeoutMs: number };
}

export function parseConfig(r: ConfigReader): UserServiceConfig {
  return r.done({
    platform: readPlatformSettings(r),
    mysql: readMysqlSettings(r),
    jwt: { secret: r.string('jwt.secret'), issuer: r.string('jwt.issuer'), ttlSeconds: r.number('jwt.ttlSeconds', { min: 60 }) },
    // config-repo's dev profile documents the local one; any other profile must bring ADMIN_PASSWORD.
    admin: { email: r.string('admin.email'), password: r.string('admin.password') },
    bcryptRounds: r.number('security.bcryptRounds', { min: 4, max: 15 }),
    redis: readRedisSettings(r),
    lockout: {
      maxFailures: r.number('security.loginLockout.maxFailures', { min: 1 }),
      failureWindowMs: r.number('security.loginLockout.failureWindowSeconds', { min: 1 }) * 1000,
      lockWaitsMs: r.list('security.loginLockout.lockWaitSeconds', (v) => (typeof v === 'number' && v > 0 ? v * 1000 : undefined)).map((ms) => Math.round(ms)),
      lockMemoryMs: r.number('security.loginLockout.lockMemorySeconds', { min: 1 }) * 1000,
      commandTimeoutMs: r.number('security.loginLockout.commandTimeoutMs', { min: 10, max: 5000 }),
    },
  });
}
