import { captionHeight, escapeXml, formatValue, leftValueAxis, svgDocument, valueScale, type Caption, type PlotArea } from './chart-axes';
import { median } from './rounds';

/** What a bench run's JSON (bench/results/bench-<time>.json) holds that its chart draws. */
export interface BenchRun {
  runId: string;
  options: { users: number; connections: number; duration: number; rounds: number };
  /** One row per phase: issue targets have a workload; redeem and checkout are phases of their own; the consumer has no req/s. */
  results: Array<Record<string, unknown>>;
  problems?: string[];
}

/** One bar: a target's median over the rounds, in one group (a workload, or a phase of its own). */
interface Bar {
  group: string;
  target: string;
  reqPerSec: number;
  p99Ms: number;
}

// One colour per target, the same in every run's chart.
const TARGET_COLOURS: Record<string, string> = {
  gateway: '#1565c0',
  console: '#00838f',
  floor: '#7b1fa2',
  direct: '#2e7d32',
  'issue-floor': '#ef6c00',
  redeem: '#ad1457',
  checkout: '#5d4037',
};
const [LEFT, BAR_WIDTH, GROUP_GAP, PANEL_GAP, PLOT_HEIGHT, LEGEND_HEIGHT, BELOW] = [84, 24, 28, 96, 260, 30, 44];

function barsOf(results: BenchRun['results']): Bar[] {
  const phases = results.filter((r) => typeof r.reqPerSec === 'number' && typeof r.p99Ms === 'number' && typeof r.target === 'string');
  const bars: Bar[] = [];
  for (const r of phases) {
    const group = typeof r.workload === 'string' ? r.workload : (r.target as string);
    if (bars.some((b) => b.group === group && b.target === r.target)) continue;
    const rounds = phases.filter((p) => p.target === r.target && (p.workload ?? p.target) === group);
    bars.push({ group, target: r.target as string, reqPerSec: median(rounds.map((p) => p.reqPerSec as number))!, p99Ms: median(rounds.map((p) => p.p99Ms as number))! });
  }
  return bars;
}

/** The chart's caption, from the run's options and its count checks. */
export function benchCaption(run: BenchRun): Caption {
  const { users, connections, duration, rounds } = run.options;
  return {
    title: `npm run bench, ${run.runId}: throughput and p99 latency per target and workload`,
    notes: [
      `${formatValue(users)} users, ${connections} connections, ${duration} s per target and workload${rounds > 1 ? `, median of ${rounds} rounds` : ''}; ${
        run.problems?.length ? `COUNTS WRONG in ${run.problems.length} checks (the JSON lists them)` : 'every count exact'
      }`,
    ],
  };
}

/**
 * A bench run's results as plain SVG text: per workload (claims, refusals, duplicates) and per
 * phase of its own (redeem, checkout), a bar per target, in two panels on their own scales: req/s
 * on the left, p99 latency in milliseconds on the right. A target run in several rounds shows its
 * median, as the bench's ratios do.
 */
export function resultsChart(run: BenchRun, caption: Caption = benchCaption(run)): string {
  const bars = barsOf(run.results);
  const groups = [...new Set(bars.map((b) => b.group))];
  const targets = [...new Set(bars.map((b) => b.target))];
  // A group of one bar (redeem, checkout) is as wide as its name needs.
  const groupWidth = (group: string) => Math.max(bars.filter((b) => b.group === group).length * BAR_WIDTH, group.length * 8) + GROUP_GAP;
  const panelWidth = groups.reduce((w, g) => w + groupWidth(g), 0);
  const top = captionHeight(caption);
  const plotTop = top + LEGEND_HEIGHT + 24;
  const panels: Array<{ area: PlotArea; value: (b: Bar) => number; title: string; heading: string }> = [
    { area: { left: LEFT, top: plotTop, width: panelWidth, height: PLOT_HEIGHT }, value: (b) => b.reqPerSec, title: 'requests per second (req/s)', heading: 'throughput' },
    { area: { left: LEFT + panelWidth + PANEL_GAP, top: plotTop, width: panelWidth, height: PLOT_HEIGHT }, value: (b) => b.p99Ms, title: 'p99 latency (ms)', heading: 'latency, 99th percentile' },
  ];
  const parts: string[] = [];
  let legendX = 10;
  for (const target of targets) {
    parts.push(`<rect x="${legendX}" y="${top + 6}" width="12" height="12" fill="${TARGET_COLOURS[target] ?? '#757575'}"/>`, `<text x="${legendX + 17}" y="${top + 16}">${escapeXml(target)}</text>`);
    legendX += 30 + target.length * 7;
  }
  const bottom = plotTop + PLOT_HEIGHT;
  for (const { area, value, title, heading } of panels) {
    // Headroom over the tallest bar for its upright value label.
    const scale = valueScale(Math.max(0, ...bars.map(value)) * 1.15);
    parts.push(`<text x="${area.left}" y="${plotTop - 12}" font-weight="bold">${heading}</text>`, ...leftValueAxis(area, scale, title));
    let x = area.left + GROUP_GAP / 2;
    for (const group of groups) {
      const start = x;
      const members = bars.filter((bar) => bar.group === group);
      x += (groupWidth(group) - GROUP_GAP - members.length * BAR_WIDTH) / 2;
      for (const b of members) {
        const height = (value(b) / scale.max) * area.height;
        const labelX = x + BAR_WIDTH / 2 + 4;
        const labelY = bottom - height - 4;
        parts.push(
          `<rect class="bar" x="${x}" y="${(bottom - height).toFixed(1)}" width="${BAR_WIDTH - 2}" height="${height.toFixed(1)}" fill="${TARGET_COLOURS[b.target] ?? '#757575'}"><title>${escapeXml(`${b.target}, ${group}: ${formatValue(value(b))}`)}</title></rect>`,
          // Upright, so that five-digit values over 22-pixel bars do not run into each other.
          `<text x="${labelX}" y="${labelY.toFixed(1)}" font-size="10" transform="rotate(-90 ${labelX} ${labelY.toFixed(1)})">${formatValue(value(b))}</text>`,
        );
        x += BAR_WIDTH;
      }
      x = start + groupWidth(group) - GROUP_GAP;
      parts.push(`<text x="${((start + x) / 2).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${escapeXml(group)}</text>`);
      x += GROUP_GAP;
    }
    parts.push(`<line x1="${area.left}" y1="${bottom}" x2="${area.left + area.width}" y2="${bottom}" stroke="#444"/>`);
  }
  return svgDocument(Math.max(LEFT + 2 * panelWidth + PANEL_GAP + 30, legendX, 760), bottom + BELOW, caption, parts);
}
