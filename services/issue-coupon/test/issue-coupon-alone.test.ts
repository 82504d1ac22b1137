import { expect } from 'chai';
import { Kafka, logLevel } from 'kafkajs';
import { connectRedis, type RunningService } from '@coupon-rush/platform';
import { ClaimLedger } from '@coupon-rush/issue-contract';
import { appKafkaSasl, asUser, deleteRedisKeys, eventually, http, inParallel, isolatedOverrides, tally, RUN_ID } from '@coupon-rush/testkit';
import type { IssueCouponConfig } from '../src/config';
import { start as startIssue } from '../src/main';

const as = (userId: number) => asUser('issue-coupon-service', userId);

/**
 * issue-coupon with no coupon service in its Consul set (the run's suffix names one nobody
 * registered): what it answers from its own parts — the Redis policy cache, the claim, Kafka.
 */
describe('issue-coupon on its own (no coupon service)', function () {
  this.timeout(60_000);
  const overrides = isolatedOverrides({ kafka: { topicPrefix: `test-${RUN_ID}-alone.` }, redis: { keyPrefix: `test:${RUN_ID}:alone:` } });
  let issue: RunningService<IssueCouponConfig>;
  let redis: ReturnType<typeof connectRedis>;
  let ledger: ClaimLedger;
  const issueAs = (couponId: number | string, userId: number) => http('POST', `${issue.url}/coupons/${couponId}/issues`, { headers: as(userId) });

  before(async () => {
    issue = (await startIssue({ port: 0, configServerUrl: null, overrides })) as RunningService<IssueCouponConfig>;
    const settings = issue.config().redis;
    redis = connectRedis(settings);
    ledger = new ClaimLedger(redis, settings.keyPrefix, { replicas: settings.durableReplicas, timeoutMs: settings.replicaAckTimeoutMs });
  });
  after(async () => {
    await deleteRedisKeys(redis, `${issue.config().redis.keyPrefix}*`);
    redis.disconnect();
    await issue.stop();
  });

  it('when the policy is in neither cache and the coupon service cannot be reached, then 503 ISSUE_UNAVAILABLE naming it, and nothing is claimed', async () => {
    const answer = await issueAs(990_001, 1);
    expect([answer.status, answer.body.code]).to.deep.equal([503, 'ISSUE_UNAVAILABLE']);
    expect(answer.body.detail).to.match(/\(coupon service\)$/);
    expect(await ledger.counts(990_001)).to.deep.equal({ claims: 0, confirmed: 0, revoked: 0 });
  });

  it('when the caller has no identity or the id is malformed, then 401 or 400 with a code', async () => {
    const anonymous = await http('POST', `${issue.url}/coupons/990001/issues`);
    expect([anonymous.status, anonymous.body.code]).to.deep.equal([401, 'UNAUTHORIZED']);
    const malformed = await issueAs('abc', 1);
    expect([malformed.status, malformed.body.code]).to.deep.equal([400, 'VALIDATION_FAILED']);
  });

  it('when the policy is cached in Redis, then a crowd is served without the coupon service: the quantity accepted and published to Kafka, the rest SOLD_OUT', async () => {
    const id = 990_002;
    const now = Date.now();
    // What the look-aside cache holds after a first load from the coupon service.
    await redis.set(`${issue.config().redis.keyPrefix}coupon:{${id}}:policy`, JSON.stringify({ id, totalQuantity: 3, issueStartAt: now - 60_000, issueEndAt: now + 3_600_000 }), 'EX', 300);
    // And what the coupon service did when it created the coupon: its claim sets opened.
    await ledger.open(id);
    const answers = await inParallel(10, 10, (i) => issueAs(id, 1_000 + i));
    expect(tally(answers.map((a) => a.body.code ?? a.status))).to.deep.equal({ 202: 3, SOLD_OUT: 7 });
    expect((await ledger.counts(id)).claims).to.equal(3);
    // The same answers per coupon on /metrics (the live console reads them); an id whose policy
    // could not be found (here: no coupon service to ask) is not tallied.
    await issueAs(987_654_321, 1_000);
    const metrics = (await http('GET', `${issue.url}/metrics`)).body as string;
    const answered = (coupon: number, code: string) => new RegExp(`^coupon_issue_answers_total\\{coupon_id="${coupon}",code="${code}"[^}]*\\} (\\d+)$`, 'm').exec(metrics)?.[1];
    expect([answered(id, 'ACCEPTED'), answered(id, 'SOLD_OUT'), answered(987_654_321, 'ISSUE_UNAVAILABLE')]).to.deep.equal(['3', '7', undefined]);

    // Every 202 is a record on the issue topic, for the coupon service to persist once it is back.
    const accepted = answers
      .filter((a) => a.status === 202)
      .map((a) => a.body.userId as number)
      .sort((a, b) => a - b);
    const kafka = new Kafka({ clientId: 'issue-alone-test', brokers: ['127.0.0.1:9092', '127.0.0.1:9094', '127.0.0.1:9096'], sasl: appKafkaSasl(), logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `issue-alone-reader-${RUN_ID}` });
    await consumer.connect();
    await consumer.subscribe({ topic: `test-${RUN_ID}-alone.coupon.issued`, fromBeginning: true });
    const published: number[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        const event = JSON.parse(String(message.value)) as { couponId: number; userId: number };
        if (event.couponId === id) published.push(event.userId);
      },
    });
    try {
      expect(await eventually(async () => published.length >= 3 && [...published].sort((a, b) => a - b), 20_000)).to.deep.equal(accepted);
    } finally {
      await consumer.disconnect();
    }
  });
});
