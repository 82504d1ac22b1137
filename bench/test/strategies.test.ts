import { expect } from 'chai';
import { RUN_ID } from '@coupon-rush/testkit';
import { MUST_BE_EXACT, STRATEGIES, runStrategy, strategyRow, violations, type StrategyResult } from '../src/strategies/lab';

/**
 * Every strategy of the lab briefly (two instances each, against the real MariaDB, Redis and
 * Kafka, each on its own database, key prefix and topics), judged by the count from its database.
 * The strategies the platform stands on must be exact; the others are run and their counts
 * printed, not asserted: how far they go wrong in two seconds depends on the box.
 */
describe('the strategy lab: every way to stop over-issuing, counted from the database', function () {
  this.timeout(240_000);
  // A second for answers in flight: the assertions do not read rowWithoutTold, which a slower answer would raise.
  const load = { users: 600, quantity: 60, connections: 16, duration: 2, threads: 2, graceSeconds: 1 };
  const results: StrategyResult[] = [];

  after(() => {
    if (results.length > 0) console.table(results.map(strategyRow));
  });

  for (const strategy of STRATEGIES) {
    const exact = MUST_BE_EXACT.includes(strategy);
    it(`when ${load.users} users each claim twice at once through two ${strategy} instances, then ${exact ? 'nothing is over-issued, duplicated or told without a row' : 'its count is recorded'}`, async () => {
      const r = await runStrategy(strategy, load, RUN_ID);
      results.push(r);
      expect(r.instances).to.equal(2);
      expect(r.told, 'some claims were accepted').to.be.greaterThan(0);
      if (exact) {
        expect(violations(r)).to.deep.equal([]);
        expect(r.rows).to.be.at.most(load.quantity);
      }
    });
  }
});
