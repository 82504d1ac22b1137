import { expect } from 'chai';
import type Redis from 'ioredis';
import { connectRedis } from '@coupon-rush/platform';
import { RUN_ID, deleteRedisKeys, testRedisSettings } from '@coupon-rush/testkit';
import { ClaimLedger, LedgerRebuilding, passesKeyOf } from '../src';

/**
 * The claim state machine against the real Redis master (through Sentinel, with WAIT for the
 * replica, as the services run it), each case on coupons of its own under this run's prefix. The
 * races are real: every call of a batch is in flight at once, on one connection (as on one
 * instance) and on several (as on several instances).
 */
describe('the claim ledger (claim, mark published, confirm, revoke) under races', () => {
  const prefix = `test:${RUN_ID}:ledger:`;
  const settings = testRedisSettings(prefix);
  const connections: Redis[] = [];
  const ledgers: ClaimLedger[] = [];
  let nextCoupon = 1;
  // A coupon's sets open on the current timeline, as coupon-service opens them when it creates one.
  const coupon = async () => {
    const id = nextCoupon++;
    await ledgers[0].open(id);
    return id;
  };
  const users = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);
  const tally = (results: string[]) => results.reduce<Record<string, number>>((t, r) => ((t[r] = (t[r] ?? 0) + 1), t), {});

  before(() => {
    // Three "instances": their own connections, the same keys.
    for (let i = 0; i < 3; i++) {
      const redis = connectRedis(settings);
      connections.push(redis);
      ledgers.push(new ClaimLedger(redis, prefix, { replicas: 1, timeoutMs: 500 }));
    }
  });

  after(async () => {
    await deleteRedisKeys(connections[0], `${prefix}*`);
    connections.forEach((c) => c.disconnect());
  });

  it('when a queued coupon is claimed with a waiting-room pass, then the claim takes it: the holder check first, a pass not out refused, a sold-out claim leaves it', async () => {
    const id = await coupon();
    const passes = passesKeyOf(prefix, id);
    const expiry = Date.now() + 30_000;
    await connections[0].zadd(passes, expiry, 1, expiry, 2, expiry, 3);
    expect(await ledgers[0].claim(id, 1, 1, 'c1', expiry + 1), 'another expiry').to.equal('PASS_INVALID');
    expect(await ledgers[0].claim(id, 4, 1, 'c4', expiry), 'no pass out').to.equal('PASS_INVALID');
    expect(await ledgers[1].claim(id, 1, 1, 'c1', expiry)).to.equal('ACCEPTED');
    expect(await connections[0].zscore(passes, 1), 'spent').to.equal(null);
    expect(await ledgers[2].claim(id, 1, 1, 'c1b', expiry), 'its own request still being decided').to.equal('IN_FLIGHT');
    expect(await ledgers[0].markPublished(id, 1, 'c1')).to.equal(true);
    expect(await ledgers[2].claim(id, 1, 1, 'c1b', expiry), 'a holder hears it first').to.equal('ALREADY_ISSUED');
    expect(await ledgers[0].claim(id, 2, 1, 'c2', expiry)).to.equal('SOLD_OUT');
    expect(Number(await connections[0].zscore(passes, 2)), 'kept').to.equal(expiry);
    expect(await ledgers[0].claim(id, 3, 1, 'c3', Date.now() - 1), 'lapsed').to.equal('PASS_INVALID');
  });

  it('when 300 users claim 50 coupons at once from three instances, then exactly 50 are accepted and the set holds exactly them', async () => {
    const id = await coupon();
    const results = await Promise.all(users(300).map((u) => ledgers[u % 3].claim(id, u, 50).then((r) => [u, r] as const)));
    expect(tally(results.map(([, r]) => r))).to.deep.equal({ ACCEPTED: 50, SOLD_OUT: 250 });
    const accepted = results
      .filter(([, r]) => r === 'ACCEPTED')
      .map(([u]) => String(u))
      .sort();
    expect((await connections[0].smembers(ledgers[0].claimsKey(id))).sort()).to.deep.equal(accepted);
  });

  it('when one user claims 30 times at once from three instances, then one claim is accepted and the rest are told it is being decided, then ALREADY_ISSUED once it is published, sold out or not', async () => {
    for (const quantity of [10, 1, null]) {
      const id = await coupon();
      const requests = users(30);
      const results = await Promise.all(requests.map((i) => ledgers[i % 3].claim(id, 7, quantity, `claim-${i}`)));
      expect(tally(results), `quantity ${quantity}`).to.deep.equal({ ACCEPTED: 1, IN_FLIGHT: 29 });
      const winner = requests[results.indexOf('ACCEPTED')];
      expect(await ledgers[1].markPublished(id, 7, 'claim-99'), "another request's id marks nothing").to.equal(false);
      expect(await ledgers[1].markPublished(id, 7, `claim-${winner}`)).to.equal(true);
      expect(await ledgers[2].claim(id, 7, quantity)).to.equal('ALREADY_ISSUED');
      expect(await ledgers[2].holding(id, 7)).to.equal('HELD');
    }
  });

  it('when a holder asks after the stock is gone, then the holding check says HELD before anything says no; a user without a claim holds NONE', async () => {
    const id = await coupon();
    const [ledger] = ledgers;
    expect(await ledger.claim(id, 1, 1, 'a')).to.equal('ACCEPTED');
    expect(await ledger.holding(id, 1), 'unmarked and young: its request is still being decided').to.equal('IN_FLIGHT');
    expect(await ledger.markPublished(id, 1, 'a')).to.equal(true);
    expect(await ledger.claim(id, 2, 1)).to.equal('SOLD_OUT');
    expect(await ledger.holding(id, 1)).to.equal('HELD');
    expect(await ledger.claim(id, 1, 1), 'the duplicate check comes before the quantity').to.equal('ALREADY_ISSUED');
    expect(await ledger.holding(id, 2)).to.equal('NONE');
    expect(await ledger.confirm(id, [1])).to.deep.equal([true]);
    expect(await ledger.holding(id, 1), 'confirmed by the consumer').to.equal('HELD');
  });

  it('when a claim is left unmarked past the answer bound, then its user is not told ALREADY_ISSUED: the stranded claim is released (tombstoned) and claimed afresh', async () => {
    const id = await coupon();
    const quick = new ClaimLedger(connections[0], prefix, { replicas: 1, timeoutMs: 500 }, 50);
    expect(await quick.claim(id, 1, 1, 'first')).to.equal('ACCEPTED');
    await new Promise((r) => setTimeout(r, 80));
    expect(await quick.claim(id, 1, 1, 'second'), "the slot the stranded claim held is the user's again").to.equal('ACCEPTED');
    expect(await quick.markPublished(id, 1, 'first'), 'the first request can no longer answer 202').to.equal(false);
    expect(await quick.revoke(id, 1, 'first'), "the first request's release leaves the second's claim alone").to.equal(true);
    expect(await quick.markPublished(id, 1, 'second')).to.equal(true);
    expect(await quick.holding(id, 1)).to.equal('HELD');
    expect(await quick.confirm(id, [1]), "either request's record becomes the user's one row").to.deep.equal([true]);

    expect(await quick.claim(id, 2, null, 'x')).to.equal('ACCEPTED');
    await new Promise((r) => setTimeout(r, 80));
    expect(await quick.holding(id, 2), 'a stranded claim holds nothing; it is released on the way').to.equal('NONE');
    expect(await quick.confirm(id, [2]), 'and a late record of it is skipped').to.deep.equal([false]);
  });

  it('when the sets are not valid on the current Redis timeline (a failover), then claims, holding checks, revocations and sweeps decide nothing until a rebuild from the rows opens them', async () => {
    const id = nextCoupon++;
    const [ledger] = ledgers;
    expect(await ledger.claim(id, 1, 10, 'a'), 'never opened: no timeline').to.equal('REBUILDING');
    await connections[0].set(`${prefix}coupon:{${id}}:timeline`, 'an-older-timeline');
    expect(await ledger.claim(id, 1, 10, 'a')).to.equal('REBUILDING');
    expect(await ledger.holding(id, 1)).to.equal('REBUILDING');
    let refused: unknown;
    await ledger.revoke(id, 1, 'a').catch((err) => (refused = err));
    expect(refused).to.be.instanceOf(LedgerRebuilding);
    expect(await ledger.releaseStranded(id, 1, 0)).to.equal(false);
    expect(await ledger.isOnTimeline(id)).to.equal(false);

    // Users 3 and 4 hold rows the sets never saw (claimed on the old master after the promotion).
    async function* holders() {
      yield [3, 4];
    }
    expect(await ledger.rebuild(id, 'not-the-current-timeline', holders()), 'a rebuild for another timeline opens nothing').to.equal(false);
    expect(await ledger.rebuild(id, await ledger.currentTimeline(), holders())).to.equal(true);
    expect(await ledger.isOnTimeline(id)).to.equal(true);
    expect(await ledger.claim(id, 3, 10), 'a row holder is told ALREADY_ISSUED').to.equal('ALREADY_ISSUED');
    expect(await ledger.revoke(id, 4), "a row holder's claim is confirmed: never released").to.equal(false);
    expect(await ledger.claim(id, 1, 3, 'b'), 'the rows count against the quantity').to.equal('ACCEPTED');
    expect(await ledger.claim(id, 2, 3, 'c')).to.equal('SOLD_OUT');
  });

  it('when the consumer confirms before the issuer revokes, then the claim stands; when the issuer revokes first, then the consumer skips the record', async () => {
    const id = await coupon();
    const [ledger] = ledgers;
    expect(await ledger.claim(id, 1, 10)).to.equal('ACCEPTED');
    expect(await ledger.confirm(id, [1])).to.deep.equal([true]);
    expect(await ledger.revoke(id, 1), 'a confirmed claim is not released').to.equal(false);

    expect(await ledger.claim(id, 2, 10)).to.equal('ACCEPTED');
    expect(await ledger.revoke(id, 2)).to.equal(true);
    expect(await ledger.confirm(id, [2]), 'a late record of a revoked claim is skipped').to.deep.equal([false]);
    expect(await ledger.markPublished(id, 2), 'and cannot be answered 202').to.equal(false);
    expect(await ledger.counts(id)).to.deep.equal({ claims: 1, confirmed: 1, revoked: 1 });
  });

  it('when confirm and revoke race for 200 claims, then each claim ends exactly one way: confirmed and held, or revoked and released', async () => {
    const id = await coupon();
    const all = users(200);
    await Promise.all(all.map((u) => ledgers[u % 3].claim(id, u, null)));
    // The consumer confirms in batches from one instance while the issuers revoke one by one from the others.
    const confirmed = Promise.all([0, 1, 2, 3].map((b) => ledgers[0].confirm(id, all.slice(b * 50, (b + 1) * 50)))).then((r) => r.flat());
    const revoked = Promise.all(all.map((u) => ledgers[1 + (u % 2)].revoke(id, u)));
    const [c, r] = await Promise.all([confirmed, revoked]);
    const held = new Set(await connections[0].smembers(ledgers[0].claimsKey(id)));
    all.forEach((u, i) => {
      expect(c[i] !== r[i], `user ${u}: confirmed ${c[i]}, revoked ${r[i]}`).to.equal(true);
      expect(held.has(String(u)), `user ${u} held`).to.equal(c[i]);
    });
    const counts = await ledgers[0].counts(id);
    expect(counts.confirmed + counts.revoked).to.equal(200);
    expect(counts.claims).to.equal(counts.confirmed);
  });

  it('when a released claim is claimed again, then the new claim supersedes the tombstone and its record is persisted', async () => {
    const id = await coupon();
    const [ledger] = ledgers;
    expect(await ledger.claim(id, 5, 1)).to.equal('ACCEPTED');
    expect(await ledger.revoke(id, 5)).to.equal(true);
    expect(await ledger.claim(id, 6, 1), 'the released slot is offered again').to.equal('ACCEPTED');
    expect(await ledger.claim(id, 5, 2)).to.equal('ACCEPTED');
    expect(await ledger.confirm(id, [5, 6])).to.deep.equal([true, true]);
  });

  it('when a claim is marked published, then the sweep never sees it as stale; an unmarked one is stale once old enough', async () => {
    const id = await coupon();
    const [ledger] = ledgers;
    await ledger.claim(id, 1, null);
    await ledger.claim(id, 2, null);
    expect(await ledger.markPublished(id, 1)).to.equal(true);
    expect(await ledger.stalePending(id, 60_000), 'nothing is a minute old').to.deep.equal([]);
    await new Promise((r) => setTimeout(r, 20));
    expect(await ledger.stalePending(id, 10)).to.deep.equal([2]);
    expect(await ledger.confirm(id, [1, 2])).to.deep.equal([true, true]);
    expect(await ledger.stalePending(id, 0), 'a confirmed claim is no longer pending').to.deep.equal([]);
  });

  it('when the sweep releases stale claims while the issuers mark the same claims published, then each claim ends one way: marked and held, or released', async () => {
    const id = await coupon();
    const all = users(200);
    await Promise.all(all.map((u) => ledgers[u % 3].claim(id, u, null)));
    await new Promise((r) => setTimeout(r, 30));
    // Every claim is stale by 10 ms: only the script's own check decides against a mark in flight.
    const marked = Promise.all(all.map((u) => ledgers[1 + (u % 2)].markPublished(id, u)));
    const released = Promise.all(all.map((u) => ledgers[0].releaseStranded(id, u, 10)));
    const [m, r] = await Promise.all([marked, released]);
    const held = new Set(await connections[0].smembers(ledgers[0].claimsKey(id)));
    all.forEach((u, i) => {
      expect(m[i] !== r[i], `user ${u}: marked ${m[i]}, released ${r[i]}`).to.equal(true);
      expect(held.has(String(u)), `user ${u} held`).to.equal(m[i]);
    });
    expect(await ledgers[0].stalePending(id, 0), 'nothing marked is stale, nothing released is pending').to.deep.equal([]);
    expect(await ledgers[0].releaseStranded(id, all[0], 0), 'a claim no longer pending is not released again').to.equal(false);
  });
});
