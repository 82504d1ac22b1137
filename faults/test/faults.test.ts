import { expect } from 'chai';
import { FAULTS, FaultSuite, violationsOf } from '../src';

// The short version of npm run faults: every fault, seconds each, on components of this run's
// own (its own MariaDB, Redis with Sentinels and Kafka cluster), never the shared ones.
describe('faults mid-rush: no answer lies, nothing lost, nothing invented', function () {
  this.timeout(180_000);
  let suite: FaultSuite;
  const lines: string[] = [];

  before(async function () {
    this.timeout(240_000);
    suite = await FaultSuite.start({ quantity: 40, users: 160, rushSeconds: 5, concurrency: 16, only: [], rounds: 1, short: true, log: (l) => lines.push(l) });
  });

  after(async function () {
    this.timeout(120_000);
    await suite?.stop();
  });

  for (const fault of FAULTS) {
    it(`when ${fault.what}, then no answer lies: every 202 is one row and no refusal is one`, async () => {
      const row = await suite.inject(fault);
      const summary =
        `${fault.name}: users=${row.users} requests=${row.requests} 202=${row.accepted} 409=${row.refused} 503=${row.unavailable} 504=${row.gatewayTimeouts} dead=${row.deadConnections}` +
        ` stated=${row.stated} unstated=${row.unstated} (${row.open} open) lies=${row.lies} rows=${row.rows} recovery=${row.recoverySeconds}s`;
      console.log(`      ${summary}`);
      expect(row.lies, `${summary}\n${row.liars.map((l) => `user ${l.userId}: ${l.answers}; holds ${l.rows}`).join('\n')}`).to.equal(0);
      expect(violationsOf(row), `${summary}\n${lines.slice(-12).join('\n')}`).to.deep.equal([]);
      expect(row.accepted, 'coupons were issued during the fault run').to.be.greaterThan(0);
      expect(row.recoverySeconds).to.be.below(60);
    });
  }
});
