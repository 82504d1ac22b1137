import { expect } from 'chai';
import knex, { type Knex } from 'knex';
import type { RunningService } from '@coupon-rush/platform';
import { start as startGateway } from '@coupon-rush/gateway';
import { http, inParallel, isolatedOverrides, RUN_ID, tally, tokenFor } from '@coupon-rush/testkit';
import type { CouponServiceConfig } from '@coupon-rush/coupon-service/config';
import { codeSearchQueries, redemptionsQuery } from '@coupon-rush/coupon-service/coupon-code-queries';
import { start as startCoupon } from '@coupon-rush/coupon-service';

const DAY = 24 * 3600_000;
const CODE = /^[A-Z0-9]{16}$/;

describe('campaigns of one-time codes, through the gateway', function () {
  this.timeout(180_000);
  let coupon: RunningService<CouponServiceConfig>;
  let gateway: RunningService<unknown>;
  let base: string;
  let db: Knex;
  const overrides = isolatedOverrides();
  const admin = tokenFor(1, 'ADMIN');
  let nextUser = 10_000;
  const newUser = () => nextUser++;

  async function newCampaign(name = `campaign-${RUN_ID}-${nextUser++}`): Promise<{ id: number; name: string }> {
    const res = await http('POST', `${base}/campaigns`, { token: admin, body: { name, description: 'test' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  async function generate(campaignId: number, count: number, expiresAt = new Date(Date.now() + DAY).toISOString()) {
    const res = await http('POST', `${base}/campaigns/${campaignId}/codes`, { token: admin, body: { count, expiresAt } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.deep.equal({ generated: count });
  }

  const list = (query: string) => http('GET', `${base}/codes?${query}`, { token: admin });

  async function codesOf(name: string): Promise<string[]> {
    const res = await list(`campaign=${encodeURIComponent(name)}&size=100`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.items.map((c: any) => c.code);
  }

  const redeem = (code: string, userId: number) => http('POST', `${base}/codes/${code}/redemptions`, { token: tokenFor(userId) });
  const answer = (res: { status: number; body: any }) => [res.status, res.body?.code];
  const setActive = (id: number, active: boolean) => http('PATCH', `${base}/campaigns/${id}`, { token: admin, body: { active } });
  const rows = async (table: string, where: Record<string, unknown> = {}) => Number((await db(table).where(where).count({ n: '*' }))[0].n);

  before(async () => {
    coupon = await startCoupon({ port: 0, configServerUrl: null, overrides });
    gateway = await startGateway({ port: 0, configServerUrl: null, overrides });
    base = `${gateway.url}/api`;
    const m = coupon.config().mysql;
    db = knex({ client: 'mysql2', connection: { host: m.host, port: m.port, user: m.user, password: m.password, database: m.database, timezone: 'Z' }, pool: { min: 0, max: 2 } });
  });

  after(async () => {
    await db?.destroy();
    await gateway?.stop();
    await coupon?.stop();
  });

  it('when an admin generates 5 codes, then they are distinct, 16 characters of [A-Z0-9], and the campaign counts them', async () => {
    const campaign = await newCampaign();
    expect(campaign).to.include({ description: 'test', active: true });
    await generate(campaign.id, 5);
    const codes = await codesOf(campaign.name);
    expect(codes).to.have.length(5);
    expect(new Set(codes).size).to.equal(5);
    for (const code of codes) expect(code).to.match(CODE);
    const read = await http('GET', `${base}/campaigns/${campaign.id}`, { token: admin });
    expect(read.body).to.deep.include({ id: campaign.id, name: campaign.name, active: true, codes: { total: 5, redeemed: 0 } });
  });

  it('when 100,000 codes are generated in one call, then all are stored, distinct and well-formed', async () => {
    const campaign = await newCampaign();
    const started = Date.now();
    await generate(campaign.id, 100_000);
    const ms = Date.now() - started;
    console.log(`      100,000 codes in ${ms} ms through the gateway: ${Math.round(100_000 / (ms / 1000))} codes/s`);
    const [[stats]] = await db.raw("SELECT COUNT(*) AS n, COUNT(DISTINCT code) AS distinct_codes, SUM(code REGEXP '^[A-Z0-9]{16}$') AS well_formed FROM coupon_codes WHERE campaign_id = ?", [
      campaign.id,
    ]);
    expect([Number(stats.n), Number(stats.distinct_codes), Number(stats.well_formed)]).to.deep.equal([100_000, 100_000, 100_000]);
    expect((await http('GET', `${base}/campaigns/${campaign.id}`, { token: admin })).body.codes).to.deep.equal({ total: 100_000, redeemed: 0 });
  });

  it('when a campaign is suspended, then its codes are refused; resumed, then a code redeems once and never again', async () => {
    const campaign = await newCampaign();
    await generate(campaign.id, 2);
    const [code] = await codesOf(campaign.name);
    const [first, second] = [newUser(), newUser()];

    const suspended = await setActive(campaign.id, false);
    expect(suspended.status).to.equal(200);
    expect(suspended.body).to.include({ active: false });
    expect(answer(await redeem(code, first))).to.deep.equal([409, 'CODE_SUSPENDED']);
    expect((await list(`code=${code}`)).body.items[0]).to.include({ active: false, redeemed: false });

    expect((await setActive(campaign.id, true)).body).to.include({ active: true });
    const redeemed = await redeem(code.toLowerCase(), first);
    expect(redeemed.status, JSON.stringify(redeemed.body)).to.equal(201);
    expect(redeemed.body).to.have.keys('code', 'userId', 'redeemedAt');
    expect(redeemed.body).to.include({ code, userId: first });
    expect(answer(await redeem(code, first))).to.deep.equal([409, 'CODE_ALREADY_REDEEMED']);
    expect(answer(await redeem(code, second))).to.deep.equal([409, 'CODE_ALREADY_REDEEMED']);

    const mine = await http('GET', `${base}/users/me/codes`, { token: tokenFor(first) });
    expect(mine.body.items).to.deep.equal([{ code, campaignId: campaign.id, campaign: campaign.name, redeemedAt: redeemed.body.redeemedAt }]);
    expect((await http('GET', `${base}/users/me/codes`, { token: tokenFor(second) })).body.items).to.deep.equal([]);
  });

  it('when 50 users redeem one code at once, then exactly one gets 201 and one redemption row exists', async () => {
    const campaign = await newCampaign();
    await generate(campaign.id, 1);
    const [code] = await codesOf(campaign.name);
    const users = Array.from({ length: 50 }, newUser);
    const answers = await inParallel(50, 50, (i) => redeem(code, users[i]));
    expect(tally(answers.map((a) => (a.status === 201 ? 201 : a.body.code)))).to.deep.equal({ 201: 1, CODE_ALREADY_REDEEMED: 49 });
    const winner = answers.find((a) => a.status === 201)!.body.userId;
    const [row] = await db('coupon_codes').where({ code });
    expect(await rows('code_redemptions', { code_id: row.id })).to.equal(1);
    expect(Number(row.redeemed_by)).to.equal(winner);
    expect(Number((await db('code_redemptions').where({ code_id: row.id }).first()).user_id)).to.equal(winner);
  });

  it('when codes are listed by campaign, redeemed flag and code, then exactly the matching codes come back, paged without overlap', async () => {
    const a = await newCampaign(`list-a-${RUN_ID}`);
    const b = await newCampaign(`list-b-${RUN_ID}`);
    await generate(a.id, 7);
    await generate(b.id, 3);
    const codesA = await codesOf(a.name);
    const codesB = await codesOf(b.name);
    expect(codesA).to.have.length(7);
    const redeemedA = codesA.slice(0, 2);
    const redeemer = newUser();
    for (const code of redeemedA) expect((await redeem(code, redeemer)).status).to.equal(201);

    const redeemed = await list(`campaign=${a.name}&redeemed=true`);
    expect(redeemed.body.total).to.equal(2);
    expect(redeemed.body.items.map((c: any) => c.code)).to.have.members(redeemedA);
    for (const item of redeemed.body.items) expect(item).to.include({ campaign: a.name, campaignId: a.id, redeemed: true, redeemedBy: redeemer, active: true });

    const pages = [];
    for (let page = 0; page < 3; page++) {
      const res = await list(`campaign=${a.name}&redeemed=false&size=2&page=${page}&sort=createdAt`);
      expect(res.body).to.include({ page, size: 2, total: 5 });
      pages.push(res.body.items.map((c: any) => c.code));
    }
    expect(pages.map((p) => p.length)).to.deep.equal([2, 2, 1]);
    expect(pages.flat()).to.have.members(codesA.slice(2));
    const newestFirst = (await list(`campaign=${a.name}&redeemed=false&size=5`)).body.items.map((c: any) => c.code);
    expect(newestFirst).to.deep.equal(pages.flat().reverse());

    const one = await list(`code=${codesB[1].toLowerCase()}`);
    expect(one.body.total).to.equal(1);
    expect(one.body.items).to.have.length(1);
    expect(one.body.items[0]).to.include({ code: codesB[1], campaign: b.name, redeemed: false, redeemedBy: null, redeemedAt: null });
    expect((await list(`code=${codesB[1]}&redeemed=true`)).body.total).to.equal(0);
    expect((await list(`campaign=no-such-campaign-${RUN_ID}`)).body).to.deep.equal({ items: [], page: 0, size: 20, total: 0 });
    const allRedeemed = await list('redeemed=true&size=100');
    expect(allRedeemed.body.items.map((c: any) => c.code)).to.include.members(redeemedA);
    expect(allRedeemed.body.items.every((c: any) => c.redeemed)).to.equal(true);

    expect((await http('DELETE', `${base}/campaigns/${b.id}`, { token: admin })).status).to.equal(204);
    expect((await list(`campaign=${b.name}`)).body.total).to.equal(0);
    expect((await list(`code=${codesB[0]}`)).body.total).to.equal(0);
  });

  it('when the listing queries are explained, then each reads through an index, and filtered pages need no sort', async () => {
    await db.raw('ANALYZE TABLE campaigns, coupon_codes');
    const [[{ id: campaignId }]] = await db.raw('SELECT campaign_id AS id FROM coupon_codes GROUP BY campaign_id ORDER BY COUNT(*) DESC LIMIT 1');
    const [[{ code }]] = await db.raw('SELECT code FROM coupon_codes LIMIT 1');
    // [filter, index read for the page, index read for the total]
    const cases: Array<[string, Parameters<typeof codeSearchQueries>[1], string, string]> = [
      ['by campaign', { campaignIds: [campaignId] }, 'coupon_codes_campaign_index', 'coupon_codes_campaign_index'],
      ['by campaign, not redeemed', { campaignIds: [campaignId], redeemed: false }, 'coupon_codes_campaign_redeemed_index', 'coupon_codes_campaign_redeemed_index'],
      ['by campaign, redeemed', { campaignIds: [campaignId], redeemed: true }, 'coupon_codes_campaign_redeemed_index', 'coupon_codes_campaign_redeemed_index'],
      ['by code', { code }, 'coupon_codes_code_unique', 'coupon_codes_code_unique'],
      ['redeemed', { redeemed: true }, 'coupon_codes_redeemed_index', 'coupon_codes_redeemed_index'],
      ['not redeemed', { redeemed: false }, 'coupon_codes_redeemed_index', 'coupon_codes_campaign_redeemed_index'],
      ['unfiltered', {}, 'PRIMARY', 'coupon_codes_campaign_index'],
    ];
    for (const [name, filter, pageIndex, totalIndex] of cases) {
      for (const [kind, query] of Object.entries(codeSearchQueries(db, filter, 'desc', 0, 20))) {
        const sql = query.toSQL().toNative();
        const [plan] = await db.raw(`EXPLAIN ${sql.sql}`, sql.bindings as Knex.RawBinding[]);
        console.log(`      ${name} (${kind}):\n${plan.map((p: any) => `        ${p.table} type=${p.type} key=${p.key} rows=${p.rows} ${p.Extra ?? ''}`).join('\n')}`);
        const codes = plan.find((p: any) => p.table === 'c');
        const campaigns = plan.find((p: any) => p.table === 'k');
        expect(plan[0].table, `${name} ${kind}: codes are read first`).to.equal('c');
        expect(codes.key, `${name} ${kind}`).to.equal(kind === 'items' ? pageIndex : totalIndex);
        expect(campaigns.type, `${name} ${kind}`).to.be.oneOf(['eq_ref', 'const']);
        expect(plan.map((p: any) => p.Extra).join(' '), `${name} ${kind}`).not.to.match(/filesort|temporary/);
      }
    }
    const mine = redemptionsQuery(db, 10_000).toSQL().toNative();
    const [plan] = await db.raw(`EXPLAIN ${mine.sql}`, mine.bindings as Knex.RawBinding[]);
    console.log(`      a user's redemptions:\n${plan.map((p: any) => `        ${p.table} type=${p.type} key=${p.key} rows=${p.rows} ${p.Extra ?? ''}`).join('\n')}`);
    expect(plan.map((p: any) => [p.table, p.key])).to.deep.equal([
      ['r', 'code_redemptions_user_index'],
      ['c', 'PRIMARY'],
      ['k', 'PRIMARY'],
    ]);
    expect(plan.map((p: any) => p.Extra).join(' ')).not.to.match(/filesort|temporary/);
  });

  it('when a code has expired, its campaign is deleted, or it does not exist, then CODE_EXPIRED, CODE_NOT_FOUND, or 400 for a malformed one', async () => {
    const expiring = await newCampaign();
    await generate(expiring.id, 1);
    const [expired] = await codesOf(expiring.name);
    await db('coupon_codes')
      .where({ code: expired })
      .update({ expires_at: new Date(Date.now() - 1000) });
    expect(answer(await redeem(expired, newUser()))).to.deep.equal([409, 'CODE_EXPIRED']);

    const doomed = await newCampaign();
    await generate(doomed.id, 1);
    const [deleted] = await codesOf(doomed.name);
    expect((await http('DELETE', `${base}/campaigns/${doomed.id}`, { token: admin })).status).to.equal(204);
    expect(answer(await redeem(deleted, newUser()))).to.deep.equal([404, 'CODE_NOT_FOUND']);
    expect(answer(await http('GET', `${base}/campaigns/${doomed.id}`, { token: admin }))).to.deep.equal([404, 'CAMPAIGN_NOT_FOUND']);
    expect(answer(await http('DELETE', `${base}/campaigns/${doomed.id}`, { token: admin }))).to.deep.equal([404, 'CAMPAIGN_NOT_FOUND']);
    expect(answer(await setActive(doomed.id, true))).to.deep.equal([404, 'CAMPAIGN_NOT_FOUND']);
    const late = await http('POST', `${base}/campaigns/${doomed.id}/codes`, { token: admin, body: { count: 1, expiresAt: new Date(Date.now() + DAY).toISOString() } });
    expect(answer(late)).to.deep.equal([404, 'CAMPAIGN_NOT_FOUND']);

    expect(answer(await redeem('ZZZZZZZZZZZZZZZZ', newUser()))).to.deep.equal([404, 'CODE_NOT_FOUND']);
    for (const bad of ['SHORT', 'A'.repeat(17), 'ABCDEFGH-JKLMNOP', "'%20OR%201=1--%20AAAA", 'x'.repeat(4000)]) {
      expect(answer(await redeem(bad, newUser())), bad).to.deep.equal([400, 'VALIDATION_FAILED']);
    }
    expect((await http('POST', `${base}/codes/${expired}/redemptions`)).status).to.equal(401);
  });

  it('when a campaign is soft-deleted long enough ago, then the archive job moves it with its codes and redemptions, once', async () => {
    const campaign = await newCampaign();
    await generate(campaign.id, 3);
    const codes = await codesOf(campaign.name);
    expect((await redeem(codes[0], newUser())).status).to.equal(201);
    expect((await http('DELETE', `${base}/campaigns/${campaign.id}`, { token: admin })).status).to.equal(204);
    const codeIds = (await db('coupon_codes').select('id').where({ campaign_id: campaign.id })).map((r) => r.id);

    // Deleted just now, younger than olderThanHours (720 by default): it stays.
    const early = await http('POST', `${base}/campaigns/archive-runs`, { token: admin });
    expect(early.status, JSON.stringify(early.body)).to.equal(200);
    expect(await rows('campaigns', { id: campaign.id })).to.equal(1);

    await db('campaigns')
      .where({ id: campaign.id })
      .update({ deleted_at: new Date(Date.now() - 721 * 3600_000) });
    const run = await http('POST', `${base}/campaigns/archive-runs`, { token: admin });
    expect(run.body).to.deep.equal({ campaigns: 1, codes: 3, redemptions: 1 });
    expect([
      await rows('campaigns', { id: campaign.id }),
      await rows('coupon_codes', { campaign_id: campaign.id }),
      Number((await db('code_redemptions').whereIn('code_id', codeIds).count({ n: '*' }))[0].n),
    ]).to.deep.equal([0, 0, 0]);
    expect([
      await rows('campaigns_archive', { id: campaign.id }),
      await rows('coupon_codes_archive', { campaign_id: campaign.id }),
      Number((await db('code_redemptions_archive').whereIn('code_id', codeIds).count({ n: '*' }))[0].n),
    ]).to.deep.equal([1, 3, 1]);

    const again = await http('POST', `${base}/campaigns/archive-runs`, { token: admin });
    expect(again.body).to.deep.equal({ campaigns: 0, codes: 0, redemptions: 0 });
    const metrics = (await http('GET', `${coupon.url}/metrics`)).body as string;
    expect(metrics).to.match(/coupon_campaign_archive_runs_total\{trigger="request",outcome="ok"[^}]*\} 3/);
    expect(metrics).to.match(/coupon_campaign_archived_rows_total\{table="coupon_codes"[^}]*\} 3/);
    expect(answer(await redeem(codes[1], newUser()))).to.deep.equal([404, 'CODE_NOT_FOUND']);
  });

  it('when input is malformed or the caller is not an admin, then a clear 4xx with a code, never a 500, and nothing is written', async () => {
    const campaign = await newCampaign();
    const future = new Date(Date.now() + DAY).toISOString();
    const before = [await rows('campaigns'), await rows('coupon_codes')];
    const user = tokenFor(newUser());
    const cases: Array<[string, string, { raw?: string; body?: unknown; token?: string }, number, string]> = [
      ['POST', '/campaigns', { raw: '{"name": ', token: admin }, 400, 'MALFORMED_JSON'],
      ['POST', '/campaigns', { body: { name: 42 }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', '/campaigns', { body: { name: '   ' }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', '/campaigns', { body: { name: 'x'.repeat(101) }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', '/campaigns', { body: { name: 'nul\u0000byte' }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', '/campaigns', { body: { name: 'ok', description: ['x'] }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', '/campaigns', { body: { name: 'ok', active: false }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', '/campaigns', { body: [{ name: 'ok' }], token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', '/campaigns', { body: { name: 'ok', description: 'x'.repeat(20_000) }, token: admin }, 413, 'PAYLOAD_TOO_LARGE'],
      ['POST', '/campaigns', { body: { name: 'ok' }, token: user }, 403, 'FORBIDDEN'],
      ['POST', '/campaigns', { body: { name: 'ok' } }, 401, 'UNAUTHORIZED'],
      ['POST', `/campaigns/${campaign.id}/codes`, { body: { count: 0, expiresAt: future }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', `/campaigns/${campaign.id}/codes`, { body: { count: -5, expiresAt: future }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', `/campaigns/${campaign.id}/codes`, { body: { count: 100_001, expiresAt: future }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', `/campaigns/${campaign.id}/codes`, { body: { count: 1.5, expiresAt: future }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', `/campaigns/${campaign.id}/codes`, { body: { count: '10', expiresAt: future }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', `/campaigns/${campaign.id}/codes`, { body: { count: 1e300, expiresAt: future }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', `/campaigns/${campaign.id}/codes`, { body: { count: 5 }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', `/campaigns/${campaign.id}/codes`, { body: { count: 5, expiresAt: '2020-01-01T00:00:00Z' }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', `/campaigns/${campaign.id}/codes`, { body: { count: 5, expiresAt: 'next tuesday' }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', `/campaigns/${campaign.id}/codes`, { body: { count: 5, expiresAt: '2031-13-45T00:00:00Z' }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', `/campaigns/${campaign.id}/codes`, { body: { count: 5, expiresAt: 1_900_000_000_000 }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', `/campaigns/${campaign.id}/codes`, { raw: '{"count": 5, "expiresAt": ', token: admin }, 400, 'MALFORMED_JSON'],
      ['POST', `/campaigns/${campaign.id}/codes`, { body: { count: 5, expiresAt: future }, token: user }, 403, 'FORBIDDEN'],
      ['POST', '/campaigns/0/codes', { body: { count: 5, expiresAt: future }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', '/campaigns/999999999/codes', { body: { count: 5, expiresAt: future }, token: admin }, 404, 'CAMPAIGN_NOT_FOUND'],
      ['PATCH', `/campaigns/${campaign.id}`, { body: { active: 'no' }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['PATCH', `/campaigns/${campaign.id}`, { body: {}, token: admin }, 400, 'VALIDATION_FAILED'],
      ['PATCH', `/campaigns/${campaign.id}`, { body: { active: false, name: 'renamed' }, token: admin }, 400, 'VALIDATION_FAILED'],
      ['PATCH', `/campaigns/${campaign.id}`, { body: { active: false }, token: user }, 403, 'FORBIDDEN'],
      ['DELETE', `/campaigns/${campaign.id}`, { token: user }, 403, 'FORBIDDEN'],
      ['GET', `/campaigns/${campaign.id}`, { token: user }, 403, 'FORBIDDEN'],
      ['GET', '/campaigns/abc', { token: admin }, 400, 'VALIDATION_FAILED'],
      ['GET', '/campaigns/-1', { token: admin }, 400, 'VALIDATION_FAILED'],
      ['POST', '/campaigns/archive-runs', { token: user }, 403, 'FORBIDDEN'],
      ['GET', '/codes', { token: user }, 403, 'FORBIDDEN'],
      ['GET', '/codes?redeemed=maybe', { token: admin }, 400, 'VALIDATION_FAILED'],
      ['GET', '/codes?page=-1', { token: admin }, 400, 'VALIDATION_FAILED'],
      ['GET', '/codes?size=101', { token: admin }, 400, 'VALIDATION_FAILED'],
      ['GET', '/codes?code=ABC', { token: admin }, 400, 'VALIDATION_FAILED'],
      ['GET', '/codes?campaign=%27%20OR%201%3D1--&code=AAAAAAAAAAAAAAA%27', { token: admin }, 400, 'VALIDATION_FAILED'],
      ['GET', '/codes?campaign=a&campaign=b', { token: admin }, 400, 'VALIDATION_FAILED'],
      ['GET', '/codes?redemed=true', { token: admin }, 400, 'VALIDATION_FAILED'],
      ['GET', '/codes?sort=constructor', { token: admin }, 400, 'VALIDATION_FAILED'],
      ['GET', '/users/me/codes', {}, 401, 'UNAUTHORIZED'],
    ];
    for (const [method, path, opts, status, code] of cases) {
      const res = await http(method, `${base}${path}`, opts);
      expect([res.status, res.body?.code], `${method} ${path} ${JSON.stringify(opts.body ?? opts.raw)?.slice(0, 80)}`).to.deep.equal([status, code]);
      expect(res.headers.get('content-type')).to.match(/application\/problem\+json/);
    }
    expect([await rows('campaigns'), await rows('coupon_codes')]).to.deep.equal(before);
    expect((await http('GET', `${base}/campaigns/${campaign.id}`, { token: admin })).body).to.include({ active: true });
    const odd = await http('POST', `${base}/campaigns`, { token: admin, body: { name: "'; DROP TABLE campaigns; -- 🎟", description: 'line one\nline two' } });
    expect(odd.status).to.equal(201);
    expect(odd.body).to.include({ name: "'; DROP TABLE campaigns; -- 🎟", description: 'line one\nline two' });
  });
});
