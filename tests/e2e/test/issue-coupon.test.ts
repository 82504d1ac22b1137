import crypto from 'node:crypto';
import { expect } from 'chai';
import { Kafka, logLevel } from 'kafkajs';
import { connectRedis, type RunningService } from '@coupon-rush/platform';
import { ClaimLedger } from '@coupon-rush/issue-contract';
import { start as startCoupon } from '@coupon-rush/coupon-service';
import { appKafkaSasl, asUser, eventually, http, inParallel, isolatedOverrides, tally, RUN_ID } from '@coupon-rush/testkit';
import type { IssueCouponConfig } from '@coupon-rush/issue-coupon-service/config';
import { start as startIssue } from '@coupon-rush/issue-coupon-service';
import { serviceApi, type CouponRushApi } from '@coupon-rush/api-client';

const ADMIN = asUser('coupon-service', 1, 'ADMIN');
const as = (userId: number, service = 'issue-coupon-service') => asUser(service, userId);
const HOUR = 3600_000;

describe('issue path: Redis claim, Kafka event, MySQL rows', function () {
  this.timeout(120_000);
  let coupon: RunningService<unknown>;
  let issue: RunningService<unknown>;
  let coupons: CouponRushApi;
  let issues: CouponRushApi;
  const overrides = isolatedOverrides({
    coupon: { writeBack: { intervalMs: 200 }, strandedClaims: { intervalMs: 200, staleAfterMs: 2500 }, ledgerRebuild: { settleMs: 300 } },
    issue: { publisher: { timeoutMs: 1500 } },
  });
  const topic = `test-${RUN_ID}.coupon.issued`;
  const kafka = new Kafka({ clientId: 'issue-test', brokers: ['127.0.0.1:9092', '127.0.0.1:9094', '127.0.0.1:9096'], sasl: appKafkaSasl(), logLevel: logLevel.NOTHING });
  let nextUser = 1000;
  const users = (n: number) => Array.from({ length: n }, () => nextUser++);

  async function newCoupon(totalQuantity: number | null, window: [number, number] = [-HOUR, HOUR]): Promise<number> {
    const now = Date.now();
    const res = await coupons.POST('/api/coupons', {
      headers: ADMIN,
      body: { title: 'Flash', totalQuantity, discountAmount: 1000, minOrderAmount: 0, issueStartAt: new Date(now + window[0]).toISOString(), issueEndAt: new Date(now + window[1]).toISOString() },
    });
    expect(res.response.status, JSON.stringify(res.data ?? res.error)).to.equal(201);
    return res.data!.id;
  }

  const claimOn = (on: CouponRushApi, couponId: number, userId: number) => on.POST('/api/coupons/{id}/issues', { params: { path: { id: String(couponId) } }, headers: as(userId) });
  const issueAs = (couponId: number, userId: number) => claimOn(issues, couponId, userId);
  /** A claim's answer as the tallies count it: the refusal's code, or the status of an acceptance. */
  const outcome = (answer: Awaited<ReturnType<typeof issueAs>>) => answer.error?.code ?? answer.response.status;
  const reconciliation = async (couponId: number) => (await coupons.GET('/api/coupons/{id}/reconciliation', { params: { path: { id: String(couponId) } }, headers: ADMIN })).data!;
  const heldBy = async (userId: number) => (await coupons.GET('/api/users/me/coupons', { headers: as(userId, 'coupon-service') })).data!.items;
  const settled = (couponId: number, rows: number) =>
    eventually(async () => {
      const r = await reconciliation(couponId);
      return r.rows === rows && r.issuedQuantity === rows && r;
    }, 20_000);

  /** The claim ledger as the issue instance has it (its Redis, prefix and durability), for states no request can make. */
  function issueLedger(): { redis: ReturnType<typeof connectRedis>; ledger: ClaimLedger; prefix: string } {
    const settings = (issue.config() as IssueCouponConfig).redis;
    const redis = connectRedis(settings);
    return { redis, ledger: new ClaimLedger(redis, settings.keyPrefix, { replicas: settings.durableReplicas, timeoutMs: settings.replicaAckTimeoutMs }), prefix: settings.keyPrefix };
  }

  before(async () => {
    coupon = await startCoupon({ port: 0, configServerUrl: null, overrides });
    issue = await startIssue({ port: 0, configServerUrl: null, overrides });
    coupons = serviceApi(coupon.url);
    issues = serviceApi(issue.url);
  });

  after(async () => {
    await issue?.stop();
    await coupon?.stop();
  });

  it('when 1,000 distinct users race for 100 coupons, then exactly 100 are accepted and persisted', async () => {
    const id = await newCoupon(100);
    const answers = await inParallel(1000, 200, (i) => issueAs(id, 50_000 + i));
    expect(tally(answers.map(outcome))).to.deep.equal({ 202: 100, SOLD_OUT: 900 });
    const r = await settled(id, 100);
    expect(r).to.include({ redisClaims: 100, rows: 100, issuedQuantity: 100, consistent: true });
  });

  it('when one user sends 100 concurrent requests, then one is accepted and the others are ALREADY_ISSUED, or 503 while the first is still being decided; asking again then says ALREADY_ISSUED', async () => {
    const id = await newCoupon(10);
    const [user] = users(1);
    const answers = await inParallel(100, 100, () => issueAs(id, user));
    const { 202: accepted, ALREADY_ISSUED: held = 0, ISSUE_UNAVAILABLE: deciding = 0, ...other } = tally(answers.map(outcome));
    expect([accepted, held + deciding, other]).to.deep.equal([1, 99, {}]);
    for (const a of answers.filter((x) => x.response.status === 503)) expect(a.response.headers.get('retry-after')).to.equal('1');
    expect((await issueAs(id, user)).error?.code).to.equal('ALREADY_ISSUED');
    await settled(id, 1);
    expect((await heldBy(user)).map((c) => c.couponId)).to.deep.equal([id]);
  });

  it('when the quantity is unlimited, then every distinct user is accepted', async () => {
    const id = await newCoupon(null);
    const answers = await inParallel(300, 100, (i) => issueAs(id, 70_000 + i));
    expect(tally(answers.map((a) => a.response.status))).to.deep.equal({ 202: 300 });
    await settled(id, 300);
  });

  it('when the window is not open or already closed, then 409 ISSUE_WINDOW_CLOSED and nothing is claimed', async () => {
    for (const window of [
      [HOUR, 2 * HOUR],
      [-2 * HOUR, -HOUR],
    ] as Array<[number, number]>) {
      const id = await newCoupon(5, window);
      const res = await issueAs(id, users(1)[0]);
      expect([res.response.status, res.error?.code]).to.deep.equal([409, 'ISSUE_WINDOW_CLOSED']);
      expect(await reconciliation(id)).to.include({ redisClaims: 0, rows: 0 });
    }
  });

  it('when a holder asks again after the stock is gone and after the window has closed, then ALREADY_ISSUED; only a user without a claim hears SOLD_OUT or ISSUE_WINDOW_CLOSED', async () => {
    const id = await newCoupon(1, [-HOUR, 2500]);
    const [holder, other] = users(2);
    expect((await issueAs(id, holder)).response.status).to.equal(202);
    expect((await issueAs(id, other)).error?.code, 'meets the end of stock: the sold-out flag is set').to.equal('SOLD_OUT');
    expect((await issueAs(id, holder)).error?.code, 'behind the flag').to.equal('ALREADY_ISSUED');
    expect((await issueAs(id, other)).error?.code).to.equal('SOLD_OUT');
    await eventually(async () => (await issueAs(id, other)).error?.code === 'ISSUE_WINDOW_CLOSED', 5000, 100);
    expect((await issueAs(id, holder)).error?.code, 'after the window').to.equal('ALREADY_ISSUED');
    await settled(id, 1);
  });

  it("when a coupon's claim sets are on an older Redis timeline (after a failover), then claims answer 503 with Retry-After until coupon-service rebuilds them from the rows; row holders are then ALREADY_ISSUED and count against the quantity", async () => {
    const id = await newCoupon(3);
    const [a, b, c, d] = users(4);
    expect((await issueAs(id, a)).response.status).to.equal(202);
    expect((await issueAs(id, b)).response.status).to.equal(202);
    await settled(id, 2);
    // What a promoted replica holds when the old master acknowledged both claims after the promotion.
    const { redis, prefix } = issueLedger();
    try {
      await redis.del(`${prefix}coupon:{${id}}:claims`, `${prefix}coupon:{${id}}:confirmed`);
      await redis.set(`${prefix}coupon:{${id}}:timeline`, 'the-old-masters-timeline');
    } finally {
      redis.disconnect();
    }
    const paused = await issueAs(id, c);
    expect([paused.response.status, paused.error?.code, paused.response.headers.get('retry-after')]).to.deep.equal([503, 'ISSUE_UNAVAILABLE', '2']);
    const accepted = await eventually(
      async () => {
        const res = await issueAs(id, c);
        expect(res.response.status, JSON.stringify(res.data ?? res.error)).to.be.oneOf([202, 503]);
        return res.response.status === 202 && res.data;
      },
      20_000,
      200,
    );
    expect(accepted.status).to.equal('ACCEPTED');
    expect((await issueAs(id, a)).error?.code, 'a row holder').to.equal('ALREADY_ISSUED');
    expect((await issueAs(id, d)).error?.code, 'two rows and one claim fill a coupon of three').to.equal('SOLD_OUT');
    const r = await settled(id, 3);
    expect(r).to.include({ redisClaims: 3, consistent: true });
  });

  it('when the coupon does not exist or the id is malformed, then 404 or 400', async () => {
    expect((await issueAs(987_654_321, 5)).error?.code).to.equal('COUPON_NOT_FOUND');
    // An id the document's path pattern refuses: only a raw request can send it.
    expect((await http('POST', `${issue.url}/coupons/abc/issues`, { headers: as(5) })).status).to.equal(400);
    expect((await issues.POST('/api/coupons/{id}/issues', { params: { path: { id: '1' } } })).response.status).to.equal(401);
  });

  it('when the cache is cold, then a crowd reads the coupon service once, and warm requests not at all', async () => {
    const id = await newCoupon(1000);
    const loads = async () => {
      const text = (await http('GET', `${issue.url}/metrics`)).body as string;
      return Number(/^coupon_policy_loads_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    const before = await loads();
    await inParallel(50, 50, (i) => issueAs(id, 80_000 + i));
    expect(await loads()).to.equal(before + 1);
    await inParallel(50, 50, (i) => issueAs(id, 81_000 + i));
    expect(await loads()).to.equal(before + 1);
  });

  it('when the same event is delivered twice, then one row; when a poison event arrives, then it is dead-lettered and the consumer moves on', async () => {
    const id = await newCoupon(10);
    const [user, later] = users(2);
    const event = JSON.stringify({ eventId: crypto.randomUUID(), couponId: id, userId: user, issuedAt: new Date().toISOString() });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: String(id), value: event },
        { key: String(id), value: event },
        { key: String(id), value: '{not json' },
      ],
    });
    await producer.send({ topic, messages: [{ key: String(id), value: JSON.stringify({ eventId: crypto.randomUUID(), couponId: id, userId: later, issuedAt: new Date().toISOString() }) }] });
    await producer.disconnect();
    await settled(id, 2);

    const consumer = kafka.consumer({ groupId: `dlt-reader-${RUN_ID}` });
    await consumer.connect();
    await consumer.subscribe({ topic: `${topic}.dlt`, fromBeginning: true });
    const reasons: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void reasons.push(String(message.headers?.reason)) });
    await eventually(async () => reasons.includes('record value is not JSON'), 15_000);
    await consumer.disconnect();
  });

  it('when the log holds more events than the coupon has (claims lost with a Redis master, a foreign producer), then the quantity is persisted and the rest dead-lettered as QUANTITY_EXCEEDED', async () => {
    const id = await newCoupon(2);
    const extra = users(3);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: extra.map((userId) => ({ key: String(id), value: JSON.stringify({ eventId: crypto.randomUUID(), couponId: id, userId, issuedAt: new Date().toISOString() }) })),
    });
    await producer.disconnect();
    await settled(id, 2);

    const consumer = kafka.consumer({ groupId: `dlt-quantity-${RUN_ID}` });
    await consumer.connect();
    await consumer.subscribe({ topic: `${topic}.dlt`, fromBeginning: true });
    const dead: Array<{ userId: number; reason: string; sourceTopic: string }> = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        // The dead-letter topic also holds the poison records of other cases: not JSON at all.
        let event: { couponId?: number; userId?: number } = {};
        try {
          event = JSON.parse(String(message.value));
        } catch {
          return;
        }
        if (event.couponId === id) dead.push({ userId: event.userId!, reason: String(message.headers?.reason), sourceTopic: String(message.headers?.['source-topic']) });
      },
    });
    try {
      await eventually(async () => dead.length === 1, 15_000);
    } finally {
      await consumer.disconnect();
    }
    expect(dead[0]).to.include({ reason: 'QUANTITY_EXCEEDED', sourceTopic: topic });
    const holders = await Promise.all(extra.map(async (u) => (await heldBy(u)).length));
    expect(holders.filter((n) => n === 1)).to.have.length(2);
    expect(holders[extra.indexOf(dead[0].userId)], 'the dead-lettered user holds nothing').to.equal(0);
  });

  it('when a claim cannot reach enough Redis replicas, then it is answered 503, released, and never becomes a row', async () => {
    // Three replicas required where two exist: every WAIT falls short, the way it would while the
    // replicas are cut off from the master.
    const strict = await startIssue({ port: 0, configServerUrl: null, overrides: { ...overrides, redis: { ...(overrides.redis as object), durableReplicas: 3, replicaAckTimeoutMs: 100 } } });
    try {
      const id = await newCoupon(10);
      const strictIssues = serviceApi(strict.url);
      const answers = await inParallel(5, 5, (i) => claimOn(strictIssues, id, 95_000 + i));
      expect(tally(answers.map(outcome))).to.deep.equal({ ISSUE_UNAVAILABLE: 5 });
      // An absence to show: long enough for a stray event to be fetched (every 100 ms) and written.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await reconciliation(id)).to.include({ redisClaims: 0, rows: 0, consistent: true });
      // The same users, through an instance whose writes do replicate, are issued normally.
      const again = await inParallel(5, 5, (i) => issueAs(id, 95_000 + i));
      expect(tally(again.map((a) => a.response.status))).to.deep.equal({ 202: 5 });
      await settled(id, 5);
    } finally {
      await strict.stop();
    }
  });

  it('when a claim is left without its event (its process died before publishing), then it is released and the slot is issued again', async () => {
    const id = await newCoupon(1);
    const { redis, ledger } = issueLedger();
    try {
      // Exactly what an issue-coupon process leaves when it is killed between claim and publish.
      const [stranded, next] = users(2);
      expect(await ledger.claim(id, stranded, 1)).to.equal('ACCEPTED');
      expect((await issueAs(id, next)).error?.code).to.equal('SOLD_OUT');
      await eventually(async () => (await reconciliation(id)).redisClaims === 0, 15_000, 250);
      expect((await reconciliation(id)).redisRevoked).to.equal(1);
      const again = await eventually(
        async () => {
          const res = await issueAs(id, next);
          return res.response.status === 202 && res.data;
        },
        10_000,
        250,
      );
      expect(again.status).to.equal('ACCEPTED');
      await settled(id, 1);
    } finally {
      redis.disconnect();
    }
  });

  it('when one instance meets the end of stock, then another refuses at once from the announcement, though Redis has room again, until the mark expires', async () => {
    // B keeps marks 1.5 s (the least is 1 s), so the test can watch one expire.
    const other = await startIssue({ port: 0, configServerUrl: null, overrides: { ...overrides, issue: { ...(overrides.issue as object), cache: { localTtlMs: 1500, redisTtlSeconds: 300 } } } });
    const { redis, ledger, prefix } = issueLedger();
    const listener = redis.duplicate();
    try {
      const id = await newCoupon(1);
      const [held, refused, third] = users(3);
      const announced = new Promise<string>((resolve) => listener.on('message', (_c: string, message: string) => message === String(id) && resolve(message)));
      await listener.subscribe(`${prefix}coupon-sold-out`);
      expect(await ledger.claim(id, held, 1)).to.equal('ACCEPTED');
      expect((await issueAs(id, refused)).error?.code, 'the first instance meets the end of stock').to.equal('SOLD_OUT');
      await announced;
      await new Promise((r) => setTimeout(r, 100));
      // The slot is free again in Redis (its claim never published): only the mark can refuse now.
      expect(await ledger.revoke(id, held)).to.equal(true);
      const otherIssues = serviceApi(other.url);
      const onOther = () => claimOn(otherIssues, id, third);
      expect((await onOther()).error?.code, 'the other instance refuses from the announcement').to.equal('SOLD_OUT');
      expect((await reconciliation(id)).redisClaims, 'without claiming').to.equal(0);
      const accepted = await eventually(
        async () => {
          const res = await onOther();
          return res.response.status === 202 && res.data;
        },
        5_000,
        100,
      );
      expect(accepted.status).to.equal('ACCEPTED');
      await settled(id, 1);
    } finally {
      listener.disconnect();
      redis.disconnect();
      await other.stop();
    }
  });
});
