import { expect } from 'chai';
import { parseSamples, quantileOf } from '../src/scraped-metrics';

describe('platform: reading the services’ scraped metrics', () => {
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
