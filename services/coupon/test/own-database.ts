import knex, { type Knex } from 'knex';
import type { RunningService } from '@coupon-rush/platform';
import { isolatedOverrides, RUN_ID } from '@coupon-rush/testkit';
import type { CouponServiceConfig } from '../src/config';
import { start as startCoupon } from '../src/main';

/**
 * A coupon-service on port 0 with a database (and topics) of its own for one test file, and a
 * connection to that database so the file can insert rows as the consumer does. The hooks are
 * registered by the call: before starts both, after stops the service and drops the database.
 */
export function couponServiceWithOwnDatabase(name: string, extra: Record<string, unknown> = {}): { service(): RunningService<CouponServiceConfig>; db(): Knex } {
  const overrides = isolatedOverrides({ mysql: { database: `coupon_rush_test_${RUN_ID}_${name}` }, kafka: { topicPrefix: `test-${RUN_ID}-${name}.` }, ...extra });
  let service: RunningService<CouponServiceConfig>;
  let db: Knex;
  before(async () => {
    service = (await startCoupon({ port: 0, configServerUrl: null, overrides })) as RunningService<CouponServiceConfig>;
    const m = service.config().mysql;
    db = knex({ client: 'mysql2', connection: { host: m.host, port: m.port, user: m.user, password: m.password, database: m.database, timezone: 'Z' }, pool: { min: 0, max: 2 } });
  });
  after(async () => {
    await service?.stop();
    if (db) {
      await db.raw(`DROP DATABASE \`${service.config().mysql.database}\``).catch(() => {});
      await db.destroy();
    }
  });
  return { service: () => service, db: () => db };
}
