import { h, setText, syncRows } from './dom';
import { count, rate } from './format';
import type { Tick } from './types';

/** How often at most the stock line is read out: every tick would drown a screen reader mid-rush. */
const ANNOUNCE_EVERY_MS = 10_000;

const value = (testid: string) => h('span', { class: 'value', 'data-testid': testid }, '–');
const card = (title: string, ...body: (Node | string)[]) => h('section', { class: 'card' }, h('h3', {}, title), ...body);
const pair = (term: string, el: HTMLElement, unit = '') => [h('dt', {}, term), h('dd', {}, el, unit && h('span', { class: 'unit' }, unit))];

/** A latency figure; "n/a" (no request in the window) goes without its unit. */
function showMs(el: HTMLElement, ms: number | null): void {
  setText(el, rate(ms));
  const unit = el.nextElementSibling;
  if (unit instanceof HTMLElement) unit.hidden = ms === null;
}

/** Rows and claims that disagree: by user once compared (equal counts, different users), else by count. */
function outOfStep(r: Tick['reconciliation']): string {
  if (r.claimsWithoutRow === null || r.rowsWithoutClaim === null) return 'out of step';
  return `out of step: ${r.claimsWithoutRow} ${r.claimsWithoutRow === 1 ? 'claim' : 'claims'} without a row, ${r.rowsWithoutClaim} ${r.rowsWithoutClaim === 1 ? 'row' : 'rows'} without a claim`;
}

/** The live figures of one coupon: built once, then rewritten from each tick. */
export function liveFigures(): { el: HTMLElement; show(tick: Tick): void } {
  const remaining = value('remaining');
  const of = h('span', { class: 'of' });
  const soldOut = h('span', { class: 'badge badge-alert', hidden: true }, 'sold out');
  const claimed = value('claimed');
  const fill = h('div', { class: 'fill' });
  const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-label': 'Claimed of the quantity', 'aria-valuemin': 0 }, fill);
  const perSecond = value('accepted-per-second');
  const rows = value('rows');
  const accepted = value('accepted');
  const pending = value('pending');
  const revoked = h('span', { class: 'value' }, '–');
  const recon = value('reconciliation-state');
  const reconIcon = h('span', { class: 'icon', 'aria-hidden': 'true' });
  const reconLine = h('p', { class: 'recon' }, reconIcon, ' ', recon);
  const lag = value('lag');
  const dlt = value('dead-lettered');
  const issued = value('usage-issued');
  const used = value('usage-used');
  const expired = value('usage-expired');
  const usable = value('usage-usable');
  const waiting = value('queue-waiting');
  const admitted = value('queue-admitted-per-second');
  const lastWait = value('queue-last-wait');
  const passesOut = value('queue-passes-out');
  const abandoned = value('queue-abandoned');
  const queueCard = card(
    'Waiting room',
    h(
      'dl',
      {},
      ...pair('Waiting', waiting),
      ...pair('Admitted', admitted, ' /s'),
      ...pair('Last in line waits', lastWait, ' s'),
      ...pair('Passes out', passesOut),
      ...pair('Passes lapsed', abandoned),
    ),
    h('p', { class: 'hint' }, 'Users in line (and in the pre-queue before the start), and how fast the room lets them claim.'),
  );
  const p50 = value('p50');
  const p99 = value('p99');
  const latencyNote = h('p', { class: 'hint' });
  const announcer = h('p', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const instances = h('tbody');
  const sourceErrors = h('p', { class: 'source-errors', hidden: true });

  const el = h(
    'div',
    { class: 'figures' },
    announcer,
    h(
      'div',
      { class: 'cards' },
      card('Remaining stock', h('p', { class: 'big' }, remaining, ' ', of, ' ', soldOut), bar, h('p', {}, claimed, ' claimed')),
      card('Accepted per second', h('p', { class: 'big' }, perSecond, h('span', { class: 'unit' }, ' /s')), h('p', { class: 'hint' }, 'New claims of this coupon.')),
      card('Persisted', h('dl', {}, ...pair('Rows in MySQL', rows), ...pair('202s answered', accepted), ...pair('Pending', pending), ...pair('Revoked', revoked)), reconLine),
      card('Pipeline', h('dl', {}, ...pair('Consumer lag', lag), ...pair('Dead-lettered', dlt)), h('p', { class: 'hint' }, 'Issue events not yet persisted, and those sent to the dead-letter topic.')),
      queueCard,
      card(
        'After the claim',
        h('dl', {}, ...pair('Issued', issued), ...pair('Used', used), ...pair('Expired', expired), ...pair('Usable', usable)),
        h('p', { class: 'hint' }, 'Persisted coupons by what became of them, counted every few seconds.'),
      ),
      card('Gateway latency', h('dl', {}, ...pair('p50', p50, ' ms'), ...pair('p99', p99, ' ms')), latencyNote),
      card(
        'Instances in rotation',
        h(
          'table',
          {},
          h('caption', { class: 'sr-only' }, 'Instances in rotation per service'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Service'), h('th', { scope: 'col', class: 'num' }, 'Instances'))),
          instances,
        ),
      ),
    ),
    sourceErrors,
  );

  let announcedAt = 0;
  let announced = '';
  function announce(text: string, urgent: boolean): void {
    if (text === announced || (!urgent && Date.now() - announcedAt < ANNOUNCE_EVERY_MS)) return;
    announced = text;
    announcedAt = Date.now();
    announcer.textContent = text;
  }

  function show(tick: Tick): void {
    const { totalQuantity: total } = tick.coupon;
    const { claimed: taken, remaining: left } = tick.stock;
    const unlimited = left === null;
    setText(remaining, unlimited ? 'unlimited' : String(left));
    remaining.classList.toggle('word', unlimited);
    setText(of, unlimited || total === null ? '' : `of ${total}`);
    soldOut.hidden = left !== 0;
    setText(claimed, String(taken));
    bar.hidden = total === null;
    if (total !== null) {
      bar.setAttribute('aria-valuemax', String(total));
      bar.setAttribute('aria-valuenow', String(taken));
      bar.setAttribute('aria-valuetext', `${taken} of ${total} claimed`);
      fill.style.width = `${Math.min(100, (taken / Math.max(1, total)) * 100)}%`;
    }
    announce(unlimited ? `${taken} claimed, unlimited stock` : left === 0 ? `Sold out: ${taken} claimed` : `${left} of ${total ?? '?'} remaining`, left === 0);

    setText(perSecond, rate(tick.acceptedPerSecond));
    const r = tick.reconciliation;
    setText(rows, String(r.rows));
    setText(accepted, String(r.accepted));
    setText(pending, String(r.pending));
    setText(revoked, String(r.revoked));
    // "N in flight": 202s answered whose row the consumer has not written yet, normal mid-rush.
    // Equal counts are "in step" only once the users compared agree too.
    const comparing = r.pending === 0 && r.claimsWithoutRow === null;
    const busy = !r.consistent && (r.pending > 0 || comparing);
    setText(recon, r.consistent ? 'in step' : r.pending > 0 ? `${r.pending} in flight` : comparing ? 'comparing users' : outOfStep(r));
    setText(reconIcon, r.consistent ? '✓' : busy ? '↻' : '⚠');
    reconLine.className = `recon ${r.consistent ? 'ok' : busy ? 'busy' : 'alert'}`;

    setText(lag, count(tick.consumer.lag));
    setText(dlt, count(tick.deadLettered));
    dlt.closest('dd')?.classList.toggle('alert', (tick.deadLettered ?? 0) > 0);
    const q = tick.queue;
    queueCard.hidden = q === null;
    if (q) {
      setText(waiting, String(q.waiting + q.preQueue));
      setText(admitted, rate(q.admittedPerSecond));
      setText(lastWait, count(q.lastInLineWaitSeconds));
      setText(passesOut, String(q.passesOut));
      setText(abandoned, String(q.abandoned));
    }
    const u = tick.usage;
    setText(issued, count(u?.issued ?? null));
    setText(used, count(u?.used ?? null));
    setText(expired, count(u?.expired ?? null));
    setText(usable, count(u?.usable ?? null));
    showMs(p50, tick.latency.p50Ms);
    showMs(p99, tick.latency.p99Ms);
    setText(latencyNote, `Route ${tick.latency.route}, last ${tick.latency.windowSeconds} s: ${tick.latency.requests} requests.`);

    syncRows(
      instances,
      tick.instances,
      (i) => i.service,
      () => h('tr', {}, h('th', { scope: 'row' }), h('td', { class: 'num' })),
      (row, i) => {
        setText(row.cells[0], i.service);
        setText(row.cells[1], String(i.inRotation));
        row.classList.toggle('alert', i.inRotation === 0);
      },
    );
    sourceErrors.hidden = tick.errors.length === 0;
    setText(sourceErrors, tick.errors.length === 0 ? '' : `Not read this tick: ${tick.errors.join('; ')}`);
  }

  return { el, show };
}
