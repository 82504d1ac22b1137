import type { Answer } from './rush';

/** What the system holds for one coupon once it has settled. */
export interface Holdings {
  quantity: number;
  /** Rows per user in issued_coupons. */
  rows: Map<number, number>;
  /** Users whose issue event went to the dead-letter topic. */
  deadLettered: Set<number>;
  issuedQuantity: number;
  reconciliationConsistent: boolean;
}

export interface Verdict {
  requests: number;
  accepted: number;
  refused: number;
  unavailable: number;
  /** Answers that promise neither outcome (504, 502, no answer): each may hold 0 or 1 row. */
  indeterminate: number;
  indeterminateIssued: number;
  rows: number;
  /** Told 202, holds no row. */
  lost: number;
  /** Holds a row but was told a definite no (409/404/503) or never asked. */
  invented: number;
  overIssued: number;
  duplicates: number;
  deadLettered202: number;
  issuedQuantityMatches: boolean;
  reconciliationConsistent: boolean;
  violations: string[];
}

/**
 * A set checker in the manner of Jepsen's: every request is classified by its answer, and every
 * answer is held against what the database holds afterwards. A 202 must be exactly one row; a
 * definite refusal must be none; only an answer that promised nothing may go either way.
 */
export function check(answers: Answer[], held: Holdings): Verdict {
  const byUser = new Map(answers.map((a) => [a.userId, a]));
  const v: Verdict = {
    requests: answers.length,
    accepted: 0,
    refused: 0,
    unavailable: 0,
    indeterminate: 0,
    indeterminateIssued: 0,
    rows: [...held.rows.values()].reduce((a, b) => a + b, 0),
    lost: 0,
    invented: 0,
    overIssued: 0,
    duplicates: 0,
    deadLettered202: 0,
    issuedQuantityMatches: false,
    reconciliationConsistent: held.reconciliationConsistent,
    violations: [],
  };
  for (const a of answers) {
    const rows = held.rows.get(a.userId) ?? 0;
    if (a.status === 202) {
      v.accepted++;
      if (rows === 0) v.lost++;
      if (held.deadLettered.has(a.userId)) v.deadLettered202++;
    } else if (a.status === 409 || a.status === 404 || a.status === 503) {
      if (a.status === 503) v.unavailable++;
      else v.refused++;
      if (rows > 0) v.invented++;
    } else {
      v.indeterminate++;
      if (rows > 0) v.indeterminateIssued++;
    }
  }
  for (const [user, rows] of held.rows) {
    if (rows > 1) v.duplicates += rows - 1;
    if (!byUser.has(user)) v.invented++;
  }
  v.overIssued = Math.max(0, v.rows - held.quantity);
  v.issuedQuantityMatches = held.issuedQuantity === v.rows;
  if (v.accepted > held.quantity) v.violations.push(`${v.accepted} answered 202 for a quantity of ${held.quantity}`);
  if (v.lost) v.violations.push(`${v.lost} users told 202 hold no coupon`);
  if (v.invented) v.violations.push(`${v.invented} users hold a coupon they were refused or never asked for`);
  if (v.overIssued) v.violations.push(`${v.overIssued} rows beyond the quantity`);
  if (v.duplicates) v.violations.push(`${v.duplicates} duplicate rows`);
  if (v.deadLettered202) v.violations.push(`${v.deadLettered202} users told 202 were dead-lettered`);
  if (!v.issuedQuantityMatches) v.violations.push(`issuedQuantity ${held.issuedQuantity} != rows ${v.rows}`);
  if (!v.reconciliationConsistent) v.violations.push('reconciliation reports Redis claims and rows disagree');
  return v;
}
