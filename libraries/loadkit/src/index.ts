import { hash as hashPassword } from '@node-rs/bcrypt';
import knex, { type Knex } from 'knex';
import { createTokenKey, signAccessToken } from '@coupon-rush/platform';
import type { operations } from '@coupon-rush/api-client';
import { ADMIN_LOGIN } from './admin-login';

export { mintInternalToken } from '@coupon-rush/platform';

export interface LoadUser {
  id: number;
  token: string;
}

/** A coupon's reconciliation (GET /api/coupons/:id/reconciliation), as the API document defines it. */
export type Reconciliation = operations['reconcileCoupon']['responses'][200]['content']['application/json'];

export async function api(base: string, method: string, url: string, body?: unknown, token?: string): Promise<any> {
  const res = await fetch(base + url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${url} -> ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The database `npm start` runs on (load runs create their users in it and check the rows there), or a test's. */
export function platformDb(database = 'coupon_rush'): Knex {
  return knex({ client: 'mysql2', connection: { host: '127.0.0.1', port: 3306, user: 'coupon', password: process.env.DB_PASSWORD, database } });
}

/**
 * Real user rows named `<prefix>-<n>@load.local` (one shared bcrypt hash: hashing 20,000 passwords
 * would take minutes) and their access tokens, signed with the platform's key as login would.
 */
export async function createUsers(count: number, prefix: string, database?: string): Promise<LoadUser[]> {
  const db = platformDb(database);
  try {
    const hash = await hashPassword('load-password', { cost: 10 });
    for (let from = 0; from < count; from += 2000) {
      const rows = Array.from({ length: Math.min(2000, count - from) }, (_, i) => ({ email: `${prefix}-${from + i}@load.local`, password_hash: hash, role: 'USER' }));
      await db('users').insert(rows);
    }
    const ids: number[] = (await db('users').select('id').where('email', 'like', `${prefix}-%@load.local`).orderBy('id')).map((r) => Number(r.id));
    const key = createTokenKey(process.env.JWT_SECRET!);
    return ids.map((id) => ({ id, token: signAccessToken(key, id, 'USER', 1800, 'coupon-rush') }));
  } finally {
    await db.destroy();
  }
}

export async function adminToken(gateway: string): Promise<string> {
  return (await api(gateway, 'POST', '/api/users/login', ADMIN_LOGIN)).accessToken;
}

/** A waiting room's admission rate (issue 28), or 'auto' (the room governs it): a coupon created with it is claimed through its queue. */
export interface Admission {
  perSecond: number | 'auto';
}

/**
 * A coupon open from a minute ago for an hour; `quantity` null is unlimited. With `admission` it is
 * a queued coupon (claimed with the pass its waiting room gives); without, a direct one (the field
 * is then not sent at all).
 */
export async function createCoupon(
  gateway: string,
  admin: string,
  title: string,
  quantity: number | null,
  admission?: Admission,
): Promise<{ id: number; totalQuantity: number | null; admission?: Admission | null }> {
  const now = Date.now();
  return api(
    gateway,
    'POST',
    '/api/coupons',
    {
      title,
      totalQuantity: quantity,
      discountAmount: 1000,
      issueStartAt: new Date(now - 60_000).toISOString(),
      issueEndAt: new Date(now + 3_600_000).toISOString(),
      ...(admission ? { admission } : {}),
    },
    admin,
  );
}

/**
 * 202s answered by every issue-coupon instance (found in Consul; `service` names another run's,
 * e.g. the strategy lab's). A load generator may drop the responses still in flight at its
 * deadline, so the servers' count is the one rows must equal.
 */
export async function acceptedByServers(service = 'issue-coupon-service'): Promise<number> {
  const instances = (await (
    await fetch(`http://127.0.0.1:8500/v1/health/service/${encodeURIComponent(service)}?passing=true`, { headers: { 'x-consul-token': process.env.CONSUL_READ_TOKEN! } })
  ).json()) as Array<{ Service: { Address: string; Port: number; Meta?: Record<string, string> | null } }>;
  let total = 0;
  for (const { Service } of instances) {
    // An instance with a management port serves its metrics there (Consul's meta says which).
    const text = await (await fetch(`http://${Service.Address || '127.0.0.1'}:${Service.Meta?.metrics_port ?? Service.Port}/metrics`)).text();
    total += Number(/^coupon_issue_requests_total\{code="ACCEPTED"[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
  }
  return total;
}

/**
 * Waits, bounded, until MySQL holds exactly the claims the servers accepted and the written-back
 * issued quantity agrees. Requests still in flight when the load stops finish afterwards, so the
 * accepted count is re-read too.
 */
export async function drain(
  gateway: string,
  admin: string,
  couponId: number,
  acceptedSince: () => Promise<number>,
  loadStarted: number,
  timeoutMs = 120_000,
): Promise<Reconciliation & { accepted: number; drainedAfterMs: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const accepted = await acceptedSince();
    const r: Reconciliation = await api(gateway, 'GET', `/api/coupons/${couponId}/reconciliation`, undefined, admin);
    if ((r.rows === accepted && r.issuedQuantity === r.rows) || Date.now() > deadline) return { ...r, accepted, drainedAfterMs: Date.now() - loadStarted };
    await new Promise((res) => setTimeout(res, 100));
  }
}
export * from './admin-login';
export * from './console-page';
