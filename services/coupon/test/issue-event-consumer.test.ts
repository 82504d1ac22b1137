import crypto from 'node:crypto';
import { expect } from 'chai';
import { Kafka, logLevel } from 'kafkajs';
import knex, { type Knex } from 'knex';
import type { RunningService } from '@coupon-rush/platform';
import { appKafkaSasl, asUser, eventually, http, isolatedOverrides, metricTotal, RUN_ID } from '@coupon-rush/testkit';
import type { CouponServiceConfig } from '../src/config';
import { start as startCoupon } from '../src/main';

const ADMIN = asUser('coupon-service', 1, 'ADMIN');
const EVENTS = 20;

/**
 * The consumer against a database that refuses its batches: the test's own database, whose
 * issued_coupons table it renames away (the error a dropped or unreachable table gives) and back.
 */
describe('coupon-service consumer: a batch that cannot be persisted', function () {
  this.timeout(120_000);
  const kafka = new Kafka({ clientId: 'consumer-retry-test', brokers: ['127.0.0.1:9092', '127.0.0.1:9094', '127.0.0.1:9096'], sasl: appKafkaSasl(), logLevel: logLevel.NOTHING });

  async function withCoupon(retries: number, check: (ctx: { coupon: RunningService<CouponServiceConfig>; db: Knex; topic: string; id: number }) => Promise<void>) {
    const name = `consumer-${retries}`;
    const overrides = isolatedOverrides({
      mysql: { database: `coupon_rush_test_${RUN_ID}_${name.replace('-', '_')}` },
      kafka: { topicPrefix: `test-${RUN_ID}-${name}.` },
      coupon: { consumer: { retries } },
    });
    const coupon = (await startCoupon({ port: 0, configServerUrl: null, overrides })) as RunningService<CouponServiceConfig>;
    const m = coupon.config().mysql;
    const db = knex({ client: 'mysql2', connection: { host: m.host, port: m.port, user: m.user, password: m.password, database: m.database }, pool: { min: 0, max: 1 } });
    try {
      const now = Date.now();
      const created = await http('POST', `${coupon.url}/coupons`, {
        headers: ADMIN,
        body: { title: `${name} ${RUN_ID}`, totalQuantity: 50, discountAmount: 100, issueStartAt: new Date(now - 60_000).toISOString(), issueEndAt: new Date(now + 3_600_000).toISOString() },
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      await check({ coupon, db, topic: `test-${RUN_ID}-${name}.coupon.issued`, id: created.body.id as number });
    } finally {
      await coupon.stop();
      await db.raw(`DROP DATABASE \`${m.database}\``).catch(() => {});
      await db.destroy();
    }
  }

  const publish = async (topic: string, couponId: number) => {
    const producer = kafka.producer();
    await producer.connect();
    const users = Array.from({ length: EVENTS }, (_, i) => 910_000 + i);
    await producer.send({
      topic,
      acks: -1,
      messages: users.map((userId) => ({ key: String(couponId), value: JSON.stringify({ eventId: crypto.randomUUID(), couponId, userId, issuedAt: new Date().toISOString() }) })),
    });
    await producer.disconnect();
    return users;
  };
  const metric = (coupon: RunningService<CouponServiceConfig>, name: string) => metricTotal(coupon.url, name);
  const holders = async (db: Knex, couponId: number) => (await db('issued_coupons').where({ coupon_id: couponId }).select('user_id')).map((r) => Number(r.user_id)).sort((a, b) => a - b);
  /** Once the table is back: the users holding a row when all the events are persisted. */
  const everyEventPersisted = (db: Knex, couponId: number, timeoutMs: number) =>
    eventually(
      async () => {
        const held = await holders(db, couponId);
        return held.length === EVENTS && held;
      },
      timeoutMs,
      200,
    );

  it('when the database refuses a batch for a while, then the consumer retries it and every event becomes one row once the database is back', async () => {
    await withCoupon(5, async ({ coupon, db, topic, id }) => {
      await db.raw('RENAME TABLE issued_coupons TO issued_coupons_hidden');
      const users = await publish(topic, id);
      await eventually(async () => (await metric(coupon, 'coupon_event_batch_retries_total')) >= 1, 20_000, 100);
      await db.raw('RENAME TABLE issued_coupons_hidden TO issued_coupons');
      expect(await everyEventPersisted(db, id, 20_000)).to.deep.equal(users);
      expect(await metric(coupon, 'coupon_events_dead_lettered_total')).to.equal(0);
    });
  });

  it('when the database refuses a batch past its retries, then the batch goes back to Kafka uncommitted, is fetched again, and becomes rows once, with no lag left', async () => {
    await withCoupon(1, async ({ coupon, db, topic, id }) => {
      await db.raw('RENAME TABLE issued_coupons TO issued_coupons_hidden');
      const users = await publish(topic, id);
      // One retry per fetch: a second means the batch was handed back and fetched again.
      await eventually(async () => (await metric(coupon, 'coupon_event_batch_retries_total')) >= 2, 40_000, 200);
      expect(await holders(db, id).catch((err) => String(err))).to.match(/issued_coupons/);
      await db.raw('RENAME TABLE issued_coupons_hidden TO issued_coupons');
      expect(await everyEventPersisted(db, id, 40_000)).to.deep.equal(users);
      await eventually(async () => (await metric(coupon, 'coupon_consumer_lag')) === 0, 20_000, 200);
      expect(await metric(coupon, 'coupon_events_dead_lettered_total')).to.equal(0);
    });
  });
});
