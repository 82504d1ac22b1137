import type { Knex } from 'knex';
import { AppError, MysqlError, isMysqlError } from '@coupon-rush/platform';
import { codeState, redeem, redemptionsOf, type CodeState, type Redemption } from '../data/coupon-code-repository';
import { parseCode } from './coupon-code';

const ATTEMPTS = 3;

const notFound = (code: string) => new AppError('CODE_NOT_FOUND', 404, `Code ${code} does not exist`);
const alreadyRedeemed = (code: string) => new AppError('CODE_ALREADY_REDEEMED', 409, `Code ${code} has already been redeemed`);

/** The refusal for a code the redemption UPDATE did not match, or undefined if it now looks redeemable. */
function refusal(code: string, state: CodeState | undefined, at: Date): AppError | undefined {
  if (!state || state.campaignDeleted) return notFound(code);
  if (state.redeemed) return alreadyRedeemed(code);
  if (!state.campaignActive) return new AppError('CODE_SUSPENDED', 409, `Code ${code} is suspended`);
  if (state.expiresAt.getTime() <= at.getTime()) return new AppError('CODE_EXPIRED', 409, `Code ${code} expired at ${state.expiresAt.toISOString()}`);
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
      if (isMysqlError(err, MysqlError.DUPLICATE_KEY)) throw alreadyRedeemed(code);
      // Only an archive batch that moves this very code's campaign can deadlock with us.
      if (isMysqlError(err, MysqlError.DEADLOCK) && attempt < ATTEMPTS) continue;
      throw err;
    }
    if (redeemed) return { code, userId, redeemedAt: at.toISOString() };
    const refused = refusal(code, await codeState(db, code), at);
    if (refused) throw refused;
    // The state changed between the UPDATE and the read (resumed in between): try again.
    if (attempt >= ATTEMPTS) throw new AppError('CODE_BUSY', 409, `Code ${code} is changing state, try again`);
  }
}

export async function myRedemptions(db: Knex, userId: number): Promise<{ items: Redemption[] }> {
  return { items: await redemptionsOf(db, userId) };
}
