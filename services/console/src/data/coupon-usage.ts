import type { ServiceDirectory } from '@coupon-rush/platform';

/** What became of a coupon's issued rows, as coupon-service counts them (GET /coupons/:id/usage). */
export interface CouponUsage {
  issued: number;
  used: number;
  expired: number;
  usable: number;
  at: string;
}

/**
 * Asks coupon-service, found through Consul, to count a coupon's uses, with the console's own
 * identity (`credential`, an Authorization value). coupon-service owns what "used" and "expired"
 * mean; the console only shows its answer.
 */
export async function fetchUsage(directory: ServiceDirectory, service: string, credential: string, couponId: number, timeoutMs: number): Promise<CouponUsage> {
  const instance = directory.pick(service);
  if (!instance) throw new Error(`no passing instance of ${service}`);
  const res = await fetch(`http://${instance.address}:${instance.port}/coupons/${couponId}/usage`, { headers: { authorization: credential }, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${service} answered ${res.status}`);
  const u = (await res.json()) as CouponUsage;
  return { issued: u.issued, used: u.used, expired: u.expired, usable: u.usable, at: u.at };
}
