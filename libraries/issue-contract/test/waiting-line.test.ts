import { expect } from 'chai';
import type Redis from 'ioredis';
import { connectRedis } from '@coupon-rush/platform';
import { RUN_ID, deleteRedisKeys, testRedisSettings } from '@coupon-rush/testkit';
import { QueuePasses, TurnBatches, WaitingLine, claimsKeyOf, ticketOf, type LineTerms } from '../src';

/**
 * The waiting line's turns as the gateway's door takes them: without the coupon's policy, under the
 * terms issue-coupon left in the room, in batches in arrival order. Against the real Redis master,
 * each case on a coupon of its own under this run's prefix.
 */
describe('the waiting line: batches of turns under the terms the room holds', () => {
  const prefix = `test:${RUN_ID}:line:`;
  let redis: Redis;
  let line: WaitingLine;
  let nextCoupon = 1;
  const terms = (over: Partial<LineTerms> = {}): LineTerms => ({
    issueStartAt: Date.now() - 1_000,
    issueEndAt: Date.now() + 60_000,
    totalQuantity: 1_000,
    perSecond: 1,
    autoStartPerSecond: 100,
    margin: 0,
    passTtlMs: 30_000,
    minPollMs: 1_000,
    maxPollMs: 15_000,
    ...over,
  });
  const users = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);

  before(() => {
    redis = connectRedis(testRedisSettings(prefix));
    line = new WaitingLine(redis, prefix);
  });

  after(async () => {
    await deleteRedisKeys(redis, `${prefix}*`);
    redis.disconnect();
  });

  it('when a room holds no terms, or they have lapsed, then a turn without terms changes nothing and says so', async () => {
    const coupon = nextCoupon++;
    expect(await line.turns(coupon, [1], true)).to.equal(undefined);
    expect(await redis.exists(`${prefix}coupon:{${coupon}}:queue:line`)).to.equal(0);

    await line.turn(coupon, 1, true, terms(), 300);
    const held = await line.turns(coupon, [2], true);
    expect(held!.turns[0]).to.include({ kind: 'WAITING', position: 2 });
    await new Promise((r) => setTimeout(r, 400));
    expect(await line.turns(coupon, [3], true)).to.equal(undefined);
    expect(await line.state(coupon)).to.include({ joined: 2 });
  });

  it('when a batch joins, then its users take their places in the order given, each answered, a second join keeping the place', async () => {
    const coupon = nextCoupon++;
    const start = Date.now() - 1_000;
    const first = await line.turn(coupon, 100, true, terms({ issueStartAt: start, minPollMs: 700, maxPollMs: 9_000 }), 10_000);
    expect(first).to.include({ kind: 'WAITING', position: 1 });

    const batch = [7, 3, 9, 1, 5];
    const answer = await line.turns(coupon, batch, true);
    expect(answer!.terms).to.deep.equal({ issueStartAt: start, minPollMs: 700, maxPollMs: 9_000 });
    expect(answer!.turns.map((t) => (t.kind === 'WAITING' ? t.position : t.kind))).to.deep.equal([2, 3, 4, 5, 6]);

    expect(answer!.turns[0]).to.include({ placesLeft: 1_000 });
    const again = await line.turns(coupon, [5, 7, 42], false);
    expect(again!.turns.map((t) => (t.kind === 'WAITING' ? t.position : t.kind))).to.deep.equal([6, 2, 'NOT_IN_QUEUE']);
    expect(await line.state(coupon)).to.include({ joined: 6 });
  });

  it('when the stock is claimed or a user is among the claimants, then the batch says so without joining anyone', async () => {
    const coupon = nextCoupon++;
    await line.turn(coupon, 1, true, terms({ totalQuantity: 2 }), 10_000);
    await redis.sadd(claimsKeyOf(prefix, coupon), 50);
    const one = await line.turns(coupon, [50, 51], true);
    expect(one!.turns.map((t) => t.kind)).to.deep.equal(['CLAIMED', 'WAITING']);
    await redis.sadd(claimsKeyOf(prefix, coupon), 60);
    const sold = await line.turns(coupon, [50, 52], true);
    expect(sold!.turns).to.deep.equal([{ kind: 'CLAIMED' }, { kind: 'SOLD_OUT', neverAdmitted: true }]);
    expect(await line.state(coupon)).to.include({ joined: 2 });
  });

  it('when the room is sold out or closed, then only a user it never let in is marked so (a holder check is due for the others)', async () => {
    const coupon = nextCoupon++;
    const closesAt = Date.now() + 1_500;
    // One admission a second: user 1 is let in at once, 2 waits, 3 never joins; 4 claims.
    const open = terms({ totalQuantity: 2, perSecond: 1, issueEndAt: closesAt });
    await line.turn(coupon, 1, true, open, 10_000);
    await redis.hset(`${prefix}coupon:{${coupon}}:queue:state`, 'clock', Date.now() - 1_000);
    expect((await line.turns(coupon, [1, 2], true))!.turns.map((t) => t.kind)).to.deep.equal(['ADMITTED', 'WAITING']);
    await redis.sadd(claimsKeyOf(prefix, coupon), 4, 5);
    const sold = await line.turns(coupon, [1, 2, 3, 4], false);
    expect(sold!.turns).to.deep.equal([{ kind: 'SOLD_OUT', neverAdmitted: false }, { kind: 'SOLD_OUT', neverAdmitted: true }, { kind: 'SOLD_OUT', neverAdmitted: true }, { kind: 'CLAIMED' }]);
    await redis.srem(claimsKeyOf(prefix, coupon), 5);
    await new Promise((r) => setTimeout(r, closesAt - Date.now() + 50));
    const closed = await line.turns(coupon, [1, 2, 3, 4], false);
    expect(closed!.turns).to.deep.equal([
      { kind: 'WINDOW_CLOSED', neverAdmitted: false },
      { kind: 'WINDOW_CLOSED', neverAdmitted: true },
      { kind: 'WINDOW_CLOSED', neverAdmitted: true },
      { kind: 'WINDOW_CLOSED', neverAdmitted: false },
    ]);
  });

  it('when hundreds take turns at once through the batches, then few script calls carry them and the line is their order of asking', async () => {
    const coupon = nextCoupon++;
    await line.turn(coupon, 1, true, terms(), 10_000);
    const batches = new TurnBatches(line, 64);
    let calls = 0;
    const counting = { turns: (...args: Parameters<WaitingLine['turns']>) => (calls++, line.turns(...args)) } as unknown as WaitingLine;
    const counted = new TurnBatches(counting, 64);
    const answers = await Promise.all(users(300, 1_000).map((u) => counted.take(coupon, u, true)));
    expect(answers.map((a) => (a!.turn.kind === 'WAITING' ? a!.turn.position : a!.turn.kind))).to.deep.equal(users(300, 2));
    expect(calls).to.equal(Math.ceil(300 / 64));
    // Joins and polls of the same moment go in separate calls, each in order.
    const mixed = await Promise.all([batches.take(coupon, 1_000, false), batches.take(coupon, 5_000, true), batches.take(coupon, 1_299, false)]);
    expect(mixed.map((a) => (a!.turn.kind === 'WAITING' ? a!.turn.position : a!.turn.kind))).to.deep.equal([2, 302, 301]);
  });

  it('when a user waits behind the places still to hand out, then the next poll is set for when they should be gone, not sooner', () => {
    const passes = new QueuePasses('a test secret');
    const answerTerms = { issueStartAt: 0, minPollMs: 1_000, maxPollMs: 60_000 };
    const waiting = (position: number, placesLeft: number | null) => ticketOf(1, 1, { kind: 'WAITING', position, waiting: 20_000, perSecond: 200, placesLeft }, answerTerms, passes);
    const pollOf = (t: ReturnType<typeof waiting>) => (t.status === 'WAITING' ? t.pollAfterMs : NaN);
    // Within the places: a quarter of the wait (4,000 / 200 / 4 = 5 s, ±10%).
    expect(pollOf(waiting(1_000, 2_000))).to.be.within(1_000, 1_375);
    expect(pollOf(waiting(4_000, 2_000))).to.be.within(9_000, 11_100);
    // Unlimited stock: the quarter-of-the-wait rule alone.
    expect(pollOf(waiting(4_000, null))).to.be.within(4_500, 5_500);
  });
});
