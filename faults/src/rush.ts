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
  /** A queued coupon: each user joins its waiting room, asks again when told, and claims with the pass. */
  queued?: boolean;
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

/** How much longer than a direct rush's users the users of a queued one keep asking (the room's longest poll interval, and a margin). */
const QUEUED_HEARING_MS = 20_000;

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
        // Far back in a line the room asks for a poll every 15 s at most: time to hear the end.
        if (plan.queued) return { userId: user.id, answers: await throughTheRoom(agent, inFlight, plan, user, lastAskAt + QUEUED_HEARING_MS) };
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

/**
 * One user of a queued coupon: joins the waiting room, asks again after the pollAfterMs it is told,
 * and once admitted claims with the pass, asking again like an app. What the user is told about the
 * coupon is kept: the claims' answers and the room's final ones (SOLD_OUT, ISSUE_WINDOW_CLOSED,
 * ALREADY_ISSUED); a place or a pass lost (NOT_IN_QUEUE, EXPIRED, a pass refused after a failover)
 * sends the user back to join.
 */
async function throughTheRoom(agent: Agent, inFlight: InFlight, plan: RushPlan, user: { id: number; token: string }, lastAskAt: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  let join = true;
  while (Date.now() < lastAskAt) {
    const turn = await inFlight.run(() => send(agent, plan, user, join ? 'POST' : 'GET', 'queue'));
    const ticket = turn.body as { status?: string; pollAfterMs?: number; pass?: string } | undefined;
    if (turn.status === 200 && ticket?.status === 'WAITING') {
      join = false;
      await sleep(ticket.pollAfterMs ?? 1000);
      continue;
    }
    if (turn.status === 200 && ticket?.status === 'ADMITTED' && ticket.pass) {
      for (;;) {
        const claim = await inFlight.run(() => send(agent, plan, user, 'POST', 'issues', ticket.pass));
        answers.push(claim);
        if (claim.status === 403 && claim.code === 'QUEUE_PASS_INVALID') break;
        const pause = pauseBeforeAskingAgain(claim, answers.length, plan.askingAgain);
        if (pause === undefined || Date.now() + pause > lastAskAt) return answers;
        await sleep(pause);
      }
      join = false;
      continue;
    }
    if ((turn.status === 200 && ticket?.status === 'EXPIRED') || (turn.status === 404 && turn.code === 'NOT_IN_QUEUE')) {
      join = true;
      continue;
    }
    const statement = statementOf(turn);
    if (statement === 'holds-it' || statement === 'does-not-hold-it') {
      answers.push(turn);
      return answers;
    }
    // 503 or 429 (Retry-After), another 5xx or no answer: the room is asked again.
    await sleep(Math.min(turn.retryAfterMs ?? 500, plan.askingAgain.retryAfterCapMs));
  }
  return answers;
}

const issueOnce = (agent: Agent, plan: RushPlan, user: { id: number; token: string }) => send(agent, plan, user, 'POST', 'issues');

/** One request of the rush for the coupon's `what` (issues, queue): its answer, with the parsed body. */
async function send(agent: Agent, plan: RushPlan, user: { id: number; token: string }, method: 'GET' | 'POST', what: 'issues' | 'queue', pass?: string): Promise<Answer & { body?: unknown }> {
  const sentAt = Date.now();
  try {
    const res = await request(`${plan.gateway}/api/coupons/${plan.couponId}/${what}`, {
      method,
      headers: { authorization: `Bearer ${user.token}`, ...(pass ? { 'x-queue-pass': pass } : {}) },
      dispatcher: agent,
      headersTimeout: plan.requestTimeoutMs,
      bodyTimeout: plan.requestTimeoutMs,
    });
    const text = await res.body.text();
    let body: { code?: string } | undefined;
    try {
      body = JSON.parse(text) as { code?: string };
    } catch {
      /* not JSON: no code */
    }
    const answer: Answer & { body?: unknown } = { status: res.statusCode, code: body?.code, sentAt, ms: Date.now() - sentAt };
    const retryAfter = res.statusCode === 503 || res.statusCode === 429 ? retryAfterMs(res.headers['retry-after']) : undefined;
    return { ...answer, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }), ...(what === 'queue' ? { body } : {}) };
  } catch {
    return { status: 0, sentAt, ms: Date.now() - sentAt };
  }
}
