import type { Logger, ServiceDirectory } from '@coupon-rush/platform';
import { issueUnavailable } from '../domain/refusals';

/** What the hot path needs to know of a coupon. */
export interface CouponPolicy {
  id: number;
  totalQuantity: number | null;
  issueStartAt: number;
  issueEndAt: number;
  /** Users admitted from the waiting room a second, or 'auto' (the room's governor sets it); null: a direct coupon. */
  admissionPerSecond: number | 'auto' | null;
}

/**
 * Reads a policy from the coupon service, found through Consul, on its internal path with this
 * service's own identity (`credential`, an Authorization value); undefined when it does not exist.
 * When the service cannot answer, the issue is refused as unavailable: the cause stays here, in
 * the log line, not in the caller's answer.
 */
export async function fetchPolicy(directory: ServiceDirectory, service: string, credential: string, id: number, logger: Logger): Promise<CouponPolicy | undefined> {
  const unavailable = (cause: string) => {
    logger.warn('coupon policy unavailable', { couponId: id, cause });
    return issueUnavailable('coupon service');
  };
  const instance = directory.pick(service);
  if (!instance) throw unavailable(`no passing instance of ${service}`);
  let res: Response;
  try {
    res = await fetch(`http://${instance.address}:${instance.port}/internal/coupon-policies/${id}`, { headers: { authorization: credential }, signal: AbortSignal.timeout(2000) });
  } catch (err) {
    throw unavailable(`${service} unreachable: ${String(err)}`);
  }
  if (res.status === 404) return undefined;
  if (!res.ok) throw unavailable(`${service} answered ${res.status}`);
  const c = (await res.json()) as { id: number; totalQuantity: number | null; issueStartAt: string; issueEndAt: string; admission: { perSecond: number | 'auto' } | null };
  return { id: c.id, totalQuantity: c.totalQuantity, issueStartAt: Date.parse(c.issueStartAt), issueEndAt: Date.parse(c.issueEndAt), admissionPerSecond: c.admission?.perSecond ?? null };
}
