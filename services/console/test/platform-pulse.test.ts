import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { ServiceDirectory } from '@coupon-rush/platform';
import type { LiveSettings } from '../src/config';
import { PlatformPulse } from '../src/domain/platform-pulse';

describe('console: answer rates from issue-coupon instances', () => {
  let server: http.Server;
  let page = '';
  let pulse: PlatformPulse;

  before(async () => {
    server = http.createServer((_req, res) => res.end(page));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const instance = { id: 'issue-1', address: '127.0.0.1', port: (server.address() as AddressInfo).port };
    // Only issue-coupon has an instance here; the gateway and coupon-service have none.
    const directory = { known: (s: string) => (s === 'issue-coupon-service' ? [instance] : []), rotation: () => [] } as unknown as ServiceDirectory;
    const settings: LiveSettings = {
      tickMs: 1000,
      latencyWindowSeconds: 5,
      latencyRoute: 'coupon-issue',
      scrapeTimeoutMs: 1000,
      maxWatchedCoupons: 20,
      maxStreams: 200,
      memberCheckMs: 5000,
      usageCheckMs: 5000,
      services: { gateway: 'gateway', issue: 'issue-coupon-service', coupon: 'coupon-service', others: [] },
    };
    pulse = new PlatformPulse(directory, () => settings, '');
  });
  after(() => server.close());

  const answers = (counts: Record<string, number>) =>
    (page = Object.entries(counts)
      .map(([key, n]) => {
        const [coupon, code] = key.split(' ');
        return `coupon_issue_answers_total{coupon_id="${coupon}",code="${code}",service="issue-coupon-service"} ${n}`;
      })
      .join('\n'));

  it('when a coupon starts being watched, then its first tick has no rate (not its whole history), and from the next one its own', async () => {
    const t0 = 1_000_000;
    answers({ '7 ACCEPTED': 10 });
    expect((await pulse.sample([7], t0)).answersPerSecond.get(7)).to.deep.equal({ ACCEPTED: 0 });
    answers({ '7 ACCEPTED': 30, '8 SOLD_OUT': 5000 });
    const second = await pulse.sample([7, 8], t0 + 2000);
    expect(second.answersPerSecond.get(7)).to.deep.equal({ ACCEPTED: 10 });
    expect(second.answersPerSecond.get(8), 'newly watched: no rate yet').to.deep.equal({ SOLD_OUT: 0 });
    answers({ '7 ACCEPTED': 30, '8 SOLD_OUT': 5300, '8 ALREADY_ISSUED': 4 });
    const third = await pulse.sample([7, 8], t0 + 3000);
    expect(third.answersPerSecond.get(8), 'a series new while watched counts from 0').to.deep.equal({ SOLD_OUT: 300, ALREADY_ISSUED: 4 });
    expect(third.answersPerSecond.get(7)).to.deep.equal({ ACCEPTED: 0 });
    expect(third.errors).to.deep.equal([]);
  });
});
