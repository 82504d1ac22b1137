/**
 * Answers per coupon and code, for the coupons this process answered lately: what the live console
 * shows for the coupon it watches. Only coupons whose policy was found are tallied (a crowd of
 * made-up ids adds nothing), and at most `maxCoupons` at once.
 */
export class AnswerTally {
  private readonly coupons = new Map<number, { lastAt: number; codes: Map<string, number> }>();

  constructor(private readonly maxCoupons = 1000) {}

  count(couponId: number, code: string): void {
    let tally = this.coupons.get(couponId);
    if (!tally) {
      if (this.coupons.size >= this.maxCoupons) return;
      tally = { lastAt: 0, codes: new Map() };
      this.coupons.set(couponId, tally);
    }
    tally.lastAt = Date.now();
    tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1);
  }

  /** Each tallied (coupon, code) of the coupons answered within `withinMs`; older coupons are forgotten. */
  recent(withinMs: number): Array<{ couponId: number; code: string; answers: number }> {
    const since = Date.now() - withinMs;
    const out: Array<{ couponId: number; code: string; answers: number }> = [];
    for (const [couponId, tally] of this.coupons) {
      if (tally.lastAt < since) {
        this.coupons.delete(couponId);
        continue;
      }
      for (const [code, answers] of tally.codes) out.push({ couponId, code, answers });
    }
    return out;
  }
}
