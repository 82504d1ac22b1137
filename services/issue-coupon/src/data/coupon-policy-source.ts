import type { ServiceDirectory } from '@coupon-rush/platform';

/** What the hot path needs to know of a coupon. */
export interface CouponPolicy {
  id: number;
  totalQuantity: number | null;
  issueStartAt: number;
  issueEndAt: number;
}

export class CouponServiceUnavailable extends Error {}

/** Reads a policy from the coupon service, found through Consul; undefined when it does not exist. */
export async function fetchPolicy(directory: ServiceDirectory, service: string, id: number): Promise<CouponPolicy | undefined> {
  const instance = directory.pick(service);
  if (!instance) throw new CouponServiceUnavailable(`no passing instance of ${service}`);
  let res: Response;
  try {
    res = await fetch(`http://${instance.address}:${instance.port}/coupons/${id}`, { signal: AbortSignal.timeout(2000) });
  } catch (err) {
    throw new CouponServiceUnavailable(`${service} unreachable: ${String(err)}`);
  }
  if (res.status === 404) return undefined;
  if (!res.ok) throw new CouponServiceUnavailable(`${service} answered ${res.status}`);
  const c = (await res.json()) as { id: number; totalQuantity: number | null; issueStartAt: string; issueEndAt: string };
  return { id: c.id, totalQuantity: c.totalQuantity, issueStartAt: Date.parse(c.issueStartAt), issueEndAt: Date.parse(c.issueEndAt) };
}
