import { expect } from 'chai';
import { connectRedis, createLogger, type RouteLatency } from '@coupon-rush/platform';
import { ClaimLedger, WaitingLine } from '@coupon-rush/issue-contract';
import { deleteRedisKeys, RUN_ID, testRedisSettings } from '@coupon-rush/testkit';
import { AdmissionGovernor, nextRate, type AutoAdmission } from '../src/domain/admission-governor';

const AUTO: AutoAdmission = { targetP99Ms: 50, startPerSecond: 100, minPerSecond: 10, maxPerSecond: 1000, intervalMs: 2000, windowSeconds: 5 };
const seen = (p99Ms: number | null, requests = 500): RouteLatency => ({ requests, p50Ms: p99Ms === null ? null : p99Ms / 4, p99Ms });

describe('issue-coupon: the automatic admission rate', function () {
  this.timeout(30_000);

  it('when the issue route is over its p99 target the rate falls by 30%, well under it it rises by a fifth, within bounds, and without requests it holds', () => {
    expect(nextRate(100, seen(80), AUTO)).to.equal(70);
    expect(nextRate(100, seen(20), AUTO)).to.equal(121);
    expect(nextRate(100, seen(40), AUTO)).to.equal(100);
    expect(nextRate(100, seen(null, 0), AUTO)).to.equal(100);
    expect(nextRate(12, seen(500), AUTO)).to.equal(10);
    expect(nextRate(900, seen(1), AUTO)).to.equal(1000);
  });

  describe('against the real Redis, with two instances', () => {
    const settings = testRedisSettings(`test:${RUN_ID}:governor:`);
    const redis = connectRedis(settings);
    const ledger = new ClaimLedger(redis, settings.keyPrefix);
    const line = new WaitingLine(redis, settings.keyPrefix);
    const logger = createLogger('test', 'error');
    after(async () => {
      await deleteRedisKeys(redis, `${settings.keyPrefix}*`);
      redis.disconnect();
    });

    it('when both step through a slow spell, then one of them moves each room per period: 100 → 70 → 49, and the line admits at the rate set', async () => {
      let latency = seen(120);
      const governors = ['a', 'b'].map(
        (id) =>
          new AdmissionGovernor(
            line,
            async () => latency,
            () => ({ ...AUTO, intervalMs: 400 }),
            id,
            logger,
          ),
      );
      for (const g of governors) g.asking(992_001);
      await Promise.all(governors.map((g) => g.step()));
      expect((await line.state(992_001)).autoPerSecond).to.equal(70);
      // The same period: the lease is held, nobody moves it again.
      await Promise.all(governors.map((g) => g.step()));
      expect((await line.state(992_001)).autoPerSecond).to.equal(70);
      await new Promise((r) => setTimeout(r, 450));
      await Promise.all(governors.map((g) => g.step()));
      expect((await line.state(992_001)).autoPerSecond).to.equal(49);
      latency = seen(null, 0);
      await new Promise((r) => setTimeout(r, 450));
      await Promise.all(governors.map((g) => g.step()));
      expect((await line.state(992_001)).autoPerSecond, 'no requests, no evidence: held').to.equal(49);
      // A turn in the automatic room is told the governed rate.
      const now = Date.now();
      const terms = {
        issueStartAt: now - 60_000,
        issueEndAt: now + 60_000,
        totalQuantity: null,
        perSecond: 'auto' as const,
        autoStartPerSecond: 100,
        margin: 0,
        passTtlMs: 30_000,
        minPollMs: 1000,
        maxPollMs: 15_000,
      };
      await line.turn(992_001, 1, true, terms);
      const turn = await line.turn(992_001, 2, true, terms);
      expect(turn).to.deep.include({ kind: 'WAITING', perSecond: 49 });
    });
  });
});
