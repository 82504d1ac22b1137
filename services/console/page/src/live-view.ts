import { asProblem, type Problem } from './api';
import { LiveCharts } from './charts';
import { stateBadge } from './coupon-list';
import { h, setText, showProblem } from './dom';
import { timeEl } from './format';
import { liveFigures } from './live-figures';
import { followCoupon, type StreamStatus } from './stream';
import type { Tick } from './types';
import type { View } from './view';

const STATUS_TEXT: Record<StreamStatus | 'stopped', string> = { live: 'live', reconnecting: 'reconnecting…', stopped: 'stopped' };

/** One coupon, live: its figures and charts from the tick stream, which stops when the view is left. */
export function liveView(couponId: number, back: () => void): View {
  const stop = new AbortController();
  const heading = h('h2', { id: 'live-title', tabindex: -1 }, `Coupon #${couponId}`);
  const state = h('span');
  const issueWindow = h('span', { class: 'window' });
  const status = h('span', { class: 'stream-status reconnecting', 'data-testid': 'stream-status', role: 'status' }, STATUS_TEXT.reconnecting);
  const problem = h('p', { class: 'problem', role: 'alert', hidden: true });
  const backButton = h('button', { type: 'button', class: 'secondary' }, h('span', { 'aria-hidden': 'true' }, '← '), 'Back to coupons');
  backButton.addEventListener('click', back);
  const figures = liveFigures();
  const answersChart = h('div', { class: 'chart' });
  const latencyChart = h('div', { class: 'chart' });
  const charts = new LiveCharts(answersChart, latencyChart);

  const el = h(
    'section',
    { class: 'live', 'data-testid': 'live-view', 'data-coupon-id': couponId, 'aria-labelledby': 'live-title' },
    h(
      'header',
      { class: 'live-head' },
      h('div', {}, backButton),
      h('div', { class: 'live-title' }, heading, h('p', { class: 'meta' }, state, ' ', issueWindow)),
      h('p', { class: 'stream' }, 'Stream: ', status),
    ),
    problem,
    figures.el,
    h(
      'div',
      { class: 'charts' },
      h(
        'section',
        { class: 'chart-card' },
        h('h3', {}, 'Answers per second'),
        h('p', { class: 'hint' }, 'Accepted claims and refusals by code, this coupon, since the view opened (the last 120 ticks at most).'),
        answersChart,
      ),
      h(
        'section',
        { class: 'chart-card' },
        h('h3', {}, 'Gateway latency'),
        h('p', { class: 'hint' }, 'coupon-issue route, p50 and p99 in ms, since the view opened (the last 120 ticks at most).'),
        latencyChart,
      ),
    ),
  );

  let shownProblem = '';
  let header = '';
  function showHeader(c: Tick['coupon']): void {
    const key = [c.title, c.state, c.issueStartAt, c.issueEndAt].join('|');
    if (key === header) return;
    header = key;
    setText(heading, `${c.title} (#${c.id})`);
    state.replaceChildren(stateBadge(c.state));
    issueWindow.replaceChildren('Window ', timeEl(c.issueStartAt), ' – ', timeEl(c.issueEndAt));
  }
  function showStatus(s: StreamStatus | 'stopped'): void {
    setText(status, STATUS_TEXT[s]);
    status.className = `stream-status ${s}`;
  }

  followCoupon(
    couponId,
    {
      tick(tick) {
        showHeader(tick.coupon);
        figures.show(tick);
        charts.push(tick);
      },
      status: showStatus,
      problem(p: Problem | null, retrying: boolean) {
        const key = p ? `${p.code}|${p.detail}|${retrying}` : '';
        if (key === shownProblem) return;
        shownProblem = key;
        showProblem(problem, p, retrying ? 'Stream interrupted, retrying: ' : 'Stream stopped: ');
        if (p && !retrying) showStatus('stopped');
      },
    },
    stop.signal,
  ).catch((err: unknown) => showProblem(problem, asProblem(err), 'Stream stopped: '));

  return {
    el,
    focus: heading,
    unmount() {
      stop.abort();
      charts.destroy();
    },
  };
}
