/**
 * The issue contract, in one place: the claim state machine in Redis (claim, mark published,
 * confirm, revoke, the Lua scripts and their keys) and the issue event with its topics. issue-coupon
 * claims and publishes, coupon-service confirms and persists, and both, the fault suite and the
 * bench read it from here.
 */
export * from './claim-ledger';
export * from './issue-events';
