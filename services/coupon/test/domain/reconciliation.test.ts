import { expect } from 'chai';
import knex, { type Knex } from 'knex';
import { connectRedis, type RunningService } from '@coupon-rush/platform';
import { ClaimLedger } from '@coupon-rush/issue-contract';
import { asUser, deleteRedisKeys, http, isolatedOverrides, RUN_ID } from '@coupon-rush/testkit';
import type { CouponServiceConfig } from '../../src/config';
import { start as startCoupon } from '../../src/main';

const ADMIN = asUser('coupon-service', 1, 'ADMIN');
const IN_FLIGHT_MS = 1500;

/**
 * GET /coupons/:id/reconciliation against the real MariaDB and Redis: claims made through the
 * ledger (or, in bulk, added to the set), rows inserted as the consumer inserts them, so each case
 * holds exactly the state it names. Its own database and key prefix; the stranded-claim sweep is
 * kept from running, so an unpublished claim stays until the test ages it past the bound.
 */
describe('coupon-service reconciliation: claims against rows, user by user', function () {
  this.timeout(180_000);
  const overrides = isolatedOverrides({
    mysql: { database: `coupon_rush_test_${RUN_ID}_reconciliation` },
    redis: { keyPrefix: `test:${RUN_ID}:reconciliation:` },
    kafka: { topicPrefix: `test-${RUN_ID}-reconciliation.` },
    coupon: { strandedClaims: { intervalMs: 3_600_000, staleAfterMs: IN_FLIGHT_MS } },
  });
  let coupon: RunningService<CouponServiceConfig>;
  let db: Knex;
  let redis: ReturnType<typeof connectRedis>;
  let ledger: ClaimLedger;

  before(async () => {
    coupon = (await startCoupon({ port: 0, configServerUrl: null, overrides })) as RunningService<CouponServiceConfig>;
    const m = coupon.config().mysql;
    db = knex({ client: 'mysql2', connection: { host: m.host, port: m.port, user: m.user, password: m.password, database: m.database, timezone: 'Z' }, pool: { min: 0, max: 2 } });
    const settings = coupon.config().redis;
    redis = connectRedis(settings);
    ledger = new ClaimLedger(redis, settings.keyPrefix);
  });

  after(async () => {
    await coupon?.stop();
    if (redis) {
      await deleteRedisKeys(redis, `${coupon.config().redis.keyPrefix}*`);
      redis.disconnect();
    }
    if (db) {
      await db.raw(`DROP DATABASE \`${coupon.config().mysql.database}\``).catch(() => {});
      await db.destroy();
    }
  });

  async function newCoupon(totalQuantity: number | null = null): Promise<number> {
    const now = Date.now();
    const res = await http('POST', `${coupon.url}/coupons`, {
      headers: ADMIN,
      body: { title: `reconciliation ${RUN_ID}`, totalQuantity, discountAmount: 100, issueStartAt: new Date(now - 60_000).toISOString(), issueEndAt: new Date(now + 3_600_000).toISOString() },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id as number;
  }

  /** Rows as the consumer writes them, and issued_quantity as the write-back sets it. */
  async function persist(couponId: number, users: number[]): Promise<void> {
    for (let i = 0; i < users.length; i += 5000) {
      await db('issued_coupons').insert(users.slice(i, i + 5000).map((u) => ({ coupon_id: couponId, user_id: u, event_id: `r-${couponId}-${u}`, issued_at: new Date() })));
    }
    const [{ n }] = await db('issued_coupons').where({ coupon_id: couponId }).count({ n: '*' });
    await db('coupons')
      .where({ id: couponId })
      .update({ issued_quantity: Number(n) });
  }

  /** Claims whose event was acknowledged and confirmed by the consumer. */
  async function confirmedClaims(couponId: number, users: number[]): Promise<void> {
    for (const u of users) expect(await ledger.claim(couponId, u, null)).to.equal('ACCEPTED');
    await ledger.confirm(couponId, users);
  }

  const reconciliation = async (couponId: number) => {
    const res = await http('GET', `${coupon.url}/coupons/${couponId}/reconciliation`, { headers: ADMIN });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };
  const none = { count: 0, users: [] };
  const range = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i);

  it('when every claim has its row and issued_quantity agrees, then consistent, with nothing listed', async () => {
    const id = await newCoupon(10);
    await confirmedClaims(id, [101, 102, 103]);
    await persist(id, [101, 102, 103]);
    const r = await reconciliation(id);
    expect(r).to.include({ redisClaims: 3, rows: 3, issuedQuantity: 3, divergence: 0, consistent: true });
    expect(r.claimsWithoutRow).to.deep.equal({ ...none, inFlight: none, stranded: none, published: none });
    expect(r.rowsWithoutClaim).to.deep.equal(none);
  });

  it('when a published claim has no row, then not consistent, and its user is listed as published', async () => {
    const id = await newCoupon(10);
    await confirmedClaims(id, [201, 202]);
    await persist(id, [201, 202]);
    expect(await ledger.claim(id, 203, 10)).to.equal('ACCEPTED');
    expect(await ledger.markPublished(id, 203)).to.equal(true);
    const r = await reconciliation(id);
    expect(r).to.include({ redisClaims: 3, rows: 2, divergence: 1, consistent: false });
    expect(r.claimsWithoutRow).to.deep.equal({ count: 1, users: [203], inFlight: none, stranded: none, published: { count: 1, users: [203] } });
    expect(r.rowsWithoutClaim).to.deep.equal(none);
  });

  it('when a row has no claim, then not consistent, and its user is listed', async () => {
    const id = await newCoupon(10);
    await confirmedClaims(id, [301]);
    await persist(id, [301, 302]);
    const r = await reconciliation(id);
    expect(r).to.include({ redisClaims: 1, rows: 2, divergence: -1, consistent: false });
    expect(r.claimsWithoutRow.count).to.equal(0);
    expect(r.rowsWithoutClaim).to.deep.equal({ count: 1, users: [302] });
  });

  it('when a failover lost 3 claims and 3 other users were claimed without a row, then the counts agree but consistent is false, naming all six', async () => {
    const id = await newCoupon(13);
    const kept = range(10, 401);
    const lost = [501, 502, 503];
    const refused = [601, 602, 603];
    // The rows of the lost claims were written before the failover; the claims taken in their
    // place were confirmed, then refused by the quantity guard (dead-lettered), so hold no row.
    await confirmedClaims(id, [...kept, ...refused]);
    await persist(id, [...kept, ...lost]);
    const r = await reconciliation(id);
    expect(r).to.include({ redisClaims: 13, rows: 13, issuedQuantity: 13, divergence: 0, consistent: false });
    expect(r.claimsWithoutRow).to.deep.equal({ count: 3, users: refused, inFlight: none, stranded: none, published: { count: 3, users: refused } });
    expect(r.rowsWithoutClaim).to.deep.equal({ count: 3, users: lost });
  });

  it('when an unpublished claim has no row, then it is in flight (consistent) until older than the bound, then stranded (not consistent)', async () => {
    const id = await newCoupon(10);
    await confirmedClaims(id, [701]);
    await persist(id, [701]);
    expect(await ledger.claim(id, 702, 10)).to.equal('ACCEPTED');
    const young = await reconciliation(id);
    expect(young).to.include({ redisClaims: 2, rows: 1, consistent: true });
    expect(young.claimsWithoutRow).to.deep.equal({ count: 1, users: [702], inFlight: { count: 1, users: [702] }, stranded: none, published: none });
    await new Promise((r) => setTimeout(r, IN_FLIGHT_MS + 200));
    const old = await reconciliation(id);
    expect(old).to.include({ consistent: false });
    expect(old.claimsWithoutRow).to.deep.equal({ count: 1, users: [702], inFlight: none, stranded: { count: 1, users: [702] }, published: none });
  });

  it('when members match but issued_quantity lags, then not consistent', async () => {
    const id = await newCoupon(10);
    await confirmedClaims(id, [801, 802]);
    await persist(id, [801, 802]);
    await db('coupons').where({ id }).update({ issued_quantity: 1 });
    expect(await reconciliation(id)).to.include({ rows: 2, issuedQuantity: 1, consistent: false });
  });

  it('when a coupon holds 100,000 claims and rows, 150 of each without the other, then the answer counts them all, names 100 of each, and stays fast', async () => {
    const id = await newCoupon(null);
    const shared = range(99_850, 1_000_000);
    const onlyClaimed = range(150, 2_000_000);
    const onlyPersisted = range(150, 3_000_000);
    const claims = [...shared, ...onlyClaimed];
    // Added to the set as they are (no pending entry: confirmed), far faster than 100k scripts.
    for (let i = 0; i < claims.length; i += 10_000) await redis.sadd(ledger.claimsKey(id), ...claims.slice(i, i + 10_000).map(String));
    await persist(id, [...shared, ...onlyPersisted]);

    const timings: number[] = [];
    let r: any;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      r = await reconciliation(id);
      timings.push(Math.round(performance.now() - started));
    }
    console.log(`      reconciliation of 100,000 claims and rows: ${timings.join(', ')} ms`);
    expect(r).to.include({ redisClaims: 100_000, rows: 100_000, issuedQuantity: 100_000, divergence: 0, consistent: false });
    expect(r.claimsWithoutRow).to.deep.include({ count: 150, users: onlyClaimed.slice(0, 100), published: { count: 150, users: onlyClaimed.slice(0, 100) } });
    expect(r.rowsWithoutClaim).to.deep.equal({ count: 150, users: onlyPersisted.slice(0, 100) });
    expect(Math.min(...timings), 'ms for 100k members').to.be.below(3000);
  });
});
