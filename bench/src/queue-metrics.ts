/**
 * The queue target's arithmetic, kept pure for its unit tests: the burst's schedule, what the
 * generator really sent when, latency percentiles, and how far an order of winners is from the
 * order of arrival.
 */

/** Planned join instants (ms after the burst's start) of `users` users spread evenly over `burstMs`. */
export function burstSchedule(users: number, burstMs: number): number[] {
  return Array.from({ length: users }, (_, i) => (users <= 1 ? 0 : (i * burstMs) / users));
}

/** Nearest-rank percentile of ascending values (undefined for none). */
export function percentile(sorted: number[], p: number): number | undefined {
  return sorted.length === 0 ? undefined : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round1 = (x: number | undefined) => (x === undefined ? undefined : Math.round(x * 10) / 10);

export interface LatencySummary {
  count: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  maxMs?: number;
}

/** p50/p95/p99/max of durations in ms. */
export function latencySummary(durationsMs: number[]): LatencySummary {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: round1(percentile(sorted, 50)), p95Ms: round1(percentile(sorted, 95)), p99Ms: round1(percentile(sorted, 99)), maxMs: round1(sorted[sorted.length - 1]) };
}

/** Ranks 1..n of values, ties given their average rank. */
export function ranks(values: number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k][1]] = rank;
    i = j + 1;
  }
  return out;
}

/** Spearman's rank correlation of paired values (Pearson's on their ranks, ties averaged); undefined below two pairs or without spread. */
export function spearman(xs: number[], ys: number[]): number | undefined {
  if (xs.length !== ys.length) throw new Error('spearman: the two series differ in length');
  const n = xs.length;
  if (n < 2) return undefined;
  const [rx, ry] = [ranks(xs), ranks(ys)];
  const mean = (n + 1) / 2;
  let [sxy, sxx, syy] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const [dx, dy] = [rx[i] - mean, ry[i] - mean];
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? undefined : Math.round((sxy / Math.sqrt(sxx * syy)) * 1000) / 1000;
}

/**
 * How far the winners are from a first-come-first-served order: with `arrivals` the instant each user
 * arrived and `won` whether that user won, how many winners were among the first `won` arrivals
 * (all of them when the order is kept), the latest arrival rank a winner had, and how many users
 * who arrived among the first were left without one.
 */
export function winnersVersusArrivals(arrivals: number[], won: boolean[]): { winners: number; winnersAmongFirstArrivals: number; latestWinnerArrivalRank?: number; firstArrivalsWithout: number } {
  const order = arrivals.map((t, i) => [t, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const winners = won.filter(Boolean).length;
  let among = 0;
  let latest: number | undefined;
  order.forEach(([, user], rank) => {
    if (!won[user]) return;
    if (rank < winners) among++;
    latest = rank + 1;
  });
  return { winners, winnersAmongFirstArrivals: among, latestWinnerArrivalRank: latest, firstArrivalsWithout: winners - among };
}

export interface SendSpread {
  /** How many requests the schedule planned, and how many went out. */
  planned: number;
  sent: number;
  /** Planned and actual first and last instants, ms after the burst's start. */
  plannedFirstMs?: number;
  plannedLastMs?: number;
  sentFirstMs?: number;
  sentLastMs?: number;
  /** Sent within the planned window (by its last planned instant plus 10 ms). */
  sentWithinPlannedWindow: number;
  /** Lateness of the actual write behind the plan: p50/p95/p99/max. */
  lateness: LatencySummary;
  /** Writes per 100 ms slot after the burst's start (slot i: [100 i, 100 i + 100) ms). */
  sentPer100Ms: number[];
}

/** What a generator really sent against what it planned: `sent[i]` undefined when request i never went out. */
export function sendSpread(planned: number[], sent: Array<number | undefined>): SendSpread {
  const pairs = planned.map((p, i) => [p, sent[i]] as const).filter((x): x is readonly [number, number] => x[1] !== undefined);
  const sentTimes = pairs.map(([, s]) => s).sort((a, b) => a - b);
  const plannedSorted = [...planned].sort((a, b) => a - b);
  const window = (plannedSorted[plannedSorted.length - 1] ?? 0) + 10;
  const slots: number[] = [];
  for (const s of sentTimes) {
    const slot = Math.max(0, Math.floor(s / 100));
    while (slots.length <= slot) slots.push(0);
    slots[slot]++;
  }
  return {
    planned: planned.length,
    sent: pairs.length,
    plannedFirstMs: round1(plannedSorted[0]),
    plannedLastMs: round1(plannedSorted[plannedSorted.length - 1]),
    sentFirstMs: round1(sentTimes[0]),
    sentLastMs: round1(sentTimes[sentTimes.length - 1]),
    sentWithinPlannedWindow: sentTimes.filter((s) => s <= window).length,
    lateness: latencySummary(pairs.map(([p, s]) => Math.max(0, s - p))),
    sentPer100Ms: slots,
  };
}

/** Counts of values. */
export function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
