import { currentSession } from './session';
import type { Campaign, CampaignPage, CouponSummary, LoginAnswer, NewCoupon } from './types';

/** An RFC 9457 problem answer (or a failure dressed as one), so that every error shows a code and a detail. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly requestId?: string,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'Problem';
  }

  /** The token is missing, expired or not an admin's: only signing in again helps. */
  get endsSession(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

let sessionEnded: (problem: Problem) => void = () => {};

/** Who to tell when any call is refused for its token (main: back to the login form). */
export function onSessionEnded(handler: (problem: Problem) => void): void {
  sessionEnded = handler;
}

export function reportSessionEnded(problem: Problem): void {
  sessionEnded(problem);
}

/** Reads a non-2xx answer; a proxy's HTML error page still becomes a Problem with the status. */
export async function problemOf(res: Response): Promise<Problem> {
  const headerId = res.headers.get('x-request-id') ?? undefined;
  try {
    const body = (await res.json()) as Record<string, unknown>;
    const code = typeof body.code === 'string' ? body.code : typeof body.title === 'string' ? body.title : `HTTP_${res.status}`;
    const detail = typeof body.detail === 'string' ? body.detail : res.statusText;
    return new Problem(res.status, code, detail, typeof body.requestId === 'string' ? body.requestId : headerId);
  } catch {
    return new Problem(res.status, `HTTP_${res.status}`, res.statusText || 'The gateway answered with an error', headerId);
  }
}

/** Any failure as a Problem: a fetch that never got an answer is status 0. */
export function asProblem(err: unknown): Problem {
  if (err instanceof Problem) return err;
  if (err instanceof TypeError) return new Problem(0, 'NETWORK_ERROR', 'The gateway could not be reached');
  return new Problem(0, 'UNEXPECTED', err instanceof Error ? err.message : String(err));
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

export function authHeaders(): Record<string, string> {
  const token = currentSession()?.token;
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function call<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders(), accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  if (!res.ok) {
    const problem = await problemOf(res);
    if (problem.endsSession) sessionEnded(problem);
    throw problem;
  }
  return (await res.json()) as T;
}

export async function logIn(email: string, password: string): Promise<LoginAnswer> {
  // Not through call(): a 401 here is a wrong password, for the form to say, not a session that ended.
  const res = await fetch('/api/users/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, application/problem+json' },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw await problemOf(res);
  return (await res.json()) as LoginAnswer;
}

export const listCoupons = (signal?: AbortSignal) => call<{ items: CouponSummary[] }>('GET', '/api/console/coupons', undefined, signal);

export const createCoupon = (coupon: NewCoupon, signal?: AbortSignal) => call<{ id: number }>('POST', '/api/coupons', coupon, signal);

export const listCampaigns = (signal?: AbortSignal) => call<CampaignPage>('GET', '/api/campaigns?page=0&size=50', undefined, signal);

export const setCampaignActive = (id: number, active: boolean, signal?: AbortSignal) => call<Campaign>('PATCH', `/api/campaigns/${id}`, { active }, signal);

export const couponStreamUrl = (id: number) => `/api/console/coupons/${id}/stream`;
