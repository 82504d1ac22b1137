import { expect } from 'chai';
import { asUser, eventually, http, metricTotal, RUN_ID } from '@coupon-rush/testkit';
import { couponServiceWithOwnDatabase } from '../own-database';

const ADMIN = asUser('coupon-service', 1, 'ADMIN');
const DAY_MS = 86_400_000;

/**
 * The expiry job of a coupon-service running every 300 ms, in batches of 2, against the real
 * MariaDB: it marks exactly the unused coupons past their end, counts them, and leaves the rest.
 */
describe('coupon-service: the expiry job', function () {
  this.timeout(120_000);
  const own = couponServiceWithOwnDatabase('expiry', { coupon: { expiry: { intervalMs: 300, batch: 2 } } });

  async function policy(extra: Record<string, unknown>): Promise<number> {
    const now = Date.now();
    const res = await http('POST', `${own.service().url}/coupons`, {
      headers: ADMIN,
      body: { title: `expiry ${RUN_ID}`, totalQuantity: null, discountAmount: 100, issueStartAt: new Date(now - 60_000).toISOString(), issueEndAt: new Date(now + 3_600_000).toISOString(), ...extra },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id as number;
  }

  it('when unused coupons pass their end of use, then the job marks them (all, in batches) and counts them; used, still valid and endless ones are left alone', async () => {
    const week = await policy({ usableDays: 7 });
    const endless = await policy({});
    const longAgo = new Date(Date.now() - 10 * DAY_MS);
    const recently = new Date(Date.now() - DAY_MS);
    const rows = [
      ...[1, 2, 3, 4, 5].map((u) => ({ coupon_id: week, user_id: u, issued_at: longAgo, used_at: null })),
      { coupon_id: week, user_id: 6, issued_at: longAgo, used_at: new Date(longAgo.getTime() + DAY_MS) },
      { coupon_id: week, user_id: 7, issued_at: recently, used_at: null },
      { coupon_id: endless, user_id: 8, issued_at: longAgo, used_at: null },
    ];
    await own
      .db()('issued_coupons')
      .insert(rows.map((r) => ({ ...r, event_id: `expiry-${r.coupon_id}-${r.user_id}` })));
    const marked = async () => (await own.db()('issued_coupons').whereNotNull('expired_at').pluck('user_id')).map(Number).sort();
    expect(await eventually(async () => (await marked()).length === 5 && (await marked()), 15_000, 200)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(await metricTotal(own.service().managementUrl, 'coupon_issued_expired_total')).to.equal(5);
    // What a holder sees did not wait for the job, and does not change with it.
    const seen = await http('GET', `${own.service().url}/users/me/coupons`, { headers: asUser('coupon-service', 7) });
    expect(seen.body.items[0]).to.include({ state: 'USABLE' });
  });
});
