import { badRequest } from '@coupon-rush/platform';

/** Checks shared by the coupon service's use-cases: each answers 400 VALIDATION_FAILED with the field's name. */

export function isoInstant(v: unknown, name: string): string {
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v)) || !/^\d{4}-\d{2}-\d{2}T/.test(v)) throw badRequest(`${name} must be an ISO-8601 date-time`);
  return new Date(v).toISOString();
}

export function integerIn(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw badRequest(`${name} must be an integer in [${min}, ${max}]`);
  return v;
}

// Control characters in a name only ever come from a broken client or a probe; a longer text may
// keep its line breaks and tabs.
const CONTROL = /\p{Cc}/u;
const CONTROL_BUT_LAYOUT = /[^\P{Cc}\t\n\r]/u;

export function text(v: unknown, name: string, min: number, max: number, { multiline = false } = {}): string {
  if (typeof v !== 'string') throw badRequest(`${name} must be a string`);
  const trimmed = v.trim();
  if (trimmed.length < min || trimmed.length > max || (multiline ? CONTROL_BUT_LAYOUT : CONTROL).test(trimmed)) {
    throw badRequest(`${name} must be ${min} to ${max} printable characters`);
  }
  return trimmed;
}

/** A query parameter given at most once (express turns a repeated one into an array). */
export function queryText(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`${name} must be given once, as text`);
  return v;
}

export function pageOf(pageParam: unknown, sizeParam: unknown): { page: number; size: number } {
  const rawPage = queryText(pageParam, 'page');
  const rawSize = queryText(sizeParam, 'size');
  const page = rawPage === undefined ? 0 : Number(rawPage);
  const size = rawSize === undefined ? 20 : Number(rawSize);
  if (rawPage === '' || !Number.isInteger(page) || page < 0 || page > 100_000) throw badRequest('page must be an integer >= 0');
  if (rawSize === '' || !Number.isInteger(size) || size < 1 || size > 100) throw badRequest('size must be an integer in [1, 100]');
  return { page, size };
}
