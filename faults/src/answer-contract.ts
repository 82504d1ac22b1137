/** One answer to one issue request. `status` 0: no answer at all (connection reset, client timeout). */
export interface Answer {
  status: number;
  code?: string;
  sentAt: number;
  ms: number;
  /** What a 503's Retry-After asked for, in milliseconds, when it sent one. */
  retryAfterMs?: number;
}

/** Every answer one user was given, in the order the requests were sent. */
export interface UserAnswers {
  userId: number;
  answers: Answer[];
}

/**
 * What an answer says about the user's coupon, by SPEC §4.7 (the answer contract):
 * - `holds-it`: 202, 409 ALREADY_ISSUED — exactly one row once the consumer catches up;
 * - `does-not-hold-it`: 409 SOLD_OUT, 409 ISSUE_WINDOW_CLOSED, 404 COUPON_NOT_FOUND;
 * - `kept-nothing`: 503 — this request claimed nothing; it says nothing of other requests;
 * - `open`: 504, a dead connection, or another 5xx (a 502 of an instance killed mid-request);
 * - `nothing`: refused before any claim (400/401/403/429), or an answer the contract does not name.
 */
export type Statement = 'holds-it' | 'does-not-hold-it' | 'kept-nothing' | 'open' | 'nothing';

export function statementOf(a: Answer): Statement {
  if (a.status === 202 || (a.status === 409 && a.code === 'ALREADY_ISSUED')) return 'holds-it';
  if (a.status === 409 && (a.code === 'SOLD_OUT' || a.code === 'ISSUE_WINDOW_CLOSED')) return 'does-not-hold-it';
  if (a.status === 404 && a.code === 'COUPON_NOT_FOUND') return 'does-not-hold-it';
  if (a.status === 503) return 'kept-nothing';
  if (a.status === 0 || a.status >= 500) return 'open';
  return 'nothing';
}

/** Whether the request behind this answer may have left a claim: a 202 did, an open answer may have. */
export const mayHaveClaimed = (a: Answer): boolean => a.status === 202 || statementOf(a) === 'open';

/** `202`, `409 SOLD_OUT`, `0` (no answer): how a user's story is written in logs and violations. */
export const describe = (a: Answer): string => (a.code ? `${a.status} ${a.code}` : String(a.status));
