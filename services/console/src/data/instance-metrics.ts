import type { ServiceInstance } from '@coupon-rush/platform';

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
