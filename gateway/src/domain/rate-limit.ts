import crypto from 'node:crypto';
import type http from 'node:http';
import { AppError } from '@coupon-rush/platform';
import type { RateLimit } from '../config';
import type { BucketAnswer } from '../data/token-buckets';
import type { Identity } from './authenticate';

export interface Buckets {
  take(bucket: string, rate: number, burst: number, cost: number): Promise<BucketAnswer>;
}

export interface LimiterEvents {
  refused(limit: RateLimit): void;
  /** The limiter's Redis did not answer: the request went on unlimited. */
  unavailable(limit: RateLimit, err: unknown): void;
}

/** The email a login body names, normalized as user-service does; undefined when there is none. */
function accountOf(body: Buffer): string | undefined {
  try {
    const email = (JSON.parse(body.toString('utf8')) as { email?: unknown })?.email;
    return typeof email === 'string' && email.trim() !== '' ? email.trim().toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whose bucket a request draws from. Emails are hashed: a Redis key names no person. The client
 * is the socket's address: the gateway is the edge, so an X-Forwarded-For is the client's own word.
 */
function bucketOf(limit: RateLimit, req: http.IncomingMessage, identity: Identity | undefined, body: Buffer): string | undefined {
  if (limit.key === 'user') return identity && `${limit.name}:u:${identity.userId}`;
  if (limit.key === 'client') return `${limit.name}:c:${req.socket.remoteAddress ?? 'unknown'}`;
  const account = accountOf(body);
  return account && `${limit.name}:a:${crypto.createHash('sha256').update(account).digest('base64url').slice(0, 22)}`;
}

function headersOf(limit: RateLimit, answer: BucketAnswer): Record<string, string> {
  return {
    'x-ratelimit-remaining': String(answer.remaining),
    'x-ratelimit-replenish-rate': String(limit.replenishRate),
    'x-ratelimit-burst-capacity': String(limit.burstCapacity),
    'x-ratelimit-requested-tokens': String(limit.requestedTokens),
  };
}

/**
 * Takes a request's tokens from each of its route's limiters, in order; resolves with the headers
 * of the tightest one, or rejects with 429 RATE_LIMITED (Retry-After in whole seconds, rounded up)
 * at the first that refuses. Buckets taken from before a refusal stay taken, as with several
 * RequestRateLimiter filters on one Spring Cloud Gateway route.
 *
 * Fail open: a limiter whose Redis does not answer in time lets the request through (its caller
 * counts and logs it). Failing closed would turn a Redis outage into an outage of every limited
 * route; the claim path guards itself with its own Redis (503), and login failures are counted by
 * user-service, which refuses logins it cannot count.
 */
export async function takeTokens(
  limits: RateLimit[],
  buckets: Buckets,
  req: http.IncomingMessage,
  identity: Identity | undefined,
  body: Buffer,
  events: LimiterEvents,
): Promise<Record<string, string> | undefined> {
  let tightest: { limit: RateLimit; answer: BucketAnswer } | undefined;
  for (const limit of limits) {
    const bucket = bucketOf(limit, req, identity, body);
    if (!bucket) continue;
    let answer: BucketAnswer;
    try {
      answer = await buckets.take(bucket, limit.replenishRate, limit.burstCapacity, limit.requestedTokens);
    } catch (err) {
      events.unavailable(limit, err);
      continue;
    }
    if (!answer.allowed) {
      events.refused(limit);
      const headers = headersOf(limit, answer);
      throw new AppError('RATE_LIMITED', 429, 'Too many requests: try again later', undefined, { retryAfterSeconds: Math.max(1, Math.ceil(answer.waitMs / 1000)), headers });
    }
    if (!tightest || answer.remaining / limit.burstCapacity < tightest.answer.remaining / tightest.limit.burstCapacity) tightest = { limit, answer };
  }
  return tightest && headersOf(tightest.limit, tightest.answer);
}
