import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { ServiceDirectory } from '@coupon-rush/platform';
import type { LiveSettings } from '../src/config';
import { parseSamples } from '../src/data/instance-metrics';
import { PlatformPulse, quantileOf } from '../src/domain/platform-pulse';

describe('console: reading the services’ metrics', () => {
  it('when a prom-client page is parsed, then only the asked families are kept, with their labels unescaped', () => {
    const page = [
      '# HELP coupon_issue_requests_total Issue requests by outcome code',
      '# TYPE coupon_issue_requests_total counter',
      'coupon_issue_requests_total{code="ACCEPTED",service="issue-coupon-service"} 15',
      'coupon_issue_requests_total{code="SOLD_OUT",service="issue-coupon-service"} 65',
      'process_cpu_seconds_total 1.5',
      'http_server_request_duration_seconds_bucket{le="+Inf",method="POST",route="coupon-issue",status="202",service="gateway"} 80',
      'odd_metric{text="a \\"quoted\\" \\\\ value"} 2',
    ].join('\n');
    const samples = parseSamples(page, ['coupon_issue_requests_total', 'http_server_request_duration_seconds_bucket', 'odd_metric']);
    expect(samples.map((s) => [s.name, s.labels.code ?? s.labels.le ?? s.labels.text, s.value])).to.deep.equal([
      ['coupon_issue_requests_total', 'ACCEPTED', 15],
      ['coupon_issue_requests_total', 'SOLD_OUT', 65],
      ['http_server_request_duration_seconds_bucket', '+Inf', 80],
      ['odd_metric', 'a "quoted" \\ value', 2],
    ]);
  });

  it('when quantiles are taken from cumulative buckets, then they interpolate inside the bucket as histogram_quantile does', () => {
    // 100 requests: 50 under 1 ms, 40 more under 5 ms, 9 under 10 ms, 1 slower than 10 s.
    const buckets = new Map([
      [0.001, 50],
      [0.005, 90],
      [0.01, 99],
      [10, 99],
      [Infinity, 100],
    ]);
    expect(quantileOf(buckets, 0.5)).to.be.closeTo(0.001, 1e-9);
    expect(quantileOf(buckets, 0.7)).to.be.closeTo(0.001 + 0.004 * (20 / 40), 1e-9);
    expect(quantileOf(buckets, 0.99)).to.be.closeTo(0.01, 1e-9);
    // In +Inf: the last finite bound, not infinity.
    expect(quantileOf(buckets, 0.999)).to.equal(10);
    expect(quantileOf(new Map([[Infinity, 0]]), 0.5)).to.equal(null);
  });
});

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
