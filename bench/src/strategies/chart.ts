import type { StrategyResult } from './lab';

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * The lab's chart as plain SVG text: per strategy, its req/s (left) and what it got wrong (right:
 * over-issued coupons, and duplicate (coupon, user) pairs), each panel on its own scale.
 */
export function strategyChart(results: ReadonlyArray<StrategyResult & { round?: number }>, caption: string): string {
  const [labelWidth, panelWidth, gap, rowHeight, top] = [170, 300, 110, 34, 64];
  const height = top + results.length * rowHeight + 40;
  const width = labelWidth + 2 * panelWidth + gap + 110;
  const maxRate = Math.max(1, ...results.map((r) => r.reqPerSec));
  const maxWrong = Math.max(1, ...results.map((r) => Math.max(r.overIssued, r.duplicatePairs)));
  const rightX = labelWidth + panelWidth + gap;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${escape(caption)}</text>`,
    `<text x="${labelWidth}" y="50" font-weight="bold">requests/s</text>`,
    `<text x="${rightX}" y="50" font-weight="bold"><tspan fill="#c62828">over-issued</tspan> / <tspan fill="#ef8f00">duplicate pairs</tspan></text>`,
  ];
  results.forEach((r, i) => {
    const y = top + i * rowHeight;
    const rate = (r.reqPerSec / maxRate) * panelWidth;
    const over = (r.overIssued / maxWrong) * panelWidth;
    const dup = (r.duplicatePairs / maxWrong) * panelWidth;
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${escape(r.round && r.round > 1 ? `${r.strategy} (${r.round})` : r.strategy)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${rate.toFixed(1)}" height="18" fill="#1565c0"/>`,
      `<text x="${labelWidth + rate + 5}" y="${y + 17}">${r.reqPerSec.toLocaleString('en-US')}</text>`,
      `<rect x="${rightX}" y="${y + 2}" width="${over.toFixed(1)}" height="11" fill="#c62828"/>`,
      `<rect x="${rightX}" y="${y + 14}" width="${dup.toFixed(1)}" height="11" fill="#ef8f00"/>`,
      `<text x="${rightX + Math.max(over, dup) + 5}" y="${y + 17}">${r.overIssued} / ${r.duplicatePairs}</text>`,
    );
  });
  parts.push(`<line x1="${rightX}" y1="${top - 4}" x2="${rightX}" y2="${top + results.length * rowHeight}" stroke="#999"/>`, '</svg>');
  return parts.join('\n') + '\n';
}
