import { expect } from 'chai';
import { asUser, http, RUN_ID } from '@coupon-rush/testkit';
import { couponServiceWithOwnDatabase } from '../own-database';

const ADMIN = asUser('coupon-service', 1, 'ADMIN');
const DAY_MS = 86_400_000;

/**
 * A coupon's validity after issue (usableUntil, or usableDays after the issue) and the holder's
 * view of it, against the real MariaDB. Rows are inserted as the consumer inserts them, with the
 * issue time each case needs (a coupon issued ten days ago), so states come from time alone.
 */
describe('coupon-service: validity after issue and the holder’s coupons', function () {
  this.timeout(120_000);
  const own = couponServiceWithOwnDatabase('held');
  const now = () => Date.now();
  const window = () => ({ issueStartAt: new Date(now() - 60_000).toISOString(), issueEndAt: new Date(now() + 3_600_000).toISOString() });

  const create = (extra: Record<string, unknown>) =>
    http('POST', `${own.service().url}/coupons`, { headers: ADMIN, body: { title: `held ${RUN_ID}`, totalQuantity: 10, discountAmount: 1000, minOrderAmount: 5000, ...window(), ...extra } });
  const couponCount = async () => Number((await own.db()('coupons').count({ n: '*' }))[0].n);

  it('when a policy names both usableUntil and usableDays, a usableUntil not after the issue window, or usableDays outside 1–3650, then 400 and nothing is written', async () => {
    const before = await couponCount();
    const { issueEndAt } = window();
    const refused = [
      { usableUntil: new Date(now() + 10 * DAY_MS).toISOString(), usableDays: 7 },
      { usableUntil: issueEndAt },
      { usableUntil: 'next week' },
      { usableDays: 0 },
      { usableDays: 3651 },
      { usableDays: 1.5 },
      { usableDays: '7' },
    ];
    for (const extra of refused) {
      const res = await create(extra);
      expect([res.status, res.body.code], JSON.stringify(extra)).to.deep.equal([400, 'VALIDATION_FAILED']);
    }
    expect(await couponCount()).to.equal(before);
  });

  it('when a policy states its validity, then the coupon shows it; without one, both are null', async () => {
    const until = new Date(now() + 30 * DAY_MS).toISOString();
    const absolute = await create({ usableUntil: until });
    expect(absolute.status).to.equal(201);
    expect(absolute.body).to.include({ usableUntil: until, usableDays: null });
    const relative = await create({ usableDays: 7 });
    expect(relative.body).to.include({ usableUntil: null, usableDays: 7 });
    const open = await create({});
    expect(open.body).to.include({ usableUntil: null, usableDays: null });
    expect((await http('GET', `${own.service().url}/coupons/${relative.body.id}`)).body).to.include({ usableDays: 7 });
  });

  it('when a user holds coupons, then each shows its title, worth, minimum order, end of use and state: USABLE, EXPIRED once past its end (no job needed), USED once used', async () => {
    const user = 4_200_000 + Math.floor(Math.random() * 100_000);
    const relative = (await create({ usableDays: 7 })).body.id as number;
    const expiredByDays = (await create({ usableDays: 7 })).body.id as number;
    const absolute = (await create({ usableUntil: new Date(now() + 30 * DAY_MS).toISOString() })).body.id as number;
    const open = (await create({})).body.id as number;
    const used = (await create({ usableDays: 7 })).body.id as number;
    const issuedNow = new Date(now() - 1000);
    const tenDaysAgo = new Date(now() - 10 * DAY_MS);
    const row = (couponId: number, issuedAt: Date, usedAt: Date | null = null) => ({ coupon_id: couponId, user_id: user, event_id: `held-${couponId}-${user}`, issued_at: issuedAt, used_at: usedAt });
    await own
      .db()('issued_coupons')
      .insert([row(relative, issuedNow), row(expiredByDays, tenDaysAgo), row(absolute, issuedNow), row(open, issuedNow), row(used, tenDaysAgo, new Date(now() - 9 * DAY_MS))]);

    const res = await http('GET', `${own.service().url}/users/me/coupons`, { headers: asUser('coupon-service', user) });
    expect(res.status).to.equal(200);
    const byCoupon = new Map<number, Record<string, unknown>>(res.body.items.map((i: { couponId: number }) => [i.couponId, i]));
    expect(byCoupon.get(relative)).to.deep.include({
      title: `held ${RUN_ID}`,
      discountAmount: 1000,
      minOrderAmount: 5000,
      state: 'USABLE',
      usedAt: null,
      usableUntil: new Date(issuedNow.getTime() + 7 * DAY_MS).toISOString(),
    });
    expect(byCoupon.get(expiredByDays)).to.deep.include({ state: 'EXPIRED', usableUntil: new Date(tenDaysAgo.getTime() + 7 * DAY_MS).toISOString() });
    expect(byCoupon.get(absolute)).to.deep.include({ state: 'USABLE' });
    expect(byCoupon.get(open)).to.deep.include({ state: 'USABLE', usableUntil: null });
    // Used before its end: it stays USED, not EXPIRED, after the end has passed.
    expect(byCoupon.get(used)).to.deep.include({ state: 'USED' });
    expect(res.body.items.map((i: { couponId: number }) => i.couponId)).to.have.members([relative, expiredByDays, absolute, open, used]);
  });
});
