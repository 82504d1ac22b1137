import { describe, mayHaveClaimed, statementOf, type Answer, type UserAnswers } from './answer-contract';

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

/** A user one of whose answers is contradicted by what they hold: what they were told, what they hold. */
export interface Liar {
  userId: number;
  lies: number;
  answers: string;
  rows: number;
  deadLettered: boolean;
}

export interface Verdict {
  users: number;
  /** Every request sent, each user's asking again included. */
  requests: number;
  /** Answers by kind, over every request. */
  accepted: number;
  /** 409 and 404: the contract's "you do not hold it", and ALREADY_ISSUED. */
  refused: number;
  unavailable: number;
  gatewayTimeouts: number;
  deadConnections: number;
  /** Answers that leave the outcome open: 504, no answer, another 5xx. */
  indeterminate: number;
  /** Users given at least one answer that states the outcome (holds it, or does not). */
  stated: number;
  /** Users left without one: every answer a 503, open or stating nothing. */
  unstated: number;
  /** Of the unstated, those with an open answer; and of these, the ones who hold a row. */
  open: number;
  openIssued: number;
  /** Answers contradicted by what the user holds once the system has settled. */
  lies: number;
  liars: Liar[];
  rows: number;
  /** Told 202, holds no row. */
  lost: number;
  /** Holds a row that no request of theirs can have claimed (every answer a no, a 503 or nothing), or never asked. */
  invented: number;
  overIssued: number;
  duplicates: number;
  deadLettered202: number;
  issuedQuantityMatches: boolean;
  reconciliationConsistent: boolean;
  violations: string[];
}

/**
 * The answers of one user that what they hold contradicts:
 * - "you hold it" (202, ALREADY_ISSUED), unless they hold exactly one row and were not dead-lettered;
 * - "you do not hold it", when they hold a row and no later request of theirs can have claimed it
 *   (a later 202 or open answer may have: a "no" before a claim was true when said);
 * - a 503, when they hold a row and none of their requests can have claimed it: one of their
 *   503s kept something (one lie however many 503s they got: which one is not known).
 * Two answers that disagree (a 202, then SOLD_OUT with no claim between) are caught either way:
 * whatever the user holds, one of them is contradicted.
 */
function liesIn(answers: Answer[], rows: number, deadLettered: boolean): number {
  let lies = 0;
  answers.forEach((a, i) => {
    const statement = statementOf(a);
    if (statement === 'holds-it' && (rows !== 1 || deadLettered)) lies++;
    if (statement === 'does-not-hold-it' && rows > 0 && !answers.slice(i + 1).some(mayHaveClaimed)) lies++;
  });
  if (rows > 0 && !answers.some(mayHaveClaimed) && answers.some((a) => statementOf(a) === 'kept-nothing')) lies++;
  return lies;
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 23);

/**
 * A set checker in the manner of Jepsen's: every user is classified by the answers that state the
 * outcome, and every answer is held against what the database holds afterwards. "You hold it"
 * must be exactly one row, "you do not" and "this request kept nothing" none; only an answer
 * that promised nothing may go either way, and asking again is what tells.
 */
export function check(users: UserAnswers[], held: Holdings): Verdict {
  const asked = new Set(users.map((u) => u.userId));
  const all = users.flatMap((u) => u.answers);
  const count = (p: (a: Answer) => boolean) => all.filter(p).length;
  const v: Verdict = {
    users: users.length,
    requests: all.length,
    accepted: count((a) => a.status === 202),
    refused: count((a) => a.status === 409 || a.status === 404),
    unavailable: count((a) => a.status === 503),
    gatewayTimeouts: count((a) => a.status === 504),
    deadConnections: count((a) => a.status === 0),
    indeterminate: count((a) => statementOf(a) === 'open'),
    stated: 0,
    unstated: 0,
    open: 0,
    openIssued: 0,
    lies: 0,
    liars: [],
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
  for (const { userId, answers } of users) {
    const rows = held.rows.get(userId) ?? 0;
    const deadLettered = held.deadLettered.has(userId);
    const statements = answers.map(statementOf);
    if (statements.some((s) => s === 'holds-it' || s === 'does-not-hold-it')) v.stated++;
    else {
      v.unstated++;
      if (statements.includes('open')) {
        v.open++;
        if (rows > 0) v.openIssued++;
      }
    }
    if (answers.some((a) => a.status === 202)) {
      if (rows === 0) v.lost++;
      if (deadLettered) v.deadLettered202++;
    }
    if (rows > 0 && !answers.some(mayHaveClaimed)) v.invented++;
    const lies = liesIn(answers, rows, deadLettered);
    if (lies > 0) {
      v.lies += lies;
      const told = answers.map((a) => `${describe(a)} at ${clock(a.sentAt)} in ${a.ms} ms`).join(', ');
      v.liars.push({ userId, lies, answers: told, rows, deadLettered });
    }
  }
  for (const [user, rows] of held.rows) {
    if (rows > 1) v.duplicates += rows - 1;
    if (!asked.has(user)) v.invented++;
  }
  v.overIssued = Math.max(0, v.rows - held.quantity);
  v.issuedQuantityMatches = held.issuedQuantity === v.rows;
  if (v.accepted > held.quantity) v.violations.push(`${v.accepted} answered 202 for a quantity of ${held.quantity}`);
  if (v.lies)
    v.violations.push(
      `${v.lies} lying answers to ${v.liars.length} users (first: user ${v.liars[0].userId} told ${v.liars[0].answers}; holds ${v.liars[0].rows} rows${v.liars[0].deadLettered ? ', dead-lettered' : ''})`,
    );
  if (v.lost) v.violations.push(`${v.lost} users told 202 hold no coupon`);
  if (v.invented) v.violations.push(`${v.invented} users hold a coupon none of their requests can have claimed, or never asked for`);
  if (v.overIssued) v.violations.push(`${v.overIssued} rows beyond the quantity`);
  if (v.duplicates) v.violations.push(`${v.duplicates} duplicate rows`);
  if (v.deadLettered202) v.violations.push(`${v.deadLettered202} users told 202 were dead-lettered`);
  if (!v.issuedQuantityMatches) v.violations.push(`issuedQuantity ${held.issuedQuantity} != rows ${v.rows}`);
  if (!v.reconciliationConsistent) v.violations.push('reconciliation reports Redis claims and rows disagree');
  return v;
}
