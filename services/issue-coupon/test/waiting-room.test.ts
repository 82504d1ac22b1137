import { expect } from 'chai';
import { connectRedis, type RunningService } from '@coupon-rush/platform';
import { ClaimLedger } from '@coupon-rush/issue-contract';
import { asUser, deleteRedisKeys, eventually, http, isolatedOverrides, RUN_ID } from '@coupon-rush/testkit';
import type { IssueCouponConfig } from '../src/config';
import { start as startIssue } from '../src/main';

const as = (userId: number) => asUser('issue-coupon-service', userId);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The waiting room of queued coupons against the real Redis, with two issue-coupon instances
 * sharing it (policies put in the Redis cache as the coupon service would have them loaded).
 */
describe('issue-coupon: the waiting room of queued coupons', function () {
  this.timeout(120_000);
  const overrides = isolatedOverrides({
    kafka: { topicPrefix: `test-${RUN_ID}-room.` },
    redis: { keyPrefix: `test:${RUN_ID}:room:` },
    issue: { queue: { passTtlMs: 2000, minPollMs: 100, marginRatio: 0.1 } },
  });
  const instances: Array<RunningService<IssueCouponConfig>> = [];
  let redis: ReturnType<typeof connectRedis>;
  let ledger: ClaimLedger;
  let nextCoupon = 991_000;

  before(async () => {
    instances.push((await startIssue({ port: 0, configServerUrl: null, overrides })) as RunningService<IssueCouponConfig>);
    instances.push((await startIssue({ port: 0, configServerUrl: null, overrides })) as RunningService<IssueCouponConfig>);
    const settings = instances[0].config().redis;
    redis = connectRedis(settings);
    ledger = new ClaimLedger(redis, settings.keyPrefix, { replicas: settings.durableReplicas, timeoutMs: settings.replicaAckTimeoutMs });
  });
  after(async () => {
    await deleteRedisKeys(redis, `${instances[0].config().redis.keyPrefix}*`);
    redis.disconnect();
    for (const i of instances) await i.stop();
  });

  /** A coupon as the issue path finds it: its policy cached in Redis, its claim sets open. */
  async function coupon(terms: { totalQuantity: number | null; perSecond: number | null; startsInMs?: number; endsInMs?: number }): Promise<number> {
    const id = nextCoupon++;
    const now = Date.now();
    const policy = { id, totalQuantity: terms.totalQuantity, issueStartAt: now + (terms.startsInMs ?? -60_000), issueEndAt: now + (terms.endsInMs ?? 3_600_000), admissionPerSecond: terms.perSecond };
    await redis.set(`${instances[0].config().redis.keyPrefix}coupon:{${id}}:policy`, JSON.stringify(policy), 'EX', 300);
    await ledger.open(id);
    return id;
  }
  const on = (user: number) => instances[user % 2].url;
  const join = (id: number, user: number) => http('POST', `${on(user)}/coupons/${id}/queue`, { headers: as(user) });
  const poll = (id: number, user: number) => http('GET', `${on(user)}/coupons/${id}/queue`, { headers: as(user) });
  const claim = (id: number, user: number, pass?: string) => http('POST', `${on(user + 1)}/coupons/${id}/issues`, { headers: { ...as(user), ...(pass ? { 'x-queue-pass': pass } : {}) } });

  it('when a direct coupon is asked for its queue, or a queued one claimed without a pass, then QUEUE_NOT_USED and QUEUE_REQUIRED, and nothing is claimed', async () => {
    const direct = await coupon({ totalQuantity: 5, perSecond: null });
    const refused = await join(direct, 1);
    expect([refused.status, refused.body.code]).to.deep.equal([409, 'QUEUE_NOT_USED']);
    const queued = await coupon({ totalQuantity: 5, perSecond: 10 });
    const noPass = await claim(queued, 1);
    expect([noPass.status, noPass.body.code]).to.deep.equal([409, 'QUEUE_REQUIRED']);
    const never = await poll(queued, 2);
    expect([never.status, never.body.code]).to.deep.equal([404, 'NOT_IN_QUEUE']);
    expect((await ledger.counts(queued)).claims).to.equal(0);
  });

  it('when 30 users join one after another, then they are admitted in join order at the rate by both instances together, the stock is claimed with the passes, and the rest hear SOLD_OUT at their next poll', async () => {
    const id = await coupon({ totalQuantity: 10, perSecond: 20 });
    const users = Array.from({ length: 30 }, (_, i) => 10_000 + i);
    const joined = [];
    for (const u of users) joined.push((await join(id, u)).body);
    expect(joined.map((t) => t.status === 'WAITING' || t.status === 'ADMITTED')).to.not.include(false);
    // Joining twice keeps the place.
    const again = await join(id, users[29]);
    if (again.body.status === 'WAITING') expect(again.body.position).to.be.at.most(30);
    // Admission is a prefix of the join order at every moment: poll everyone, in a random order.
    const admittedAt = new Map<number, string>();
    const started = Date.now();
    while (admittedAt.size < 11 && Date.now() - started < 10_000) {
      for (const u of [...users].sort(() => Math.random() - 0.5)) {
        if (admittedAt.has(u)) continue;
        const t = (await poll(id, u)).body;
        if (t.status === 'ADMITTED') admittedAt.set(u, t.pass);
      }
      // Whoever was seen admitted, everyone who joined before them is admitted too (asked after).
      const last = Math.max(-1, ...users.map((u, i) => (admittedAt.has(u) ? i : -1)));
      for (const u of users.slice(0, last + 1).filter((v) => !admittedAt.has(v))) {
        const t = (await poll(id, u)).body;
        expect(t.status, `user ${u} joined before an admitted user`).to.equal('ADMITTED');
        admittedAt.set(u, t.pass);
      }
      await sleep(50);
    }
    // Ten coupons and a margin of one: eleven passes, no more, while none is used.
    expect(admittedAt.size).to.equal(11);
    await sleep(300);
    for (const u of users.slice(11)) expect((await poll(id, u)).body.status).to.equal('WAITING');
    const claims = await Promise.all(users.slice(0, 11).map((u) => claim(id, u, admittedAt.get(u))));
    expect(claims.filter((c) => c.status === 202)).to.have.length(10);
    expect(claims.filter((c) => c.body.code === 'SOLD_OUT')).to.have.length(1);
    expect((await ledger.counts(id)).claims).to.equal(10);
    for (const u of users.slice(11)) expect((await poll(id, u)).body.code).to.equal('SOLD_OUT');
    // A holder asking the room is told ALREADY_ISSUED, not SOLD_OUT.
    const winner = users.find((u, i) => claims[i]?.status === 202)!;
    expect((await poll(id, winner)).body.code).to.equal('ALREADY_ISSUED');
  });

  it("when a pass is forged, someone else's, expired or lapsed and replaced, then 403 QUEUE_PASS_INVALID and nothing is claimed; a lapsed pass's slot goes to the next in line", async () => {
    const id = await coupon({ totalQuantity: 1, perSecond: 50 });
    const [a, b, c] = [20_001, 20_002, 20_003];
    for (const u of [a, b, c]) await join(id, u);
    const passOf = (u: number) => eventually(async () => ((await poll(id, u)).body.status === 'ADMITTED' ? (await poll(id, u)).body.pass : undefined), 5000, 50);
    // Quantity one and a margin of one: a and b admitted, c waits.
    const [passA, passB] = [await passOf(a), await passOf(b)];
    expect((await poll(id, c)).body.status).to.equal('WAITING');
    const forged = passA.replace(/.$/, (ch: string) => (ch === 'A' ? 'B' : 'A'));
    for (const [user, pass] of [
      [a, forged],
      [b, passA],
      [a, `${id}.${a}.${Date.now() + 60_000}.${'x'.repeat(43)}`],
    ] as Array<[number, string]>) {
      const refused = await claim(id, user, pass);
      expect([refused.status, refused.body.code], pass).to.deep.equal([403, 'QUEUE_PASS_INVALID']);
    }
    expect((await ledger.counts(id)).claims).to.equal(0);
    // Nobody claims: the passes lapse, and c is admitted in their place.
    await sleep(2200);
    expect((await claim(id, b, passB)).body.code).to.equal('QUEUE_PASS_INVALID');
    expect((await poll(id, a)).body.status).to.equal('EXPIRED');
    await passOf(c);
    // Joining again goes to the back; a new pass, and the lapsed one stays refused.
    const back = await join(id, a);
    expect(['WAITING', 'ADMITTED']).to.include(back.body.status);
    expect((await claim(id, a, passA)).body.code).to.equal('QUEUE_PASS_INVALID');
    expect((await ledger.counts(id)).claims).to.equal(0);
  });

  it('when users join before the window opens, then they wait in a pre-queue drawn in random order at the start, ahead of those who come after it', async () => {
    const id = await coupon({ totalQuantity: null, perSecond: 1, startsInMs: 1500 });
    const early = Array.from({ length: 40 }, (_, i) => 30_000 + i);
    for (const u of early) {
      const t = (await join(id, u)).body;
      expect(t).to.include({ status: 'WAITING', phase: 'PRE_QUEUE', position: null });
    }
    await sleep(1600);
    const late = 30_100;
    const lateTicket = (await join(id, late)).body;
    const tickets = [];
    for (const u of early) tickets.push((await poll(id, u)).body);
    // At 1 a second the draw's first one or two are admitted; the others wait, each at its own place, all ahead of the late joiner.
    const waiting = tickets.filter((t) => t.status === 'WAITING').map((t) => t.position as number);
    expect(tickets.filter((t) => t.status === 'ADMITTED').length + waiting.length).to.equal(40);
    expect(waiting.length).to.be.at.least(35);
    expect(Math.max(...waiting)).to.be.below(lateTicket.position);
    expect(new Set(waiting).size).to.equal(waiting.length);
    // Drawn, not in join order (40 in join order by chance: 1 in 40!).
    expect(waiting).to.not.deep.equal([...waiting].sort((x, y) => x - y));
  });

  it('when the window closes while users wait, then their next poll is ISSUE_WINDOW_CLOSED', async () => {
    const id = await coupon({ totalQuantity: 100, perSecond: 1, endsInMs: 1500 });
    for (const u of [40_001, 40_002, 40_003, 40_004]) await join(id, u);
    expect((await poll(id, 40_004)).body.status).to.equal('WAITING');
    await sleep(1600);
    const closed = await poll(id, 40_004);
    expect([closed.status, closed.body.code]).to.deep.equal([409, 'ISSUE_WINDOW_CLOSED']);
  });

  it('when two instances admit together, then the line moves at the coupon rate, not twice it', async () => {
    const id = await coupon({ totalQuantity: null, perSecond: 10 });
    const users = Array.from({ length: 100 }, (_, i) => 50_000 + i);
    const firstJoin = Date.now();
    for (const u of users) await join(id, u);
    const started = Date.now();
    let admitted = 0;
    while (Date.now() - started < 2000) {
      // Both instances asked in turn (on() alternates by user), as fast as they answer.
      await Promise.all([poll(id, users[98]), poll(id, users[99])]);
      admitted = Number(await redis.hget(`${instances[0].config().redis.keyPrefix}coupon:{${id}}:queue:state`, 'served'));
    }
    // At most what 10 a second allows since the first join (the first joiner is admitted at once),
    // and at least half of what the polled 2 s allow.
    const sinceFirstJoin = (Date.now() - firstJoin) / 1000;
    expect(admitted).to.be.at.most(Math.ceil(10 * sinceFirstJoin) + 1);
    expect(admitted).to.be.at.least(10);
  });
});
