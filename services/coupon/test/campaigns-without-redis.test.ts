import { expect } from 'chai';
import knex from 'knex';
import type { RunningService } from '@coupon-rush/platform';
import { asUser, eventually, http, isolatedOverrides, RUN_ID } from '@coupon-rush/testkit';
import type { CouponServiceConfig } from '../src/config';
import { start as startCoupon } from '../src/main';

const DAY = 24 * 3600_000;

describe('a coupon-service instance without Redis, archiving every second', function () {
  this.timeout(60_000);
  let coupon: RunningService<CouponServiceConfig>;
  const ADMIN = asUser('coupon-service', 1, 'ADMIN');
  // Nothing listens on port 1; the instance keeps out of Consul and gets topics of its own.
  const overrides = isolatedOverrides({
    redis: { sentinels: ['127.0.0.1:1'] },
    kafka: { topicPrefix: `test-${RUN_ID}-no-redis.` },
    consul: { register: false },
    coupon: { archive: { intervalMs: 1000 } },
  });

  before(async () => {
    coupon = await startCoupon({ port: 0, configServerUrl: null, overrides });
  });

  after(async () => {
    await coupon?.stop();
  });

  it('when a deleted campaign is due, then the scheduled job archives it and counts it in its metrics', async () => {
    const campaign = await http('POST', `${coupon.url}/campaigns`, { headers: ADMIN, body: { name: `scheduled-${RUN_ID}` } });
    expect((await http('DELETE', `${coupon.url}/campaigns/${campaign.body.id}`, { headers: ADMIN })).status).to.equal(204);
    const m = coupon.config().mysql;
    const db = knex({ client: 'mysql2', connection: { host: m.host, port: m.port, user: m.user, password: m.password, database: m.database, timezone: 'Z' }, pool: { min: 0, max: 1 } });
    try {
      await db('campaigns')
        .where({ id: campaign.body.id })
        .update({ deleted_at: new Date(Date.now() - 721 * 3600_000) });
      await eventually(async () => Number((await db('campaigns_archive').where({ id: campaign.body.id }).count({ n: '*' }))[0].n) === 1, 10_000);
    } finally {
      await db.destroy();
    }
    const metrics = (await http('GET', `${coupon.url}/metrics`)).body as string;
    expect(metrics).to.match(/coupon_campaign_archive_runs_total\{trigger="schedule",outcome="ok"[^}]*\} [1-9]/);
    expect(metrics).to.match(/coupon_campaign_archived_rows_total\{table="campaigns"[^}]*\} 1\b/);
  });

  it('when Redis is unreachable, then the instance stays ready and codes are generated, listed and redeemed exactly once', async () => {
    expect((await http('GET', `${coupon.url}/health/ready`)).status).to.equal(200);
    const campaign = await http('POST', `${coupon.url}/campaigns`, { headers: ADMIN, body: { name: `no-redis-${RUN_ID}` } });
    expect(campaign.status, JSON.stringify(campaign.body)).to.equal(201);
    const generated = await http('POST', `${coupon.url}/campaigns/${campaign.body.id}/codes`, { headers: ADMIN, body: { count: 2, expiresAt: new Date(Date.now() + DAY).toISOString() } });
    expect(generated.status).to.equal(201);
    const [code] = (await http('GET', `${coupon.url}/codes?campaign=no-redis-${RUN_ID}`, { headers: ADMIN })).body.items.map((c: any) => c.code);
    const as = (userId: number) => asUser('coupon-service', userId);
    expect((await http('POST', `${coupon.url}/codes/${code}/redemptions`, { headers: as(7) })).status).to.equal(201);
    expect((await http('POST', `${coupon.url}/codes/${code}/redemptions`, { headers: as(8) })).body.code).to.equal('CODE_ALREADY_REDEEMED');
  });
});
