import type { Problem } from './api';

type Child = Node | string | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined;

/** Builds an element: attributes by their HTML names (false/null/undefined: left out), then children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, AttrValue> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** Text read by screen readers only, e.g. which row a "Watch" button is for. */
export const srOnly = (text: string) => h('span', { class: 'sr-only' }, text);

/** Writes text only when it changed, so that a live region announces changes and nothing else. */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/**
 * Marks a button busy while its request runs. Not `disabled`: disabling the focused button
 * throws the keyboard focus back to the page's start; aria-disabled keeps it where it is.
 */
export async function whileBusy<T>(button: HTMLButtonElement, work: () => Promise<T>): Promise<T | undefined> {
  if (isBusy(button)) return undefined;
  button.setAttribute('aria-disabled', 'true');
  try {
    return await work();
  } finally {
    button.removeAttribute('aria-disabled');
  }
}

export const isBusy = (button: HTMLButtonElement) => button.getAttribute('aria-disabled') === 'true';

/** The code and detail of a problem, the way every section shows one. */
export function showProblem(el: HTMLElement, problem: Problem | null, lead = ''): void {
  el.replaceChildren();
  el.hidden = problem === null;
  if (problem === null) return;
  const id = problem.requestId ? ` (request ${problem.requestId})` : '';
  el.append(lead, h('code', {}, problem.code), ` ${problem.detail}${id}`);
}

/**
 * Keeps a table body in step with a list, row per key: rows are updated in place rather than
 * rebuilt, so a periodic refresh does not take the keyboard focus away from a row's button.
 */
export function syncRows<T>(tbody: HTMLTableSectionElement, items: T[], key: (item: T) => string, create: (item: T) => HTMLTableRowElement, update: (row: HTMLTableRowElement, item: T) => void): void {
  const existing = new Map<string, HTMLTableRowElement>();
  for (const row of tbody.rows) existing.set(row.dataset.key ?? '', row);
  items.forEach((item, i) => {
    const k = key(item);
    let row = existing.get(k);
    existing.delete(k);
    if (!row) {
      row = create(item);
      row.dataset.key = k;
    }
    update(row, item);
    if (tbody.rows[i] !== row) tbody.insertBefore(row, tbody.rows[i] ?? null);
  });
  for (const gone of existing.values()) gone.remove();
}
