// Live values are written as bare numbers ("377", not "377 items" or "1,234"): the browser test
// and screen readers both read them as they are; the unit sits next to them in the markup.

export const NOT_AVAILABLE = 'n/a';

export const count = (n: number | null) => (n === null ? NOT_AVAILABLE : String(n));

/** One decimal at most: "45", "45.3". */
export const rate = (n: number | null) => (n === null ? NOT_AVAILABLE : String(Math.round(n * 10) / 10));

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const dateTime = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : when.format(d);
};

/** A <time> element: the local text to read, the instant for machines. */
export function timeEl(iso: string): HTMLTimeElement {
  const el = document.createElement('time');
  el.dateTime = iso;
  el.textContent = dateTime(iso);
  return el;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The value a datetime-local input takes: the browser's local wall-clock time, to the minute. */
export const toLocalInput = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;

/** A datetime-local value as an ISO instant; a date-time without an offset is parsed as local time. */
export function fromLocalInput(value: string): string | null {
  const d = new Date(value);
  return value === '' || Number.isNaN(d.getTime()) ? null : d.toISOString();
}
