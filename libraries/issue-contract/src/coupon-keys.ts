/**
 * Keys that more than one script set reads, under a key prefix and in the coupon's hash slot: the
 * ledger's claimants (the waiting room reads them to tell claimants and sold-out apart), and the
 * waiting room's passes out (a claim of a queued coupon takes its pass in the claim script).
 */
export function claimsKeyOf(prefix: string, couponId: number): string {
  return `${prefix}coupon:{${couponId}}:claims`;
}

export function passesKeyOf(prefix: string, couponId: number): string {
  return `${prefix}coupon:{${couponId}}:queue:passes`;
}
