import type { Reconciliation } from '@coupon-rush/loadkit';
import { outcomeOf, type JtlSummary, type Sample } from './jtl';
import type { Options } from './options';

const EXPECTED_OUTCOMES = ['202', 'SOLD_OUT', 'ALREADY_ISSUED'];

/**
 * What must hold after a run once the consumer has caught up: JMeter saw only 202 and 409, the
 * servers accepted exactly the 202s JMeter received, MySQL holds one row per accepted user and no
 * other, Redis and the written-back quantity agree, and the accepted are min(stock, users who
 * asked). Returns the broken ones.
 */
export function verify(o: Pick<Options, 'plan' | 'users' | 'quantity'>, samples: Sample[], s: JtlSummary, rec: Reconciliation & { accepted: number }, persistedUserIds: number[]): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => ok || problems.push(what);
  const accepted = samples.filter((x) => outcomeOf(x) === '202');
  const acceptedUsers = new Set(accepted.map((x) => x.userId));
  const persisted = new Set(persistedUserIds.map(String));
  const tried = new Set(samples.map((x) => x.userId)).size;
  const unexpected = Object.keys(s.outcomes).filter((k) => !EXPECTED_OUTCOMES.includes(k));

  check(s.samples > 0, 'no samples in the JTL');
  if (o.plan === 'rush') check(s.samples === o.users && tried === o.users, `${s.samples} samples from ${tried} users, expected one from each of ${o.users}`);
  check(s.errors === 0, `${s.errors} samples failed the 202-or-409 assertion (${s.errorPct}%)`);
  check(unexpected.length === 0, `unexpected outcomes ${unexpected.map((k) => `${k}=${s.outcomes[k]}`).join(', ')}`);
  check(accepted.length === rec.accepted, `JMeter received ${accepted.length} 202s, the servers answered ${rec.accepted}`);
  check(acceptedUsers.size === accepted.length, `${accepted.length - acceptedUsers.size} users received a second 202`);
  check(rec.rows === accepted.length, `rows ${rec.rows} != 202s ${accepted.length}`);
  check(persisted.size === persistedUserIds.length, `${persistedUserIds.length - persisted.size} duplicate rows`);
  const missing = [...acceptedUsers].filter((u) => !persisted.has(u));
  const extra = [...persisted].filter((u) => !acceptedUsers.has(u));
  check(missing.length === 0 && extra.length === 0, `rows and 202s disagree: ${missing.length} accepted users without a row, ${extra.length} rows for users not accepted`);
  check(rec.redisClaims === rec.rows, `Redis claims ${rec.redisClaims} != rows ${rec.rows}`);
  check(rec.issuedQuantity === rec.rows, `issuedQuantity ${rec.issuedQuantity} != rows ${rec.rows}`);
  check(rec.rows <= o.quantity, `rows ${rec.rows} exceed quantity ${o.quantity}`);
  // Each distinct user who asks while stock remains is accepted, so the stock goes to exactly the first ones.
  check(accepted.length === Math.min(o.quantity, tried), `202s ${accepted.length} != min(quantity ${o.quantity}, users who asked ${tried})`);
  return problems;
}

/** The queue plan's samplers, in the order of a user's flow. */
export const QUEUE_LABELS = ['join', 'poll', 'claim'] as const;
const QUEUE_OUTCOMES: Record<string, string[]> = { join: ['WAITING', 'ADMITTED', 'SOLD_OUT'], poll: ['WAITING', 'ADMITTED', 'SOLD_OUT'], claim: ['202', 'SOLD_OUT'] };

/**
 * What must hold after a queue run: every user joined, ended with 202 or SOLD_OUT (its last
 * answer), and JMeter saw only the answers of the flow (no assertion failed, no 429/503 or other
 * code); the 202s are exactly min(stock, users), each user at most one, and they are the rows
 * MySQL holds, the servers' count, the Redis claims and the written-back quantity. Returns the
 * broken ones.
 */
export function verifyQueue(o: Pick<Options, 'users' | 'quantity'>, samples: Sample[], rec: Reconciliation & { accepted: number }, persistedUserIds: number[]): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => ok || problems.push(what);
  const of = (label: string) => samples.filter((x) => x.label === label);
  const joined = new Set(of('join').map((x) => x.userId));
  check(joined.size === o.users, `${joined.size} of ${o.users} users joined`);
  for (const label of QUEUE_LABELS) {
    const failed = of(label).filter((x) => !x.success).length;
    check(failed === 0, `${failed} ${label} samples failed their assertion`);
    const odd: Record<string, number> = {};
    for (const x of of(label)) if (!QUEUE_OUTCOMES[label].includes(outcomeOf(x))) odd[outcomeOf(x)] = (odd[outcomeOf(x)] ?? 0) + 1;
    check(
      Object.keys(odd).length === 0,
      `unexpected ${label} outcomes ${Object.entries(odd)
        .map(([k, n]) => `${k}=${n}`)
        .join(', ')}`,
    );
  }
  // Each user's last answer is its final one.
  const last = new Map<string, Sample>();
  for (const x of samples) {
    const seen = last.get(x.userId);
    if (!seen || x.timeStamp + x.elapsed >= seen.timeStamp + seen.elapsed) last.set(x.userId, x);
  }
  const unfinished: Record<string, number> = {};
  for (const x of last.values()) if (!['202', 'SOLD_OUT'].includes(outcomeOf(x))) unfinished[`${x.label} ${outcomeOf(x)}`] = (unfinished[`${x.label} ${outcomeOf(x)}`] ?? 0) + 1;
  check(Object.keys(unfinished).length === 0, `users without a final 202 or SOLD_OUT, by their last answer: ${JSON.stringify(unfinished)}`);
  const accepted = of('claim').filter((x) => outcomeOf(x) === '202');
  const acceptedUsers = new Set(accepted.map((x) => x.userId));
  const persisted = new Set(persistedUserIds.map(String));
  check(acceptedUsers.size === accepted.length, `${accepted.length - acceptedUsers.size} users received a second 202`);
  check(accepted.length === Math.min(o.quantity, o.users), `202s ${accepted.length} != min(quantity ${o.quantity}, users ${o.users})`);
  check(accepted.length === rec.accepted, `JMeter received ${accepted.length} 202s, the servers answered ${rec.accepted}`);
  check(rec.rows === accepted.length && persisted.size === persistedUserIds.length, `rows ${rec.rows} (${persisted.size} distinct users) != 202s ${accepted.length}`);
  const missing = [...acceptedUsers].filter((u) => !persisted.has(u));
  const extra = [...persisted].filter((u) => !acceptedUsers.has(u));
  check(missing.length === 0 && extra.length === 0, `rows and 202s disagree: ${missing.length} accepted users without a row, ${extra.length} rows for users not accepted`);
  check(rec.redisClaims === rec.rows && rec.issuedQuantity === rec.rows, `Redis claims ${rec.redisClaims}, issuedQuantity ${rec.issuedQuantity}, rows ${rec.rows}`);
  return problems;
}

/**
 * How late JMeter itself was: for each claim sent right after an ADMITTED answer (the plan waits
 * nothing there), the ms from that answer's end to the claim's start. A loaded box wakes threads
 * late, and a pass lapses 30 s after admission whatever the reason.
 */
export function claimLateness(samples: Sample[]): { count: number; p50Ms?: number; p99Ms?: number; maxMs?: number } {
  const byUser = new Map<string, Sample[]>();
  for (const x of samples) byUser.set(x.userId, [...(byUser.get(x.userId) ?? []), x]);
  const gaps: number[] = [];
  for (const list of byUser.values()) {
    list.sort((a, b) => a.timeStamp - b.timeStamp);
    for (let i = 1; i < list.length; i++) if (list[i].label === 'claim' && outcomeOf(list[i - 1]) === 'ADMITTED') gaps.push(list[i].timeStamp - (list[i - 1].timeStamp + list[i - 1].elapsed));
  }
  gaps.sort((a, b) => a - b);
  const at = (p: number) => (gaps.length ? gaps[Math.max(0, Math.ceil((p / 100) * gaps.length) - 1)] : undefined);
  return { count: gaps.length, p50Ms: at(50), p99Ms: at(99), maxMs: gaps[gaps.length - 1] };
}
