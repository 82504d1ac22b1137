import uPlot from 'uplot';
import { rate } from './format';
import type { Tick } from './types';

/** The last two minutes at one tick a second. */
const HISTORY = 120;
/** The narrowest time axis, so that the first ticks are not one point spread over the whole width. */
const MIN_SPAN_SECONDS = 5;
const HEIGHT = 220;

// Okabe–Ito colours (told apart with colour-blindness too); refusals are also dashed, and every
// series is named in the legend, so colour is never the only cue.
const ACCEPTED_COLOUR = '#0a6e4f';
const REFUSAL_COLOURS = ['#c0392b', '#8e44ad', '#b36b00', '#1f5fa8', '#444444', '#b8397a'];
const P50_COLOUR = '#1f5fa8';
const P99_COLOUR = '#b36b00';

const fromZero: uPlot.Scale = { range: (_u, _min, max) => [0, Math.max(1, max ?? 0) * 1.1] };
// Wall-clock seconds on one line: uPlot's default two-line date labels overlap on a two-minute axis.
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const timeAxis: uPlot.Axis = { space: 80, values: (_u, splits) => splits.map((s) => clock.format(new Date(s * 1000))) };
// Points while there are few ticks: a line needs two, and a lone reading would draw nothing.
const fewTicks: uPlot.Series.Points = { show: (u: uPlot) => (u.data[0]?.length ?? 0) <= 20 };
const shown = (unit: string) => (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : `${rate(v)} ${unit}`);

/** The two charts of the live view, over the last HISTORY ticks. */
export class LiveCharts {
  private times: number[] = [];
  private accepted: number[] = [];
  /** Per refusal code, one value per tick (0 for the ticks before it was first seen). */
  private refusals = new Map<string, number[]>();
  private p50: (number | null)[] = [];
  private p99: (number | null)[] = [];
  private answers: uPlot | null = null;
  private latency: uPlot | null = null;
  private readonly resize = new ResizeObserver(() => this.fit());
  // The ticks there are, from the first to the last (at most the last two minutes of them), and at
  // least MIN_SPAN_SECONDS: a rush fills the width as it grows instead of sitting at the right edge
  // of a fixed two minutes, and a first tick alone does not widen the axis by years.
  private readonly seenTicks: uPlot.Scale = {
    time: true,
    range: () => {
      const last = this.times.at(-1) ?? 0;
      return [Math.min(this.times[0] ?? last, last - MIN_SPAN_SECONDS), last];
    },
  };

  constructor(
    private readonly answersEl: HTMLElement,
    private readonly latencyEl: HTMLElement,
  ) {
    this.resize.observe(answersEl);
    this.resize.observe(latencyEl);
  }

  push(tick: Tick): void {
    const at = Date.parse(tick.at) / 1000;
    // uPlot needs ascending x: a clock that went back (a restarted console service) starts afresh.
    if (!(at > (this.times.at(-1) ?? -Infinity))) this.clear();
    if (Number.isNaN(at)) return;
    const newCode = this.record(at, tick);
    if (this.answers === null || newCode) this.answers = this.recreate(this.answers, this.answersEl, this.answerOptions());
    if (this.latency === null) this.latency = this.recreate(null, this.latencyEl, this.latencyOptions());
    this.answers.setData([this.times, this.accepted, ...this.refusals.values()]);
    this.latency.setData([this.times, this.p50, this.p99]);
  }

  destroy(): void {
    this.resize.disconnect();
    this.answers?.destroy();
    this.latency?.destroy();
  }

  /** Appends the tick; says whether it brought a refusal code not seen before. */
  private record(at: number, tick: Tick): boolean {
    let newCode = false;
    for (const code of Object.keys(tick.answersPerSecond)) {
      if (code === 'ACCEPTED' || this.refusals.has(code)) continue;
      this.refusals.set(code, new Array<number>(this.times.length).fill(0));
      newCode = true;
    }
    this.times.push(at);
    this.accepted.push(tick.acceptedPerSecond);
    for (const [code, values] of this.refusals) values.push(tick.answersPerSecond[code] ?? 0);
    this.p50.push(tick.latency.p50Ms);
    this.p99.push(tick.latency.p99Ms);
    if (this.times.length > HISTORY) for (const values of [this.times, this.accepted, this.p50, this.p99, ...this.refusals.values()]) values.shift();
    return newCode;
  }

  private clear(): void {
    for (const values of [this.times, this.accepted, this.p50, this.p99, ...this.refusals.values()]) values.length = 0;
  }

  private recreate(old: uPlot | null, el: HTMLElement, opts: uPlot.Options): uPlot {
    old?.destroy();
    return new uPlot(opts, undefined, el);
  }

  private answerOptions(): uPlot.Options {
    const refusals = [...this.refusals.keys()].map((code, i): uPlot.Series => ({
      label: `${code} /s`,
      stroke: REFUSAL_COLOURS[i % REFUSAL_COLOURS.length],
      width: 1.5,
      dash: [6, 3],
      value: shown('/s'),
      points: fewTicks,
    }));
    return {
      width: this.answersEl.clientWidth,
      height: HEIGHT,
      scales: { x: this.seenTicks, y: fromZero },
      axes: [timeAxis, { label: 'answers / s', size: 60 }],
      series: [{}, { label: 'accepted /s (this coupon)', stroke: ACCEPTED_COLOUR, width: 2.5, value: shown('/s'), points: fewTicks }, ...refusals],
    };
  }

  private latencyOptions(): uPlot.Options {
    return {
      width: this.latencyEl.clientWidth,
      height: HEIGHT,
      scales: { x: this.seenTicks, y: fromZero },
      axes: [timeAxis, { label: 'ms', size: 60 }],
      series: [
        {},
        { label: 'p50', stroke: P50_COLOUR, width: 2, value: shown('ms'), points: fewTicks },
        { label: 'p99', stroke: P99_COLOUR, width: 2, dash: [6, 3], value: shown('ms'), points: fewTicks },
      ],
    };
  }

  private fit(): void {
    for (const [chart, el] of [
      [this.answers, this.answersEl],
      [this.latency, this.latencyEl],
    ] as const) {
      if (chart && el.clientWidth > 0 && chart.width !== el.clientWidth) chart.setSize({ width: el.clientWidth, height: HEIGHT });
    }
  }
}
