/** One sample of a CSV JTL written with jmeter/results.properties. */
export interface Sample {
  label: string;
  timeStamp: number;
  elapsed: number;
  responseCode: string;
  success: boolean;
  failureMessage: string;
  userId: string;
  problemCode: string;
}

export interface JtlSummary {
  samples: number;
  throughputPerSec: number;
  averageMs: number;
  medianMs: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  stdDevMs: number;
  errors: number;
  errorPct: number;
  /** By problem code for refusals, '202' for acceptances, the response code (or JMeter's message) otherwise. */
  outcomes: Record<string, number>;
  durationMs: number;
}

/** RFC 4180 records: JMeter quotes a field holding the delimiter, a quote or a line break. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

export function readJtl(text: string): Sample[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`JTL has no ${name} column (header: ${header.join(',')})`);
    return i;
  };
  const [label, ts, elapsed, code, success, failure, userId, problemCode] = ['label', 'timeStamp', 'elapsed', 'responseCode', 'success', 'failureMessage', 'userId', 'problemCode'].map(col);
  return rows.map((r) => ({
    label: r[label],
    timeStamp: Number(r[ts]),
    elapsed: Number(r[elapsed]),
    responseCode: r[code],
    success: r[success] === 'true',
    failureMessage: r[failure] ?? '',
    userId: r[userId] ?? '',
    problemCode: r[problemCode] ?? '',
  }));
}

export function outcomeOf(s: Sample): string {
  if (s.responseCode === '202') return '202';
  return s.problemCode || s.responseCode;
}

/** Nearest-rank percentile of ascending values. */
function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The figures of JMeter's Summary Report (throughput over first start to last end), plus percentiles and outcomes. */
export function summarize(samples: Sample[]): JtlSummary {
  const n = samples.length;
  const times = samples.map((s) => s.elapsed).sort((a, b) => a - b);
  const start = samples.reduce((m, s) => Math.min(m, s.timeStamp), Infinity);
  const end = samples.reduce((m, s) => Math.max(m, s.timeStamp + s.elapsed), -Infinity);
  const mean = n === 0 ? 0 : times.reduce((a, b) => a + b, 0) / n;
  const variance = n === 0 ? 0 : times.reduce((a, t) => a + (t - mean) ** 2, 0) / n;
  const errors = samples.filter((s) => !s.success).length;
  const outcomes: Record<string, number> = {};
  for (const s of samples) outcomes[outcomeOf(s)] = (outcomes[outcomeOf(s)] ?? 0) + 1;
  const durationMs = n === 0 ? 0 : end - start;
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    samples: n,
    throughputPerSec: durationMs > 0 ? round(n / (durationMs / 1000)) : 0,
    averageMs: round(mean),
    medianMs: percentile(times, 50),
    p90Ms: percentile(times, 90),
    p95Ms: percentile(times, 95),
    p99Ms: percentile(times, 99),
    minMs: times[0] ?? 0,
    maxMs: times[n - 1] ?? 0,
    stdDevMs: round(Math.sqrt(variance)),
    errors,
    errorPct: n === 0 ? 0 : round((errors / n) * 100),
    outcomes,
    durationMs,
  };
}
