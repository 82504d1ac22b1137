import { bottomValueAxis, captionHeight, escapeXml, formatValue, svgDocument, valueScale, type Caption, type PlotArea } from '../chart-axes';
import type { StrategyResult } from './lab';

/** What the chart draws of a strategy's result (a run's JSON has more). */
export type ChartedStrategy = Pick<StrategyResult, 'strategy' | 'reqPerSec' | 'overIssued' | 'duplicatePairs'> & { round?: number };

/** What a strategy-lab run's JSON (bench/results/strategies-<time>.json) says of how it ran. */
export interface StrategyRun {
  runId: string;
  options: { users: number; quantity: number; connections: number; duration: number };
  problems?: string[];
  /** Where the numbers come from, when they are not a run's own JSON. */
  source?: string;
}

/** The chart's caption from the run's options (and the source of its numbers, when given). */
export function strategyCaption(run: StrategyRun): Caption {
  const { users, quantity, connections, duration } = run.options;
  const counted = run.problems?.length ? `COUNTS WRONG in ${run.problems.length} checks` : 'the platform’s strategies exact';
  return {
    title: `Strategy lab, ${run.runId}: throughput, and what each strategy got wrong`,
    notes: [
      `${formatValue(users)} users (each claim twice at once), quantity ${formatValue(quantity)}, ${connections} connections over 2 instances, ${duration} s each; ${counted}`,
      ...(run.source ? [run.source] : []),
    ],
  };
}

const [LABEL_WIDTH, PANEL_WIDTH, GAP, ROW_HEIGHT, LEGEND_HEIGHT, AXIS_HEIGHT] = [190, 300, 60, 34, 26, 48];
const RATE = '#1565c0';
const OVER_ISSUED = '#c62828';
const DUPLICATES = '#ef8f00';

/**
 * The lab's chart as plain SVG text: per strategy, its req/s (left panel) and what it got wrong
 * (right panel: coupons over the quantity, and (coupon, user) pairs held twice), each panel on its
 * own scale, with its axis and unit under it.
 */
export function strategyChart(results: readonly ChartedStrategy[], caption: Caption): string {
  const plotTop = captionHeight(caption) + LEGEND_HEIGHT;
  const rates: PlotArea = { left: LABEL_WIDTH, top: plotTop, width: PANEL_WIDTH, height: results.length * ROW_HEIGHT };
  const wrongs: PlotArea = { ...rates, left: LABEL_WIDTH + PANEL_WIDTH + GAP };
  const rateScale = valueScale(Math.max(0, ...results.map((r) => r.reqPerSec)));
  const wrongScale = valueScale(Math.max(0, ...results.map((r) => Math.max(r.overIssued, r.duplicatePairs))), 5, true);
  const bar = (area: PlotArea, max: number, value: number) => (value / max) * area.width;
  const parts = [
    `<text x="${rates.left}" y="${plotTop - 10}" font-weight="bold" fill="${RATE}">throughput</text>`,
    `<text x="${wrongs.left}" y="${plotTop - 10}" font-weight="bold"><tspan fill="${OVER_ISSUED}">■ over-issued coupons</tspan>  <tspan fill="${DUPLICATES}">■ duplicate (coupon, user) pairs</tspan></text>`,
    ...bottomValueAxis(rates, rateScale, 'requests per second (req/s)'),
    ...bottomValueAxis(wrongs, wrongScale, 'count (coupons, pairs)'),
  ];
  results.forEach((r, i) => {
    const y = plotTop + i * ROW_HEIGHT;
    const rate = bar(rates, rateScale.max, r.reqPerSec);
    const over = bar(wrongs, wrongScale.max, r.overIssued);
    const dup = bar(wrongs, wrongScale.max, r.duplicatePairs);
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + 21}" text-anchor="end">${escapeXml(r.round && r.round > 1 ? `${r.strategy} (${r.round})` : r.strategy)}</text>`,
      `<rect class="bar" x="${rates.left}" y="${y + 8}" width="${rate.toFixed(1)}" height="18" fill="${RATE}"/>`,
      `<text x="${(rates.left + rate + 5).toFixed(1)}" y="${y + 21}" font-size="12">${formatValue(r.reqPerSec)}</text>`,
      `<rect class="bar" x="${wrongs.left}" y="${y + 5}" width="${over.toFixed(1)}" height="11" fill="${OVER_ISSUED}"/>`,
      `<rect class="bar" x="${wrongs.left}" y="${y + 18}" width="${dup.toFixed(1)}" height="11" fill="${DUPLICATES}"/>`,
      `<text x="${(wrongs.left + Math.max(over, dup) + 5).toFixed(1)}" y="${y + 21}" font-size="12">${formatValue(r.overIssued)} / ${formatValue(r.duplicatePairs)}</text>`,
    );
  });
  // The category axis: one line down the left of each panel, where the bars start.
  for (const area of [rates, wrongs]) parts.push(`<line x1="${area.left}" y1="${area.top}" x2="${area.left}" y2="${area.top + area.height}" stroke="#444"/>`);
  return svgDocument(wrongs.left + PANEL_WIDTH + 90, plotTop + rates.height + AXIS_HEIGHT, caption, parts);
}
