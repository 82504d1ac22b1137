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
