import type { ServiceInstance } from './discovery';

/** One sample line of the Prometheus text format: its name, labels and value. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * The samples of the metric families asked for (a scrape carries hundreds of lines; only those are
 * kept). Text format 0.0.4, as prom-client writes it: comments skipped, label values unescaped.
 */
export function parseSamples(text: string, families: readonly string[]): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || !families.some((f) => line.startsWith(f))) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (m[2] ?? '').matchAll(LABEL)) labels[key] = raw.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** One instance's samples of those families (from its management port if it has one), or why they could not be read. */
export async function scrapeInstance(instance: ServiceInstance, families: readonly string[], timeoutMs: number): Promise<MetricSample[]> {
  const res = await fetch(`http://${instance.address}:${instance.metricsPort ?? instance.port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${instance.id}: /metrics answered ${res.status}`);
  return parseSamples(await res.text(), families);
}

/** One scrape of each instance: the samples of those it could read, and why each other could not be. */
export async function scrapeEach(
  instances: ServiceInstance[],
  families: readonly string[],
  timeoutMs: number,
): Promise<{ scrapes: Array<{ instance: ServiceInstance; samples: MetricSample[] }>; failures: Array<{ instance: ServiceInstance; reason: string }> }> {
  const results = await Promise.allSettled(instances.map((i) => scrapeInstance(i, families, timeoutMs)));
  const scrapes: Array<{ instance: ServiceInstance; samples: MetricSample[] }> = [];
  const failures: Array<{ instance: ServiceInstance; reason: string }> = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') scrapes.push({ instance: instances[i], samples: r.value });
    else failures.push({ instance: instances[i], reason: (r.reason as Error)?.message ?? String(r.reason) });
  });
  return { scrapes, failures };
}

/** Cumulative bucket counts of one latency histogram, by upper bound in seconds (+Inf included). */
export type Buckets = Map<number, number>;

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

/** The histogram family the gateway times its routes with (the route id in `route`). */
export const GATEWAY_DURATION_BUCKETS = 'http_server_request_duration_seconds_bucket';

/** One route's latency over the last window, summed over the instances that serve it. */
export interface RouteLatency {
  requests: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/**
 * A route's latency over a sliding window, from successive scrapes of its instances' cumulative
 * histograms: per instance, the difference with the newest reading at least `windowSeconds` old
 * (the oldest while it is younger than that); an instance whose total went down restarted, and its
 * window starts over.
 */
export class RouteLatencyWindow {
  private history = new Map<string, Array<{ at: number; buckets: Buckets }>>();

  constructor(
    private readonly route: () => string,
    private readonly windowSeconds: () => number,
  ) {}

  reset(): void {
    this.history.clear();
  }

  observe(scrapes: Array<{ instance: ServiceInstance; samples: MetricSample[] }>, now = Date.now()): RouteLatency {
    const route = this.route();
    const window: Buckets = new Map();
    const history = new Map<string, Array<{ at: number; buckets: Buckets }>>();
    for (const { instance, samples } of scrapes) {
      const buckets: Buckets = new Map();
      for (const m of samples) {
        if (m.name !== GATEWAY_DURATION_BUCKETS || m.labels.route !== route) continue;
        const le = m.labels.le === '+Inf' ? Infinity : Number(m.labels.le);
        buckets.set(le, (buckets.get(le) ?? 0) + m.value);
      }
      const past = this.history.get(instance.id) ?? [];
      const cutoff = now - this.windowSeconds() * 1000;
      let at = 0;
      past.forEach((h, i) => {
        if (h.at <= cutoff) at = i;
      });
      const baseline = past[at];
      if (baseline && (buckets.get(Infinity) ?? 0) >= (baseline.buckets.get(Infinity) ?? 0)) {
        for (const [le, count] of buckets) window.set(le, (window.get(le) ?? 0) + count - (baseline.buckets.get(le) ?? 0));
      }
      history.set(instance.id, [...past.slice(at), { at: now, buckets }]);
    }
    this.history = history;
    const ms = (v: number | null) => (v === null ? null : Math.round(v * 10_000) / 10);
    return { requests: window.get(Infinity) ?? 0, p50Ms: ms(quantileOf(window, 0.5)), p99Ms: ms(quantileOf(window, 0.99)) };
  }
}
