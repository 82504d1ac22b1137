import { expect } from 'chai';
import { asUser, http, inParallel, RUN_ID, tally } from '@coupon-rush/testkit';
import { couponServiceWithOwnDatabase } from '../own-database';

const ADMIN = asUser('coupon-service', 1, 'ADMIN');
const DAY_MS = 86_400_000;

/**
 * Using a held coupon at checkout and giving it back with a cancelled order, against the real
 * MariaDB. Rows are inserted as the consumer inserts them, with the issue time each case needs.
 */
describe('coupon-service: using a held coupon for an order, and cancelling it', function () {
  this.timeout(120_000);
  const own = couponServiceWithOwnDatabase('use');
  let nextUser = 5_100_000;

  /** A coupon of 1,000 off orders from 5,000, held by a new user since `issuedAt`. */
  async function held(policy: Record<string, unknown> = {}, issuedAt = new Date()): Promise<{ couponId: number; user: number }> {
    const now = Date.now();
    const res = await http('POST', `${own.service().url}/coupons`, {
      headers: ADMIN,
      body: {
        title: `use ${RUN_ID}`,
        totalQuantity: null,
        discountAmount: 1000,
        minOrderAmount: 5000,
        issueStartAt: new Date(now - 60_000).toISOString(),
        issueEndAt: new Date(now + 3_600_000).toISOString(),
        ...policy,
      },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const user = nextUser++;
    await own
      .db()('issued_coupons')
      .insert({ coupon_id: res.body.id, user_id: user, event_id: `use-${res.body.id}-${user}`, issued_at: issuedAt });
    return { couponId: res.body.id, user };
  }
  const use = (c: { couponId: number; user: number }, body: unknown) =>
    http('POST', `${own.service().url}/users/me/coupons/${c.couponId}/redemptions`, { headers: asUser('coupon-service', c.user), body });
  const cancel = (c: { couponId: number; user: number }, orderId: string) =>
    http('DELETE', `${own.service().url}/users/me/coupons/${c.couponId}/redemptions/${orderId}`, { headers: asUser('coupon-service', c.user) });
  const row = async (c: { couponId: number; user: number }) => own.db()('issued_coupons').where({ coupon_id: c.couponId, user_id: c.user }).first();
  const stateOf = async (c: { couponId: number; user: number }) =>
    (await http('GET', `${own.service().url}/users/me/coupons`, { headers: asUser('coupon-service', c.user) })).body.items.find((i: { couponId: number }) => i.couponId === c.couponId);

  it('when a held coupon is used for an order, then 201 with the discount and the amount payable; the same order again gets the same answer; another order is refused', async () => {
    const c = await held();
    const first = await use(c, { orderId: 'order-1', orderAmount: 12_000 });
    expect(first.status).to.equal(201);
    expect(first.body).to.include({ couponId: c.couponId, orderId: 'order-1', orderAmount: 12_000, discountAmount: 1000, payableAmount: 11_000 });
    const retry = await use(c, { orderId: 'order-1', orderAmount: 12_000 });
    expect([retry.status, retry.body]).to.deep.equal([201, first.body]);
    const other = await use(c, { orderId: 'order-2', orderAmount: 12_000 });
    expect([other.status, other.body.code]).to.deep.equal([409, 'COUPON_ALREADY_USED']);
    expect(await stateOf(c)).to.include({ state: 'USED', orderId: 'order-1', usedAt: first.body.usedAt });
  });

  it('when the discount is worth more than the order, then the order is free, not negative', async () => {
    const c = await held({ minOrderAmount: 0 });
    const res = await use(c, { orderId: 'small', orderAmount: 400 });
    expect(res.body).to.include({ discountAmount: 400, payableAmount: 0 });
  });

  it('when the order is below the minimum, the coupon is past its end, or the user does not hold it, then 409 or 404 and the coupon stays unused', async () => {
    const below = await held();
    expect((await use(below, { orderId: 'o', orderAmount: 4999 })).body.code).to.equal('ORDER_BELOW_MINIMUM');
    const expired = await held({ usableDays: 7 }, new Date(Date.now() - 8 * DAY_MS));
    const late = await use(expired, { orderId: 'o', orderAmount: 9000 });
    expect([late.status, late.body.code]).to.deep.equal([409, 'COUPON_EXPIRED']);
    const notHeld = await use({ couponId: below.couponId, user: nextUser++ }, { orderId: 'o', orderAmount: 9000 });
    expect([notHeld.status, notHeld.body.code]).to.deep.equal([404, 'COUPON_NOT_HELD']);
    for (const c of [below, expired]) expect((await row(c)).used_at).to.equal(null);
  });

  it('when the body is bad, then 400 and nothing is written', async () => {
    const c = await held();
    for (const body of [
      {},
      { orderId: 'a b', orderAmount: 9000 },
      { orderId: 'x'.repeat(65), orderAmount: 9000 },
      { orderId: 'o', orderAmount: 0 },
      { orderId: 'o', orderAmount: 1.5 },
      { orderId: 'o', orderAmount: 9000, extra: 1 },
    ]) {
      const res = await use(c, body);
      expect([res.status, res.body.code], JSON.stringify(body)).to.deep.equal([400, 'VALIDATION_FAILED']);
    }
    expect((await row(c)).used_at).to.equal(null);
  });

  it('when 50 uses with different orders race for one coupon, then exactly one order wins and the other 49 are told COUPON_ALREADY_USED', async () => {
    const c = await held();
    const answers = await inParallel(50, 50, (i) => use(c, { orderId: `race-${i}`, orderAmount: 9000 }));
    expect(tally(answers.map((a) => (a.status === 201 ? 201 : a.body.code)))).to.deep.equal({ 201: 1, COUPON_ALREADY_USED: 49 });
    const winner = answers.find((a) => a.status === 201)!.body.orderId;
    expect((await row(c)).used_order_id).to.equal(winner);
  });

  it('when the order is cancelled, then the coupon is usable again (and another order may use it); a cancel for another order is refused; a repeated cancel changes nothing', async () => {
    const c = await held();
    await use(c, { orderId: 'first', orderAmount: 9000 });
    const foreign = await cancel(c, 'someone-else');
    expect([foreign.status, foreign.body.code]).to.deep.equal([409, 'COUPON_USED_BY_ANOTHER_ORDER']);
    expect((await cancel(c, 'first')).status).to.equal(204);
    expect(await stateOf(c)).to.include({ state: 'USABLE', orderId: null, usedAt: null });
    expect((await cancel(c, 'first')).status).to.equal(204);
    const again = await use(c, { orderId: 'second', orderAmount: 9000 });
    expect([again.status, again.body.orderId]).to.deep.equal([201, 'second']);
    const notHeld = await cancel({ couponId: c.couponId, user: nextUser++ }, 'first');
    expect([notHeld.status, notHeld.body.code]).to.deep.equal([404, 'COUPON_NOT_HELD']);
  });

  it('when a used coupon passes its end and its order is cancelled, then it comes back EXPIRED, not usable', async () => {
    const c = await held({ usableDays: 1 }, new Date(Date.now() - DAY_MS + 60_000));
    expect((await use(c, { orderId: 'o', orderAmount: 9000 })).status).to.equal(201);
    await own
      .db()('issued_coupons')
      .where({ coupon_id: c.couponId, user_id: c.user })
      .update({ issued_at: new Date(Date.now() - 2 * DAY_MS) });
    expect((await cancel(c, 'o')).status).to.equal(204);
    expect(await stateOf(c)).to.include({ state: 'EXPIRED' });
    expect((await use(c, { orderId: 'o2', orderAmount: 9000 })).body.code).to.equal('COUPON_EXPIRED');
  });
});
