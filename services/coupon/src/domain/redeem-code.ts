import type { Knex } from 'knex';
import { MysqlError, isMysqlError, type AppError } from '@coupon-rush/platform';
import { codeState, redeem, redemptionsOf, type CodeState, type Redemption } from '../data/coupon-code-repository';
import { parseCode } from './coupon-code';
import { codeAlreadyRedeemed, codeBusy, codeExpired, codeNotFound, codeSuspended } from './refusals';

const ATTEMPTS = 3;

/** The refusal for a code the redemption UPDATE did not match, or undefined if it now looks redeemable. */
function refusal(code: string, state: CodeState | undefined, at: Date): AppError | undefined {
  if (!state || state.campaignDeleted) return codeNotFound(code);
  if (state.redeemed) return codeAlreadyRedeemed(code);
  if (!state.campaignActive) return codeSuspended(code);
  if (state.expiresAt.getTime() <= at.getTime()) return codeExpired(code, state.expiresAt);
  return undefined;
}

/**
 * Redeems a code for a user, exactly once across all users: the database decides (a conditional
 * UPDATE on the code row, plus the unique code_id of the redemption row, in one transaction run by
 * a procedure), so it holds across any number of instances and concurrent requests, with no
 * process lock.
 */
export async function redeemCode(db: Knex, rawCode: unknown, userId: number): Promise<{ code: string; userId: number; redeemedAt: string }> {
  const code = parseCode(rawCode);
  for (let attempt = 1; ; attempt++) {
    const at = new Date();
    let redeemed: boolean;
    try {
      redeemed = await redeem(db, code, userId, at);
    } catch (err) {
      if (isMysqlError(err, MysqlError.DUPLICATE_KEY)) throw codeAlreadyRedeemed(code);
      // Only an archive batch that moves this very code's campaign can deadlock with us.
      if (isMysqlError(err, MysqlError.DEADLOCK) && attempt < ATTEMPTS) continue;
      throw err;
    }
    if (redeemed) return { code, userId, redeemedAt: at.toISOString() };
    const refused = refusal(code, await codeState(db, code), at);
    if (refused) throw refused;
    // The state changed between the UPDATE and the read (resumed in between): try again.
    if (attempt >= ATTEMPTS) throw codeBusy(code);
  }
}

export async function myRedemptions(db: Knex, userId: number): Promise<{ items: Redemption[] }> {
  return { items: await redemptionsOf(db, userId) };
}
