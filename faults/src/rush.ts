import { Agent, request } from 'undici';

/** What one user was told. `status` 0: no answer at all (connection reset, client timeout). */
export interface Answer {
  userId: number;
  status: number;
  code?: string;
  sentAt: number;
  ms: number;
}

export interface RushPlan {
  gateway: string;
  couponId: number;
  /** One request per user, in this order. */
  users: Array<{ id: number; token: string }>;
  /** Requests are spread over this time, so load is on before, during and after a fault. */
  durationMs: number;
  /**
   * The coupon's quantity: the first this many requests are spread over the first 80% of the
   * rush and the crowd beyond it over the rest, so stock is still being claimed when the fault
   * lands (spread evenly, a rush of 4× the quantity sells out in its first quarter).
   */
  quantity?: number;
  /** Requests in flight at most: while the platform stalls, the rush waits instead of piling up. */
  concurrency: number;
  /** A request without an answer after this long counts as indeterminate. */
  requestTimeoutMs: number;
}

/** Drives one paced rush and returns every user's answer, in user order. */
export async function rush(plan: RushPlan): Promise<Answer[]> {
  const agent = new Agent({ connections: plan.concurrency, keepAliveTimeout: 10_000 });
  const answers = new Array<Answer>(plan.users.length);
  const started = Date.now();
  const n = plan.users.length;
  const first = Math.min(plan.quantity ?? n, n);
  const dueAt = (i: number) =>
    first === n ? (i * plan.durationMs) / n : i < first ? (i * 0.8 * plan.durationMs) / first : 0.8 * plan.durationMs + ((i - first) * 0.2 * plan.durationMs) / (n - first);
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: plan.concurrency }, async () => {
        while (next < plan.users.length) {
          const i = next++;
          const due = started + dueAt(i);
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          answers[i] = await issueOnce(agent, plan, plan.users[i]);
        }
      }),
    );
  } finally {
    await agent.close();
  }
  return answers;
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
    return { userId: user.id, status: res.statusCode, code, sentAt, ms: Date.now() - sentAt };
  } catch {
    return { userId: user.id, status: 0, sentAt, ms: Date.now() - sentAt };
  }
}
