// The parts every chart of the bench draws alike, as SVG text: a value scale that ends on a round
// number at or above the largest value, and its axis (line, ticks, labels, grid, a title with the
// unit). No chart library: the bench writes a few bars, and plain SVG opens in any browser and in
// the docs. Axes, their labels and the bars carry a class, so a test can find them.

export const escapeXml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A linear scale from 0: its top (at or above the largest value) and its ticks, 1, 2, 2.5 or 5 × 10ⁿ apart. */
export interface ValueScale {
  max: number;
  ticks: number[];
}

/**
 * A scale for values up to `largest`, with about `count` ticks. `whole` keeps ticks on whole
 * numbers (counts of coupons), so a small largest value gives 0 and 1, not 0, 0.2, 0.4 …
 */
export function valueScale(largest: number, count = 5, whole = false): ValueScale {
  const top = Math.max(largest, whole ? 1 : Number.MIN_VALUE);
  const rough = top / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough)!;
  if (whole) step = Math.max(1, Math.ceil(step));
  const steps = Math.ceil(top / step - 1e-9);
  // toPrecision: 3 × 0.1 is 0.30000000000000004 in floating point.
  const ticks = Array.from({ length: steps + 1 }, (_, i) => Number((i * step).toPrecision(12)));
  return { max: ticks[ticks.length - 1], ticks };
}

export const formatValue = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 1 });

const AXIS = 'stroke="#444"';
const GRID = 'stroke="#e0e0e0"';

/** Where an axis is drawn: the plot area it measures, in SVG units (y grows downward). */
export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * A value axis along the bottom of `area` (for horizontal bars): the line, a tick and label per
 * scale tick, a grid line up through the area, and `title` (which names the unit) under it.
 */
export function bottomValueAxis(area: PlotArea, scale: ValueScale, title: string): string[] {
  const bottom = area.top + area.height;
  const x = (v: number) => area.left + (v / scale.max) * area.width;
  return [
    ...scale.ticks.flatMap((t) => [
      `<line x1="${x(t).toFixed(1)}" y1="${area.top}" x2="${x(t).toFixed(1)}" y2="${bottom}" ${GRID}/>`,
      `<line x1="${x(t).toFixed(1)}" y1="${bottom}" x2="${x(t).toFixed(1)}" y2="${bottom + 5}" ${AXIS}/>`,
      `<text class="tick-label" x="${x(t).toFixed(1)}" y="${bottom + 18}" text-anchor="middle" font-size="11">${formatValue(t)}</text>`,
    ]),
    `<line class="value-axis" x1="${area.left}" y1="${bottom}" x2="${area.left + area.width}" y2="${bottom}" ${AXIS}/>`,
    `<text class="axis-title" x="${area.left + area.width / 2}" y="${bottom + 36}" text-anchor="middle">${escapeXml(title)}</text>`,
  ];
}

/**
 * A value axis along the left of `area` (for vertical bars): the line, a tick and label per scale
 * tick, a grid line across the area, and `title` (which names the unit) turned along it.
 */
export function leftValueAxis(area: PlotArea, scale: ValueScale, title: string): string[] {
  const bottom = area.top + area.height;
  const y = (v: number) => bottom - (v / scale.max) * area.height;
  const titleX = area.left - 58;
  const titleY = area.top + area.height / 2;
  return [
    ...scale.ticks.flatMap((t) => [
      `<line x1="${area.left}" y1="${y(t).toFixed(1)}" x2="${area.left + area.width}" y2="${y(t).toFixed(1)}" ${GRID}/>`,
      `<line x1="${area.left - 5}" y1="${y(t).toFixed(1)}" x2="${area.left}" y2="${y(t).toFixed(1)}" ${AXIS}/>`,
      `<text class="tick-label" x="${area.left - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${formatValue(t)}</text>`,
    ]),
    `<line class="value-axis" x1="${area.left}" y1="${area.top}" x2="${area.left}" y2="${bottom}" ${AXIS}/>`,
    `<text class="axis-title" x="${titleX}" y="${titleY}" text-anchor="middle" transform="rotate(-90 ${titleX} ${titleY})">${escapeXml(title)}</text>`,
  ];
}

/** A chart's caption: what was measured, and lines of with what (and where the numbers come from). */
export interface Caption {
  title: string;
  notes: string[];
}

/** Room a chart leaves on top for its caption. */
export const captionHeight = (caption: Caption) => 30 + 16 * caption.notes.length;

/** The SVG document around a chart's parts: white ground, its caption on top. */
export function svgDocument(width: number, height: number, caption: Caption, parts: string[]): string {
  return (
    [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
      `<rect width="${width}" height="${height}" fill="#fff"/>`,
      `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(caption.title)}</text>`,
      ...caption.notes.map((note, i) => `<text x="10" y="${38 + 16 * i}" font-size="12" fill="#555">${escapeXml(note)}</text>`),
      ...parts,
      '</svg>',
    ].join('\n') + '\n'
  );
}
