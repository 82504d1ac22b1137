import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CouponPolicy } from './data/coupon-policy-source';
import type { AnswerTally } from './domain/answer-tally';

/** What the gauges read when Prometheus scrapes: nothing is kept up to date in between. */
export interface ScrapedSources {
  tally: AnswerTally;
  /** The limited coupons this instance served within the window. */
  recentlyServed(withinMs: number): CouponPolicy[];
  claimedCounts(couponIds: number[]): Promise<number[]>;
}

// Per-coupon series only for the coupons answered in the last 10 minutes: the live console's
// view of the coupon it watches, without a series per coupon ever served.
const RECENT_MS = 600_000;

/** issue-coupon-service's own metrics, registered in the service's registry (served on /metrics). */
export function issueCouponMetrics(registry: Registry, sources: ScrapedSources) {
  const registers = [registry];
  new Counter({
    name: 'coupon_issue_answers_total',
    help: 'Issue answers by coupon and outcome code, for coupons answered in the last 10 minutes (a coupon answered again starts from 0)',
    labelNames: ['coupon_id', 'code'],
    registers,
    collect() {
      this.reset();
      for (const t of sources.tally.recent(RECENT_MS)) this.inc({ coupon_id: String(t.couponId), code: t.code }, t.answers);
    },
  });
  new Gauge({
    name: 'coupon_stock_remaining',
    help: 'Coupons left to claim (total quantity minus claims in Redis), for limited coupons served in the last 10 minutes',
    labelNames: ['coupon_id'],
    registers,
    async collect() {
      this.reset();
      const policies = sources.recentlyServed(RECENT_MS);
      const claimed = await sources.claimedCounts(policies.map((p) => p.id)).catch(() => []);
      policies.forEach((p, i) => {
        if (Number.isFinite(claimed[i])) this.set({ coupon_id: String(p.id) }, Math.max(0, p.totalQuantity! - claimed[i]));
      });
    },
  });
  return {
    outcomes: new Counter({ name: 'coupon_issue_requests_total', help: 'Issue requests by outcome code', labelNames: ['code'], registers }),
    queueAutoRate: new Gauge({
      name: 'coupon_queue_auto_rate',
      help: 'Admissions a second of automatic waiting rooms, as this instance last set or confirmed them',
      labelNames: ['coupon_id'],
      registers,
    }),
    policyLoads: new Counter({ name: 'coupon_policy_loads_total', help: 'Coupon policies loaded from the coupon service (cache misses)', registers }),
    cacheServed: new Counter({
      name: 'coupon_policy_cache_requests_total',
      help: 'Policy lookups by the tier that answered (local and redis are hits)',
      labelNames: ['tier'],
      registers,
    }),
    publisher: {
      batchSize: new Histogram({ name: 'issue_event_batch_size', help: 'Issue events per Kafka send', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], registers }),
      sendSeconds: new Histogram({
        name: 'issue_event_send_seconds',
        help: 'Kafka send latency of one batch (acks=all), by result',
        labelNames: ['result'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers,
      }),
    },
  };
}

export type IssueCouponMetrics = ReturnType<typeof issueCouponMetrics>;
