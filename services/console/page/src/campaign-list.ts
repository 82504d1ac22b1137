import { asProblem, isAbort, listCampaigns, setCampaignActive } from './api';
import { h, setText, showProblem, srOnly, syncRows, whileBusy } from './dom';
import { timeEl } from './format';
import type { Campaign } from './types';

/** The campaigns table with a Suspend/Resume toggle per row; loaded on opening and after each toggle. */
export function campaignList(signal: AbortSignal): { el: HTMLElement; refresh(): Promise<void> } {
  const tbody = h('tbody');
  const caption = h('caption', {});
  const problem = h('p', { class: 'problem', role: 'alert', hidden: true });
  const done = h('p', { class: 'muted', role: 'status' });
  const empty = h('p', { class: 'empty', hidden: true }, 'No campaigns.');
  const reload = h('button', { type: 'button', class: 'secondary' }, 'Reload campaigns');
  const table = h(
    'table',
    { 'data-testid': 'campaign-list' },
    caption,
    h('thead', {}, h('tr', {}, ...['ID', 'Name', 'Description', 'Status', 'Updated'].map((label) => h('th', { scope: 'col' }, label)), h('th', { scope: 'col' }, srOnly('Action')))),
    tbody,
  );

  async function toggle(c: Campaign): Promise<void> {
    let failed = false;
    try {
      const changed = await setCampaignActive(c.id, !c.active, signal);
      setText(done, `Campaign “${changed.name}” ${changed.active ? 'resumed' : 'suspended'}.`);
      showProblem(problem, null);
    } catch (err) {
      if (isAbort(err)) return;
      showProblem(problem, asProblem(err), `Campaign “${c.name}” not changed: `);
      failed = true;
    }
    await refresh(failed);
  }

  const current = new WeakMap<HTMLTableRowElement, Campaign>();
  const create = () => {
    const button = h('button', { type: 'button', class: 'secondary' });
    const row = h('tr', {}, h('td'), h('th', { scope: 'row' }), h('td'), h('td'), h('td'), h('td', {}, button));
    button.addEventListener('click', () => {
      const c = current.get(row);
      if (c) void whileBusy(button, () => toggle(c));
    });
    return row;
  };
  const update = (row: HTMLTableRowElement, c: Campaign) => {
    current.set(row, c);
    const [id, name, description, status, updated, action] = Array.from(row.cells);
    setText(id, String(c.id));
    setText(name, c.name);
    setText(description, c.description);
    status.replaceChildren(h('span', { class: c.active ? 'state state-open' : 'state state-suspended' }, c.active ? 'active' : 'suspended'));
    updated.replaceChildren(timeEl(c.updatedAt));
    // Keeps the same button (and so the focus) while its label flips.
    action.firstElementChild?.replaceChildren(c.active ? 'Suspend' : 'Resume', srOnly(` campaign ${c.name}`));
  };

  /** keepProblem: the toggle's refusal stays on screen after the reload that follows it. */
  async function refresh(keepProblem = false): Promise<void> {
    try {
      const page = await listCampaigns(signal);
      if (!keepProblem) showProblem(problem, null);
      syncRows(tbody, page.items, (c) => String(c.id), create, update);
      empty.hidden = page.items.length > 0;
      const shown = page.total > page.items.length ? ` The first ${page.items.length} of ${page.total}.` : '';
      setText(caption, `Suspending a campaign suspends all its codes; resuming gives them back.${shown}`);
    } catch (err) {
      if (isAbort(err) || signal.aborted) return;
      showProblem(problem, asProblem(err), 'Could not load the campaigns: ');
    }
  }
  reload.addEventListener('click', () => void refresh());

  return { el: h('div', { class: 'table-wrap' }, problem, done, table, empty, h('div', { class: 'actions' }, reload)), refresh };
}
