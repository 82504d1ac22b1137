/**
 * The issue contract, in one place: the claim state machine in Redis (claim, mark published,
 * confirm, revoke, the Lua scripts and their keys), the issue event with its topics, and what
 * claims and rows must agree on, the waiting room in front of the claim for queued coupons, and
 * the answers about coupons the services share. issue-coupon claims and publishes, coupon-service confirms and
 * persists, and both, the console, the fault suite and the bench read it from here.
 */
export * from './claim-ledger';
export * from './coupon-keys';
export * from './claim-reconciliation';
export * from './coupon-refusals';
export * from './issue-events';
export * from './waiting-line';
export * from './queue-pass';
export * from './waiting-ticket';
