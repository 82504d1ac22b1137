import type { ServiceDirectory, ServiceInstance } from '@coupon-rush/platform';
import { scrapeInstance, type MetricSample } from '../data/instance-metrics';
import type { LiveSettings } from '../config';

/** What the services' metrics say this tick, the same for every coupon watched. */
export interface PlatformReading {
  /** Issue-coupon's answers per second since the last tick, by outcome code, per watched coupon. */
  answersPerSecond: Map<number, Record<string, number>>;
  latency: { route: string; windowSeconds: number; requests: number; p50Ms: number | null; p99Ms: number | null };
  /** Issue events not yet persisted (coupon-service's committed offsets against the log end). */
  consumerLag: number | null;
  deadLettered: number | null;
  instances: Array<{ service: string; inRotation: number; benched: number; panic: boolean }>;
  errors: string[];
}

const ISSUE_FAMILIES = ['coupon_issue_answers_total'];
const GATEWAY_FAMILIES = ['http_server_request_duration_seconds_bucket'];
const COUPON_FAMILIES = ['coupon_consumer_lag', 'coupon_events_dead_lettered_total'];

/** Cumulative bucket counts of one latency histogram, by upper bound in seconds (+Inf included). */
type Buckets = Map<number, number>;

/**
 * The value q of a histogram's observations from its cumulative bucket counts, interpolated
 * linearly inside the bucket it falls in, as Prometheus' histogram_quantile does; the last finite
 * bound when it falls in +Inf.
 */
export function quantileOf(buckets: Buckets, q: number): number | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bound of bounds) {
    const count = buckets.get(bound)!;
    if (count >= rank) {
      if (bound === Infinity) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket <= 0 ? bound : lowerBound + (bound - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}

/** A counter's increase between two readings; a smaller reading means the process restarted from 0. */
const increase = (now: number, before: number) => (now >= before ? now - before : now);

/**
 * Samples the platform once a tick: every instance of issue-coupon, the gateway and coupon-service
 * is scraped once, whatever the number of open pages. Rates come from the difference with the
 * previous tick, the gateway's quantiles from the difference with the reading `latencyWindowSeconds`
 * ago, per instance (an instance that restarted starts over).
 */
export class PlatformPulse {
  private lastAnswers = new Map<string, Map<string, number>>();
  private lastWatched = new Set<string>();
  private lastAt = 0;
  private latencyHistory = new Map<string, Array<{ at: number; buckets: Buckets }>>();

  constructor(
    private readonly directory: ServiceDirectory,
    private readonly settings: () => LiveSettings,
    private readonly serviceSuffix: string,
    private readonly scraped: (instances: number) => void = () => {},
  ) {}

  private async scrapeAll(service: string, families: readonly string[], errors: string[]): Promise<Array<{ instance: ServiceInstance; samples: MetricSample[] }>> {
    const instances = this.directory.known(service + this.serviceSuffix);
    this.scraped(instances.length);
    const results = await Promise.allSettled(instances.map((i) => scrapeInstance(i, families, this.settings().scrapeTimeoutMs)));
    return results.flatMap((r, i) => {
      if (r.status === 'fulfilled') return [{ instance: instances[i], samples: r.value }];
      errors.push(`${service} ${instances[i].address}:${instances[i].port}: ${(r.reason as Error)?.message ?? String(r.reason)}`);
      return [];
    });
  }

  /** Forgets the previous readings: after an idle spell, rates and quantiles start afresh. */
  reset(): void {
    this.lastAnswers.clear();
    this.lastWatched = new Set();
    this.lastAt = 0;
    this.latencyHistory.clear();
  }

  /** One reading of the platform, with the answer rates of the coupons asked for. */
  async sample(couponIds: number[], now = Date.now()): Promise<PlatformReading> {
    const s = this.settings();
    const errors: string[] = [];
    const [issue, gateway, coupon] = await Promise.all([
      this.scrapeAll(s.services.issue, ISSUE_FAMILIES, errors),
      this.scrapeAll(s.services.gateway, GATEWAY_FAMILIES, errors),
      this.scrapeAll(s.services.coupon, COUPON_FAMILIES, errors),
    ]);
    const seconds = this.lastAt === 0 ? 0 : (now - this.lastAt) / 1000;
    this.lastAt = now;
    return {
      answersPerSecond: this.answerRates(issue, seconds, new Set(couponIds.map(String))),
      latency: this.latency(gateway, now),
      consumerLag: coupon.length === 0 ? null : Math.max(...coupon.map(({ samples }) => sum(samples, 'coupon_consumer_lag'))),
      deadLettered: coupon.length === 0 ? null : coupon.reduce((n, { samples }) => n + sum(samples, 'coupon_events_dead_lettered_total'), 0),
      instances: this.directory.rotation().map((r) => ({ ...r, service: r.service.slice(0, r.service.length - this.serviceSuffix.length) })),
      errors,
    };
  }

  private answerRates(scrapes: Array<{ instance: ServiceInstance; samples: MetricSample[] }>, seconds: number, couponIds: Set<string>): Map<number, Record<string, number>> {
    const rates = new Map<number, Record<string, number>>();
    const next = new Map<string, Map<string, number>>();
    for (const { instance, samples } of scrapes) {
      const before = this.lastAnswers.get(instance.id);
      // Keyed "coupon code": an instance's counts of the watched coupons only.
      const counts = new Map<string, number>();
      for (const m of samples) if (couponIds.has(m.labels.coupon_id)) counts.set(`${m.labels.coupon_id} ${m.labels.code ?? 'UNKNOWN'}`, m.value);
      for (const [key, value] of counts) {
        const [coupon, code] = key.split(' ');
        const perCode = rates.get(Number(coupon)) ?? {};
        rates.set(Number(coupon), perCode);
        // A coupon watched since the last tick has no rate yet; one that was watched and whose
        // series is new on this instance started from 0 (answered anew, or the instance is new).
        const inc = before && this.lastWatched.has(coupon) ? increase(value, before.get(key) ?? 0) : 0;
        perCode[code] = (perCode[code] ?? 0) + (seconds > 0 ? inc / seconds : 0);
      }
      next.set(instance.id, counts);
    }
    this.lastAnswers = next;
    this.lastWatched = couponIds;
    for (const perCode of rates.values()) for (const code in perCode) perCode[code] = Math.round(perCode[code] * 10) / 10;
    return rates;
  }

  private latency(scrapes: Array<{ instance: ServiceInstance; samples: MetricSample[] }>, now: number): PlatformReading['latency'] {
    const { latencyRoute: route, latencyWindowSeconds: windowSeconds } = this.settings();
    const window: Buckets = new Map();
    const history = new Map<string, Array<{ at: number; buckets: Buckets }>>();
    for (const { instance, samples } of scrapes) {
      const buckets: Buckets = new Map();
      for (const m of samples) {
        if (m.labels.route !== route) continue;
        const le = m.labels.le === '+Inf' ? Infinity : Number(m.labels.le);
        buckets.set(le, (buckets.get(le) ?? 0) + m.value);
      }
      // The baseline is the newest reading at least a window old (the oldest one while the view is
      // younger than that); older readings are dropped.
      const past = this.latencyHistory.get(instance.id) ?? [];
      const cutoff = now - windowSeconds * 1000;
      let at = 0;
      past.forEach((h, i) => {
        if (h.at <= cutoff) at = i;
      });
      const baseline = past[at];
      // A smaller total than the baseline's: the instance restarted, its window starts over.
      if (baseline && (buckets.get(Infinity) ?? 0) >= (baseline.buckets.get(Infinity) ?? 0)) {
        for (const [le, count] of buckets) window.set(le, (window.get(le) ?? 0) + count - (baseline.buckets.get(le) ?? 0));
      }
      history.set(instance.id, [...past.slice(at), { at: now, buckets }]);
    }
    this.latencyHistory = history;
    const ms = (v: number | null) => (v === null ? null : Math.round(v * 10_000) / 10);
    return { route, windowSeconds, requests: window.get(Infinity) ?? 0, p50Ms: ms(quantileOf(window, 0.5)), p99Ms: ms(quantileOf(window, 0.99)) };
  }
}

function sum(samples: MetricSample[], name: string): number {
  return samples.reduce((n, m) => (m.name === name ? n + m.value : n), 0);
}
