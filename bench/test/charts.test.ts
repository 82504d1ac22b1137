import { expect } from 'chai';
import { valueScale } from '../src/chart-axes';
import { resultsChart, type BenchRun } from '../src/results-chart';
import { strategyChart, type ChartedStrategy } from '../src/strategies/chart';

/** The attributes of every element of `svg` with class `name`, and its text for a <text>. */
function elements(svg: string, name: string): Array<Record<string, string> & { text: string }> {
  return [...svg.matchAll(new RegExp(`<(\\w+) class="${name}"([^>]*?)/?>(?:([^<]*)</\\1>)?`, 'g'))].map((m) => ({
    ...Object.fromEntries([...m[2].matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
    text: m[3] ?? '',
  }));
}

const tickValues = (svg: string) => elements(svg, 'tick-label').map((t) => Number(t.text.replace(/,/g, '')));
const n = (value: string) => Number(value);

/** The lab's strategies with documented-looking numbers: the largest rate is not a round one. */
const STRATEGIES: ChartedStrategy[] = [
  { strategy: 'no-lock', reqPerSec: 164, overIssued: 1439, duplicatePairs: 818 },
  { strategy: 'redis-incr-sadd', reqPerSec: 3570, overIssued: 0, duplicatePairs: 98 },
  { strategy: 'lua-kafka', reqPerSec: 9961, overIssued: 0, duplicatePairs: 0 },
];

/** A bench run of two rounds: the chart draws each target's median. */
const RUN: BenchRun = {
  runId: 'test',
  options: { users: 20000, connections: 64, duration: 10, rounds: 2 },
  results: [
    { round: 1, target: 'gateway', workload: 'claims', reqPerSec: 479, p99Ms: 206.355 },
    { round: 1, target: 'direct', workload: 'claims', reqPerSec: 987, p99Ms: 145.059 },
    { round: 1, target: 'gateway', workload: 'refusals', reqPerSec: 2751, p99Ms: 54.034 },
    { round: 1, target: 'direct', workload: 'refusals', reqPerSec: 15407, p99Ms: 16.468 },
    { round: 2, target: 'gateway', workload: 'claims', reqPerSec: 521, p99Ms: 190 },
    { round: 2, target: 'direct', workload: 'claims', reqPerSec: 1013, p99Ms: 150 },
    { round: 2, target: 'gateway', workload: 'refusals', reqPerSec: 2749, p99Ms: 60 },
    { round: 2, target: 'direct', workload: 'refusals', reqPerSec: 15000, p99Ms: 17 },
    { target: 'redeem', reqPerSec: 1424, p99Ms: 89 },
    { target: 'consumer', requests: 50000, rowsPerSec: 25189 },
  ],
  problems: [],
};

describe('the bench’s charts: axes with ticks and units, on scales that hold every value', () => {
  it('when a scale is made for a largest value, then it starts at 0, ends at or above it, on evenly spaced round ticks', () => {
    for (const largest of [0.3, 1, 7, 46, 100, 999, 1000, 9961, 15407, 1_234_567]) {
      const { max, ticks } = valueScale(largest);
      expect(ticks[0], `${largest}`).to.equal(0);
      expect(max, `${largest}`).to.be.at.least(largest);
      expect(max, `${largest}: no more than a step above`).to.be.below(largest + ticks[1]);
      expect(ticks.length, `${largest}: ${ticks.join(' ')}`).to.be.within(3, 11);
      const step = ticks[1];
      expect(step / 10 ** Math.floor(Math.log10(step)), `${largest}: step ${step}`).to.be.oneOf([1, 2, 2.5, 5]);
      ticks.forEach((t, i) => expect(t).to.be.closeTo(i * step, step * 1e-9));
    }
  });

  it('when a scale counts whole things, then its ticks are whole numbers, 0 and 1 when nothing went wrong', () => {
    expect(valueScale(0, 5, true).ticks).to.deep.equal([0, 1]);
    expect(valueScale(3, 5, true).ticks).to.deep.equal([0, 1, 2, 3]);
    for (const t of valueScale(1439, 5, true).ticks) expect(Number.isInteger(t)).to.equal(true);
  });

  it('when the strategy lab is drawn, then both panels have a value axis with ticks and its unit, and every bar ends within its axis', () => {
    const svg = strategyChart(STRATEGIES, { title: 'Strategy lab', notes: ['test'] });
    expect(elements(svg, 'axis-title').map((t) => t.text)).to.deep.equal(['requests per second (req/s)', 'count (coupons, pairs)']);
    const axes = elements(svg, 'value-axis');
    expect(axes).to.have.length(2);
    const ticks = tickValues(svg);
    expect(ticks.filter((t) => t === 0)).to.have.length(2);
    expect(Math.max(...ticks)).to.be.at.least(9961);
    const bars = elements(svg, 'bar');
    expect(bars).to.have.length(3 * STRATEGIES.length);
    for (const bar of bars) {
      const axis = axes.find((a) => n(a.x1) === n(bar.x))!;
      expect(axis, `a bar at x=${bar.x} starts on an axis`).to.exist;
      expect(n(bar.x) + n(bar.width)).to.be.at.most(n(axis.x2));
    }
    const widest = Math.max(...bars.map((b) => n(b.width)));
    expect(widest, 'the largest value fills most of its panel').to.be.above(0.6 * (n(axes[0].x2) - n(axes[0].x1)));
  });

  it('when a bench run is drawn, then req/s and p99 have each a value axis with ticks and its unit, a bar per target and workload at the median of the rounds, every bar under its axis top', () => {
    const svg = resultsChart(RUN);
    expect(elements(svg, 'axis-title').map((t) => t.text)).to.deep.equal(['requests per second (req/s)', 'p99 latency (ms)']);
    expect(svg).to.include('median of 2 rounds');
    const ticks = tickValues(svg);
    expect(Math.max(...ticks), 'the req/s scale holds the largest median').to.be.at.least(15204);
    const axes = elements(svg, 'value-axis');
    expect(axes).to.have.length(2);
    const bars = elements(svg, 'bar');
    // gateway and direct under claims and refusals, and redeem on its own, in each panel; no consumer bar.
    expect(bars).to.have.length(2 * 5);
    for (const bar of bars) {
      expect(n(bar.y), 'within the plot').to.be.at.least(n(axes[0].y1));
      expect(n(bar.y) + n(bar.height)).to.be.closeTo(n(axes[0].y2), 0.1);
    }
    expect(svg).to.include('<title>direct, refusals: 15,204</title>');
    expect(svg, 'p99 of 206.355 and 190 ms').to.include('<title>gateway, claims: 198</title>');
  });
});
