import path from 'node:path';
import { MYSQL_ENVIRONMENT, createTokenKey, openDatabase, runFromCommandLine, startService, type StartOptions, type ServiceConfigSource } from '@coupon-rush/platform';
import { parseConfig, type UserServiceConfig } from './config';
import { seedAdmin, type TokenSettings } from './domain/accounts';
import { userRoutes } from './routes/user-routes';

export const NAME = 'user-service';

/** How this service's configuration is made (also read by the compose test). */
export const CONFIG: ServiceConfigSource<UserServiceConfig> = { name: NAME, parseConfig, environment: { ...MYSQL_ENVIRONMENT, JWT_SECRET: 'jwt.secret', ADMIN_PASSWORD: 'admin.password' } };

export function start(opts: StartOptions = {}) {
  return startService<UserServiceConfig>(
    {
      ...CONFIG,
      async build(ctx) {
        const cfg = ctx.config();
        const db = await openDatabase(cfg.mysql, { directory: path.join(__dirname, 'data/migrations'), ledger: 'knex_migrations_user' });
        await seedAdmin(db, cfg.admin.email, cfg.admin.password, cfg.bcryptRounds);
        const tokenSettings = (c: UserServiceConfig): TokenSettings => ({ key: createTokenKey(c.jwt.secret), issuer: c.jwt.issuer, ttlSeconds: c.jwt.ttlSeconds });
        let tokens = tokenSettings(cfg);
        ctx.onRefresh((next) => {
          tokens = tokenSettings(next);
        });
        return {
          router: userRoutes(
            db,
            () => tokens,
            () => ctx.config().bcryptRounds,
          ),
          readiness: { mysql: () => db.raw('SELECT 1') },
          close: () => db.destroy(),
        };
      },
    },
    opts,
  );
}

if (require.main === module) runFromCommandLine(start);
