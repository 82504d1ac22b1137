import { expect } from 'chai';
import { connectRedis } from '@coupon-rush/platform';
import { RUN_ID, deleteRedisKeys, testRedisSettings } from '@coupon-rush/testkit';
import { ClaimLedger, compareMembers, membersAgree, type ClaimMember } from '../src';

async function* batches(...groups: ClaimMember[][]): AsyncGenerator<ClaimMember[]> {
  for (const group of groups) yield group;
}

const confirmed = (...users: number[]): ClaimMember[] => users.map((userId) => ({ userId, state: 'confirmed' }));
const none = { count: 0, users: [] };

describe('claims compared with rows, user by user', () => {
  it('when the same users hold claims and rows, then nothing is listed and they agree', async () => {
    const c = await compareMembers([1, 2, 3], batches(confirmed(3, 1), confirmed(2)), 1000);
    expect(c).to.deep.equal({ claimsWithoutRow: { ...none, inFlight: none, stranded: none, published: none }, rowsWithoutClaim: none });
    expect(membersAgree(c)).to.equal(true);
  });

  it('when the scan returns a claim twice, then it is counted once, with a row or without', async () => {
    const c = await compareMembers([1, 2], batches(confirmed(1, 5), confirmed(1, 5, 2)), 1000);
    expect(c.claimsWithoutRow).to.deep.include({ count: 1, users: [5] });
    expect(c.rowsWithoutClaim).to.deep.equal(none);
  });

  it('when claims lack rows, then unpublished ones younger than the bound are in flight (no divergence), older ones stranded, the rest published', async () => {
    const claims: ClaimMember[] = [
      { userId: 9, state: 'unpublished', unpublishedForMs: 10 },
      { userId: 8, state: 'unpublished', unpublishedForMs: 5000 },
      { userId: 7, state: 'published' },
      { userId: 6, state: 'confirmed' },
      { userId: 1, state: 'confirmed' },
    ];
    const c = await compareMembers([1], batches(claims), 1000);
    expect(c.claimsWithoutRow).to.deep.equal({ count: 4, users: [6, 7, 8, 9], inFlight: { count: 1, users: [9] }, stranded: { count: 1, users: [8] }, published: { count: 2, users: [6, 7] } });
    expect(membersAgree(c)).to.equal(false);
    const inFlightOnly = await compareMembers([1], batches([claims[0], claims[4]]), 1000);
    expect(membersAgree(inFlightOnly), 'only a claim in flight lacks its row').to.equal(true);
  });

  it('when more users differ than are listed, then all are counted and the lowest are named', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => i + 1);
    const claims = confirmed(...Array.from({ length: 250 }, (_, i) => 1000 - i));
    const c = await compareMembers(rows, batches(claims), 1000, 5);
    expect(c.claimsWithoutRow).to.deep.include({ count: 250, users: [751, 752, 753, 754, 755] });
    expect(c.rowsWithoutClaim).to.deep.equal({ count: 300, users: [1, 2, 3, 4, 5] });
  });
});

/** ClaimLedger.claimMembers against the real Redis master, under this run's prefix. */
describe('the claim ledger read member by member', () => {
  const prefix = `test:${RUN_ID}:members:`;
  let redis: ReturnType<typeof connectRedis>;
  let ledger: ClaimLedger;
  const collect = async (couponId: number, batchSize?: number) => {
    const out: ClaimMember[][] = [];
    for await (const batch of ledger.claimMembers(couponId, batchSize)) out.push(batch);
    return out;
  };

  before(() => {
    redis = connectRedis(testRedisSettings(prefix, { durableReplicas: 0 }));
    ledger = new ClaimLedger(redis, prefix);
  });

  after(async () => {
    await deleteRedisKeys(redis, `${prefix}*`);
    redis.disconnect();
  });

  it('when claims are unpublished, published and confirmed, then each comes with its state, the unpublished one with its age', async () => {
    await ledger.open(1);
    expect(await ledger.claim(1, 10, null)).to.equal('ACCEPTED');
    expect(await ledger.claim(1, 11, null)).to.equal('ACCEPTED');
    expect(await ledger.claim(1, 12, null)).to.equal('ACCEPTED');
    expect(await ledger.markPublished(1, 11)).to.equal(true);
    expect(await ledger.confirm(1, [12])).to.deep.equal([true]);
    const members = (await collect(1)).flat().sort((a, b) => a.userId - b.userId);
    expect(members.map((m) => [m.userId, m.state])).to.deep.equal([
      [10, 'unpublished'],
      [11, 'published'],
      [12, 'confirmed'],
    ]);
    expect(members[0].unpublishedForMs).to.be.within(0, 5000);
  });

  it('when a coupon has no claims, then nothing comes', async () => {
    expect(await collect(2)).to.deep.equal([]);
  });

  it('when a coupon holds 20,000 claims, then every one comes, in batches of about the COUNT asked for', async () => {
    const users = Array.from({ length: 20_000 }, (_, i) => String(100_000 + i));
    for (let i = 0; i < users.length; i += 5000) await redis.sadd(ledger.claimsKey(3), ...users.slice(i, i + 5000));
    const got = await collect(3, 500);
    expect(new Set(got.flat().map((m) => String(m.userId)))).to.deep.equal(new Set(users));
    // COUNT is a hint: a step returns about that many, never the whole set at once.
    expect(Math.max(...got.map((b) => b.length))).to.be.below(2000);
    expect(got.length).to.be.above(10);
  });
});
