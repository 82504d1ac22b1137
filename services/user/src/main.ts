import crypto from 'node:crypto';
import path from 'node:path';
import { hash } from '@node-rs/bcrypt';
import {
  MYSQL_ENVIRONMENT,
  REDIS_ENVIRONMENT,
  connectRedis,
  firstConnection,
  createTokenKey,
  failFastRedisOptions,
  openDatabase,
  runFromCommandLine,
  startService,
  type StartOptions,
  type ServiceConfigSource,
} from '@coupon-rush/platform';
import { parseConfig, type UserServiceConfig } from './config';
import { LoginFailures } from './data/login-failures';
import { seedAdmin, type LoginGuard, type TokenSettings } from './domain/accounts';
import { userRoutes } from './routes/user-routes';

export const NAME = 'user-service';

/** How this service's configuration is made (also read by the compose test). */
export const CONFIG: ServiceConfigSource<UserServiceConfig> = {
  name: NAME,
  parseConfig,
  environment: { ...MYSQL_ENVIRONMENT, ...REDIS_ENVIRONMENT, JWT_SECRET: 'jwt.secret', ADMIN_PASSWORD: 'admin.password' },
};

export function start(opts: StartOptions = {}) {
  return startService<UserServiceConfig>(
    {
      ...CONFIG,
      async build(ctx) {
        const cfg = ctx.config();
        const db = await openDatabase(cfg.mysql, { directory: path.join(__dirname, 'data/migrations'), ledger: 'knex_migrations_user' });
        await seedAdmin(db, cfg.admin.email, cfg.admin.password, cfg.bcryptRounds);
        // Fails fast rather than queueing: a login waits on Redis at most commandTimeoutMs.
        const redis = connectRedis(cfg.redis, failFastRedisOptions(cfg.lockout.commandTimeoutMs));
        redis.on('error', () => {});
        await firstConnection(redis);
        const failures = new LoginFailures(redis, `${cfg.redis.keyPrefix}login:`);
        const guardOf = async (c: UserServiceConfig): Promise<LoginGuard> => ({
          failures,
          policy: c.lockout,
          dummyHash: await hash(crypto.randomBytes(18).toString('base64'), { cost: c.bcryptRounds }),
        });
        let guard = await guardOf(cfg);
        const tokenSettings = (c: UserServiceConfig): TokenSettings => ({ key: createTokenKey(c.jwt.secret), issuer: c.jwt.issuer, ttlSeconds: c.jwt.ttlSeconds });
        let tokens = tokenSettings(cfg);
        ctx.onRefresh(async (next) => {
          tokens = tokenSettings(next);
          guard = await guardOf(next);
        });
        return {
          router: userRoutes(
            db,
            () => tokens,
            () => ctx.config().bcryptRounds,
            () => guard,
          ),
          readiness: { mysql: () => db.raw('SELECT 1') },
          // Sign-ups and /me work without it; logins answer 503 until it is back.
          reported: { redis: () => redis.ping() },
          close: async () => {
            redis.disconnect();
            await db.destroy();
          },
        };
      },
    },
    opts,
  );
}

if (require.main === module) runFromCommandLine(start);
