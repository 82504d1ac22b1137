/**
 * The issue contract, in one place: the claim state machine in Redis (claim, mark published,
 * confirm, revoke, the Lua scripts and their keys), the issue event with its topics, and what
 * claims and rows must agree on, and the waiting room in front of the claim for queued coupons. issue-coupon claims and publishes, coupon-service confirms and
 * persists, and both, the console, the fault suite and the bench read it from here.
 */
export * from './claim-ledger';
export * from './claim-reconciliation';
export * from './issue-events';
export * from './waiting-line';
