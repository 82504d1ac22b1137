/** A claim as ClaimLedger.claimMembers reads it. */
export interface ClaimMember {
  userId: number;
  state: 'unpublished' | 'published' | 'confirmed';
  unpublishedForMs?: number;
}

/** How many users there are of a kind, and the lowest `listed` of them. */
export interface UserList {
  count: number;
  users: number[];
}

/**
 * The claims of a coupon against its rows, user by user. A claim without a row is one of:
 * - `inFlight`: unpublished and younger than the bound: its issuer may still be publishing it,
 *   and no 202 rests on it yet. Not a divergence.
 * - `stranded`: unpublished and older than the bound: its process died before the event was
 *   acknowledged (its user was never told 202); the stranded-claim sweep releases it. It holds a
 *   slot no row will fill, a divergence until then.
 * - `published`: its event was acknowledged (marked, or confirmed by the consumer): a 202 rests on
 *   it. Expected while the consumer has not caught up; a lost coupon once it has.
 * A row without a claim is always a divergence: the claim behind a row is never released, so its
 * absence means Redis lost it (a failover dropping acknowledged writes).
 */
export interface MemberComparison {
  claimsWithoutRow: UserList & { inFlight: UserList; stranded: UserList; published: UserList };
  rowsWithoutClaim: UserList;
}

const KINDS = ['inFlight', 'stranded', 'published'] as const;

/** The index of `user` in the ascending `users`, or -1. */
function indexOf(users: readonly number[], user: number): number {
  let lo = 0;
  let hi = users.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (users[mid] === user) return mid;
    if (users[mid] < user) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function listOf(users: number[], listed: number): UserList {
  return { count: users.length, users: users.slice(0, listed) };
}

/**
 * Compares the users holding a row (`rowUsers`: ascending, distinct, as the unique index yields
 * them) with the claims streamed from Redis. Memory is the rows, a byte per row and the claims
 * without a row; the claims are never held all at once. Unpublished claims younger than
 * `inFlightMs` are in flight. At most `listed` users of each kind are named, the lowest first.
 */
export async function compareMembers(rowUsers: readonly number[], claims: AsyncIterable<ClaimMember[]>, inFlightMs: number, listed = 100): Promise<MemberComparison> {
  const matched = new Uint8Array(rowUsers.length);
  // By user: SSCAN may return a member twice.
  const withoutRow = new Map<number, (typeof KINDS)[number]>();
  for await (const batch of claims) {
    for (const claim of batch) {
      const row = indexOf(rowUsers, claim.userId);
      if (row >= 0) matched[row] = 1;
      else withoutRow.set(claim.userId, claim.state !== 'unpublished' ? 'published' : (claim.unpublishedForMs ?? 0) < inFlightMs ? 'inFlight' : 'stranded');
    }
  }
  const byKind = { inFlight: [] as number[], stranded: [] as number[], published: [] as number[] };
  for (const [user, kind] of withoutRow) byKind[kind].push(user);
  const ascending = (a: number, b: number) => a - b;
  const all = [...withoutRow.keys()].sort(ascending);
  const rowsWithoutClaim = rowUsers.filter((_, i) => matched[i] === 0);
  return {
    claimsWithoutRow: {
      ...listOf(all, listed),
      inFlight: listOf(byKind.inFlight.sort(ascending), listed),
      stranded: listOf(byKind.stranded.sort(ascending), listed),
      published: listOf(byKind.published.sort(ascending), listed),
    },
    rowsWithoutClaim: listOf(rowsWithoutClaim, listed),
  };
}

/** No claim without a row but those in flight, and no row without a claim. */
export const membersAgree = (c: MemberComparison) => c.claimsWithoutRow.stranded.count === 0 && c.claimsWithoutRow.published.count === 0 && c.rowsWithoutClaim.count === 0;
