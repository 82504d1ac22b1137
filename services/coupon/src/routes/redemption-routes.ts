import type { Knex } from 'knex';
import { bodilessPostRoute, callerOf, type Logger } from '@coupon-rush/platform';
import { redeemCode } from '../domain/redeem-code';

/** POST /codes/:code/redemptions, served before Express like the issue route: the path a crowd of code holders takes. */
export function redemptionHotRoute(db: Knex, outcome: (code: string) => void, logger: Logger) {
  return bodilessPostRoute(/^\/codes\/([^/?]*)\/redemptions\/?(?:\?.*)?$/, '/codes/:code/redemptions', logger, async (req, rawCode) => {
    try {
      const { userId } = callerOf(req);
      // Not decoded: a code is 16 characters of A-Z and 0-9, anything else is refused with a 400.
      const redeemed = await redeemCode(db, rawCode, userId);
      outcome('REDEEMED');
      return { status: 201, body: redeemed };
    } catch (err: any) {
      outcome(typeof err?.code === 'string' ? err.code : 'ERROR');
      throw err;
    }
  });
}
