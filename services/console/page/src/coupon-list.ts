import { asProblem, isAbort, listCoupons } from './api';
import { h, setText, showProblem, srOnly, syncRows } from './dom';
import { count, timeEl } from './format';
import type { CouponSummary } from './types';

const REFRESH_MS = 5000;

export const stateBadge = (state: string) => h('span', { class: `state state-${state}` }, state);

/**
 * The coupons table, refreshed every 5 s while it is on screen (and the tab visible): a cheap
 * read, and the operator sees claims move without opening each coupon.
 */
export function couponList(signal: AbortSignal, watch: (id: number) => void): { el: HTMLElement; refresh(): Promise<void> } {
  const tbody = h('tbody');
  const empty = h('p', { class: 'empty', hidden: true }, 'No coupons yet: create one with the form.');
  const problem = h('p', { class: 'problem', role: 'alert', hidden: true });
  const refreshed = h('span', { class: 'muted' });
  const table = h(
    'table',
    { 'data-testid': 'coupon-list' },
    h('caption', {}, 'Every coupon with its stock, refreshed every 5 s ', refreshed),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['ID', 'Title', 'State', 'Issue window', 'Quantity', 'Claimed', 'Remaining', 'Rows'].map((label, i) => h('th', { scope: 'col', class: i >= 4 ? 'num' : undefined }, label)),
        h('th', { scope: 'col' }, srOnly('Live view')),
      ),
    ),
    tbody,
  );

  const create = (c: CouponSummary) => {
    const button = h('button', { type: 'button', class: 'watch' }, 'Watch', srOnly(` coupon ${c.id}`));
    button.addEventListener('click', () => watch(c.id));
    const row = h('tr', { 'data-coupon-id': c.id });
    for (let i = 0; i < 8; i++) row.append(h(i === 1 ? 'th' : 'td', { scope: i === 1 ? 'row' : undefined, class: i >= 4 ? 'num' : undefined }));
    row.append(h('td', {}, button));
    return row;
  };
  const update = (row: HTMLTableRowElement, c: CouponSummary) => {
    const [id, title, state, issueWindow, quantity, claimed, remaining, rows] = Array.from(row.cells);
    setText(id, String(c.id));
    setText(title, c.title);
    if (state.textContent !== c.state) state.replaceChildren(stateBadge(c.state));
    if (issueWindow.dataset.value !== c.issueStartAt + c.issueEndAt) {
      issueWindow.dataset.value = c.issueStartAt + c.issueEndAt;
      issueWindow.replaceChildren(timeEl(c.issueStartAt), ' – ', timeEl(c.issueEndAt));
    }
    setText(quantity, c.totalQuantity === null ? 'unlimited' : String(c.totalQuantity));
    setText(claimed, String(c.claimed));
    setText(remaining, c.remaining === null ? 'unlimited' : count(c.remaining));
    setText(rows, String(c.rows));
  };

  let timer = 0;
  let loading: Promise<void> | null = null;
  // One load at a time: a refresh asked for while one is running (after a create, on returning to the tab) joins it.
  function refresh(): Promise<void> {
    loading ??= load().finally(() => (loading = null));
    return loading;
  }
  async function load(): Promise<void> {
    clearTimeout(timer);
    try {
      const { items } = await listCoupons(signal);
      syncRows(tbody, items, (c) => String(c.id), create, update);
      empty.hidden = items.length > 0;
      setText(refreshed, `(last at ${new Date().toLocaleTimeString()})`);
      showProblem(problem, null);
    } catch (err) {
      if (isAbort(err) || signal.aborted) return;
      showProblem(problem, asProblem(err), 'Could not load the coupons: ');
    }
    if (!signal.aborted) timer = window.setTimeout(() => void refreshWhenVisible(), REFRESH_MS);
  }
  async function refreshWhenVisible(): Promise<void> {
    if (document.visibilityState === 'visible') await refresh();
  }
  const onVisible = () => void refreshWhenVisible();
  document.addEventListener('visibilitychange', onVisible);
  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
  });

  return { el: h('div', { class: 'table-wrap' }, problem, table, empty), refresh };
}
