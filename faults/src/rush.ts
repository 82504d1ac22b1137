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
  /** Requests are spread evenly over this time, so load is on before, during and after a fault. */
  durationMs: number;
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
  const gap = plan.durationMs / plan.users.length;
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: plan.concurrency }, async () => {
        while (next < plan.users.length) {
          const i = next++;
          const due = started + i * gap;
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
