import path from 'node:path';
import { MYSQL_ENVIRONMENT, openDatabase, runFromCommandLine, startService, type StartOptions } from '@coupon-rush/platform';
import { parseConfig, type CouponServiceConfig } from './config';
import { couponRoutes } from './routes/coupon-routes';

export const NAME = 'coupon-service';

export function start(opts: StartOptions = {}) {
  return startService<CouponServiceConfig>(
    {
      name: NAME,
      rootDir: path.resolve(__dirname, '../..'),
      parseConfig,
      environment: MYSQL_ENVIRONMENT,
      async build(ctx) {
        const db = await openDatabase(ctx.config().mysql, { directory: path.join(__dirname, 'data/migrations'), ledger: 'knex_migrations_coupon' });
        return {
          router: couponRoutes(db),
          readiness: { mysql: () => db.raw('SELECT 1') },
          close: () => db.destroy(),
        };
      },
    },
    opts,
  );
}

if (require.main === module) runFromCommandLine(start);
