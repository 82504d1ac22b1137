import { Agent, request } from 'undici';
import { statementOf, type Answer, type UserAnswers } from './answer-contract';

export type { Answer, UserAnswers } from './answer-contract';

/**
 * How a user asks again, as an app does: after a 503, a 5xx that leaves the outcome open or a
 * dead connection, and never after an answer that states the outcome.
 */
export interface AskingAgain {
  /** Requests per user at most, the first included. */
  attempts: number;
  /** A 503's Retry-After is honoured up to this. */
  retryAfterCapMs: number;
  /** Without a Retry-After: this, doubled each time, up to `retryAfterCapMs`, with jitter. */
  backoffMs: number;
  /** No request is sent later than this after the rush's planned end. */
  afterRushMs: number;
}

export const LIKE_AN_APP: AskingAgain = { attempts: 6, retryAfterCapMs: 2000, backoffMs: 200, afterRushMs: 5000 };

export interface RushPlan {
  gateway: string;
  couponId: number;
  /** Each user's first request, in this order. */
  users: Array<{ id: number; token: string }>;
  /** First requests are spread over this time, so load is on before, during and after a fault. */
  durationMs: number;
  /**
   * The coupon's quantity: the first this many requests are spread over the first 80% of the
   * rush and the crowd beyond it over the rest, so stock is still being claimed when the fault
   * lands (spread evenly, a rush of 4× the quantity sells out in its first quarter).
   */
  quantity?: number;
  /** Requests in flight at most, retries included: while the platform stalls, the rush waits instead of piling up. */
  concurrency: number;
  /** A request without an answer after this long counts as a dead connection. */
  requestTimeoutMs: number;
  askingAgain: AskingAgain;
}

/** At most as many requests in flight as it was given slots; the rest wait in the order they came. */
class InFlight {
  private readonly waiting: Array<() => void> = [];

  constructor(private free: number) {}

  async run<T>(send: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await send();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Milliseconds before asking again after `answer`, the `attempt`-th; undefined: the user stops. */
function pauseBeforeAskingAgain(answer: Answer, attempt: number, policy: AskingAgain): number | undefined {
  const statement = statementOf(answer);
  if (statement !== 'kept-nothing' && statement !== 'open') return undefined;
  if (attempt >= policy.attempts) return undefined;
  if (answer.retryAfterMs !== undefined) return Math.min(answer.retryAfterMs, policy.retryAfterCapMs);
  const backoff = Math.min(policy.backoffMs * 2 ** (attempt - 1), policy.retryAfterCapMs);
  return backoff / 2 + Math.random() * (backoff / 2);
}

/** Drives one paced rush; returns every answer each user was given, in user order. */
export async function rush(plan: RushPlan): Promise<UserAnswers[]> {
  const agent = new Agent({ connections: plan.concurrency, keepAliveTimeout: 10_000 });
  const inFlight = new InFlight(plan.concurrency);
  const started = Date.now();
  const lastAskAt = started + plan.durationMs + plan.askingAgain.afterRushMs;
  const n = plan.users.length;
  const first = Math.min(plan.quantity ?? n, n);
  const dueAt = (i: number) =>
    first === n ? (i * plan.durationMs) / n : i < first ? (i * 0.8 * plan.durationMs) / first : 0.8 * plan.durationMs + ((i - first) * 0.2 * plan.durationMs) / (n - first);
  try {
    return await Promise.all(
      plan.users.map(async (user, i) => {
        await sleep(started + dueAt(i) - Date.now());
        const answers: Answer[] = [];
        for (;;) {
          const answer = await inFlight.run(() => issueOnce(agent, plan, user));
          answers.push(answer);
          const pause = pauseBeforeAskingAgain(answer, answers.length, plan.askingAgain);
          if (pause === undefined || Date.now() + pause > lastAskAt) return { userId: user.id, answers };
          await sleep(pause);
        }
      }),
    );
  } finally {
    await agent.close();
  }
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date. */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

async function issueOnce(agent: Agent, plan: RushPlan, user: { id: number; token: string }): Promise<Answer> {
  const sentAt = Date.now();
  try {
    const res = await request(`${plan.gateway}/api/coupons/${plan.couponId}/issues`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}` },
      dispatcher: agent,
      headersTimeout: plan.requestTimeoutMs,
      bodyTimeout: plan.requestTimeoutMs,
    });
    const text = await res.body.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { code?: string }).code;
    } catch {
      /* not JSON: no code */
    }
    const answer: Answer = { status: res.statusCode, code, sentAt, ms: Date.now() - sentAt };
    const retryAfter = res.statusCode === 503 ? retryAfterMs(res.headers['retry-after']) : undefined;
    return retryAfter === undefined ? answer : { ...answer, retryAfterMs: retryAfter };
  } catch {
    return { status: 0, sentAt, ms: Date.now() - sentAt };
  }
}
