import { GATEWAY_DURATION_BUCKETS, RouteLatencyWindow, scrapeEach, type MetricSample, type ServiceDirectory, type ServiceInstance } from '@coupon-rush/platform';
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
const GATEWAY_FAMILIES = [GATEWAY_DURATION_BUCKETS];
const COUPON_FAMILIES = ['coupon_consumer_lag', 'coupon_events_dead_lettered_total'];

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
  private readonly latencyWindow: RouteLatencyWindow;

  constructor(
    private readonly directory: ServiceDirectory,
    private readonly settings: () => LiveSettings,
    private readonly serviceSuffix: string,
    private readonly scraped: (instances: number) => void = () => {},
  ) {
    this.latencyWindow = new RouteLatencyWindow(
      () => settings().latencyRoute,
      () => settings().latencyWindowSeconds,
    );
  }

  private async scrapeAll(service: string, families: readonly string[], errors: string[]): Promise<Array<{ instance: ServiceInstance; samples: MetricSample[] }>> {
    const instances = this.directory.known(service + this.serviceSuffix);
    this.scraped(instances.length);
    const { scrapes, failures } = await scrapeEach(instances, families, this.settings().scrapeTimeoutMs);
    for (const f of failures) errors.push(`${service} ${f.instance.address}:${f.instance.port}: ${f.reason}`);
    return scrapes;
  }

  /** Forgets the previous readings: after an idle spell, rates and quantiles start afresh. */
  reset(): void {
    this.lastAnswers.clear();
    this.lastWatched = new Set();
    this.lastAt = 0;
    this.latencyWindow.reset();
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
    return { route, windowSeconds, ...this.latencyWindow.observe(scrapes, now) };
  }
}

function sum(samples: MetricSample[], name: string): number {
  return samples.reduce((n, m) => (m.name === name ? n + m.value : n), 0);
}
