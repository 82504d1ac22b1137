import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import knex from 'knex';
import { REPO_ROOT, connectRedis, type RunningService } from '@coupon-rush/platform';
import { ClaimLedger } from '@coupon-rush/issue-contract';
import { CHROMIUM, launchChromium, watchInConsole } from '@coupon-rush/loadkit';
import { eventually, http, inParallel, isolatedOverrides, metricTotal, tally, tokenFor } from '@coupon-rush/testkit';
import { start as startConsole } from '@coupon-rush/console-service';
import { start as startCoupon } from '@coupon-rush/coupon-service';
import type { CouponServiceConfig } from '@coupon-rush/coupon-service/dist/src/config';
import { start as startIssue } from '@coupon-rush/issue-coupon-service';
import { start as startUser } from '@coupon-rush/user-service';
import { start as startGateway } from '@coupon-rush/gateway';

const RESULTS = path.join(process.env.COUPON_RUSH_RUN ?? path.join(REPO_ROOT, '.run'), 'test-results');
const HOUR = 3600_000;

interface Tick {
  stock: { claimed: number; remaining: number | null };
  answersPerSecond: Record<string, number>;
  latency: { requests: number; p50Ms: number | null; p99Ms: number | null };
  consumer: { lag: number | null };
  reconciliation: { accepted: number; rows: number; pending: number; claimsWithoutRow: number | null; rowsWithoutClaim: number | null; consistent: boolean };
  deadLettered: number | null;
  usage: { issued: number; used: number; expired: number; usable: number } | null;
  queue: { waiting: number; admittedPerSecond: number; lastInLineWaitSeconds: number; passesOut: number; abandoned: number } | null;
  instances: Array<{ service: string; inRotation: number }>;
  errors: string[];
}

/** A live view opened as the page opens it: fetch with the token, the event stream read as it comes. */
function openLiveView(url: string, token: string) {
  const ticks: Tick[] = [];
  const abort = new AbortController();
  const head = fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal }).then(async (res) => {
    if (res.status !== 200) return res;
    void (async () => {
      let buffer = '';
      for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('\n');
          if (/^event: tick$/m.test(block)) ticks.push(JSON.parse(data) as Tick);
        }
      }
    })().catch(() => {});
    return res;
  });
  return { ticks, head, close: () => abort.abort() };
}

describe('live event console: the page and its event stream through the gateway', function () {
  this.timeout(120_000);
  const services: Array<RunningService<unknown>> = [];
  // Two coupons watched at once at most, so the bound is reached by a test.
  const overrides = isolatedOverrides({ coupon: { writeBack: { intervalMs: 200 } }, console: { live: { maxWatchedCoupons: 2 } } });
  let gateway: string;
  let coupons: RunningService<CouponServiceConfig>;
  let consoleUrl: string;
  let adminToken: string;
  let nextUser = 70_000;

  async function newCoupon(title: string, totalQuantity: number | null): Promise<number> {
    const now = Date.now();
    const res = await http('POST', `${gateway}/api/coupons`, {
      token: adminToken,
      body: { title, totalQuantity, discountAmount: 1000, issueStartAt: new Date(now - 60_000).toISOString(), issueEndAt: new Date(now + HOUR).toISOString() },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id;
  }

  /** `users` distinct users claim at once, each twice, through the gateway: what a rush sends. */
  async function rush(couponId: number, users: number) {
    const first = nextUser;
    nextUser += users;
    // Each user asks twice, the second time once the first is answered: a second ask while the first
    // is still being decided is a 503 (issue-coupon's own tests show that), which would blur the counts.
    const issue = (user: number) => http('POST', `${gateway}/api/coupons/${couponId}/issues`, { token: tokenFor(user) });
    const answers = await inParallel(users, 32, async (i) => [await issue(first + i), await issue(first + i)]);
    return tally(answers.flat().map((a) => a.status));
  }

  before(async () => {
    services.push(await startUser({ port: 0, configServerUrl: null, overrides }));
    coupons = (await startCoupon({ port: 0, configServerUrl: null, overrides })) as RunningService<CouponServiceConfig>;
    services.push(coupons);
    services.push(await startIssue({ port: 0, configServerUrl: null, overrides }));
    const live = await startConsole({ port: 0, configServerUrl: null, overrides });
    services.push(live);
    consoleUrl = live.url;
    const gw = await startGateway({ port: 0, configServerUrl: null, overrides });
    services.push(gw);
    gateway = gw.url;
    const login = await http('POST', `${gateway}/api/users/login`, { body: { email: 'admin@coupon.local', password: 'admin1234!' } });
    expect(login.status, JSON.stringify(login.body)).to.equal(200);
    adminToken = login.body.accessToken;
  });

  after(async () => {
    for (const s of services.reverse()) await s.stop();
  });

  it('when the console is asked for through the gateway, then its page and assets come without a token, with a policy that keeps it to its own origin', async () => {
    const bare = await fetch(`${gateway}/console`, { redirect: 'manual' });
    expect(bare.status).to.equal(301);
    expect(bare.headers.get('location')).to.equal('/console/');
    const page = await fetch(`${gateway}/console/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.headers.get('content-security-policy')).to.include("default-src 'self'");
    const html = await page.text();
    expect(html).to.include('assets/console.js');
    const script = await fetch(`${gateway}/console/assets/console.js`);
    expect(script.status).to.equal(200);
    expect(script.headers.get('content-type')).to.match(/javascript/);
    expect((await fetch(`${gateway}/console/nothing-here.js`)).status).to.equal(404);
  });

  it('when the console API is called without an admin token, for a coupon that does not exist or with a bad id, then 401, 403, 404 and 400 with their codes', async () => {
    const coupons = `${gateway}/api/console/coupons`;
    expect((await http('GET', coupons)).body.code).to.equal('UNAUTHORIZED');
    const asUser = await http('GET', coupons, { token: tokenFor(5, 'USER') });
    expect([asUser.status, asUser.body.code]).to.deep.equal([403, 'FORBIDDEN']);
    const missing = await http('GET', `${coupons}/999999999/stream`, { token: adminToken });
    expect([missing.status, missing.body.code]).to.deep.equal([404, 'COUPON_NOT_FOUND']);
    const bad = await http('GET', `${coupons}/abc/stream`, { token: adminToken });
    expect([bad.status, bad.body.code]).to.deep.equal([400, 'VALIDATION_FAILED']);
  });

  it("when three pages watch one coupon through a rush, then each sees the stock reach 0, rows == 202s and that coupon's answers by code, and the platform is read once a tick whatever the number of pages", async () => {
    const couponId = await newCoupon('Live rush', 15);
    const listed = (await http('GET', `${gateway}/api/console/coupons`, { token: adminToken })).body.items.find((c: { id: number }) => c.id === couponId);
    expect(listed).to.include({ title: 'Live rush', totalQuantity: 15, state: 'open', claimed: 0, remaining: 15, rows: 0 });

    const pages = [1, 2, 3].map(() => openLiveView(`${gateway}/api/console/coupons/${couponId}/stream`, adminToken));
    // A coupon nobody claims, watched through the same rush: its answers are its own.
    const idle = openLiveView(`${gateway}/api/console/coupons/${await newCoupon('Live idle', 5)}/stream`, adminToken);
    for (const p of pages) {
      const res = await p.head;
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
    }
    await eventually(async () => [...pages, idle].every((p) => p.ticks.length > 0), 10_000);
    const ticksBefore = await metricTotal(consoleUrl, 'console_tick_seconds_count');
    const scrapesBefore = await metricTotal(consoleUrl, 'console_instance_scrapes_total');

    const answers = await rush(couponId, 40);
    expect(answers).to.deep.equal({ 202: 15, 409: 65 });

    for (const p of pages) {
      const done = await eventually(async () => p.ticks.find((t) => t.stock.remaining === 0 && t.reconciliation.consistent), 20_000);
      expect(done.reconciliation).to.include({ accepted: 15, rows: 15, pending: 0 });
      expect(done.consumer.lag).to.equal(0);
      expect(done.deadLettered).to.equal(0);
      expect(done.instances.find((i) => i.service === 'issue-coupon-service')?.inRotation).to.equal(1);
      expect(done.errors).to.deep.equal([]);
    }
    // What became of the coupons after the claim, as coupon-service counts them, every few seconds.
    const counted = await eventually(async () => pages[0].ticks.find((t) => t.usage?.issued === 15), 20_000);
    expect(counted.usage).to.include({ used: 0, expired: 0, usable: 15 });
    expect(counted.queue, 'a direct coupon has no waiting room').to.equal(null);
    const seen = pages[0].ticks;
    // The rush shows in the rates and the gateway's latency while it lasts.
    expect(seen.some((t) => (t.answersPerSecond.ACCEPTED ?? 0) > 0)).to.equal(true);
    expect(seen.some((t) => (t.answersPerSecond.SOLD_OUT ?? 0) + (t.answersPerSecond.ALREADY_ISSUED ?? 0) > 0)).to.equal(true);
    expect(
      idle.ticks.flatMap((t) => Object.values(t.answersPerSecond)).every((r) => r === 0),
      'no answers on the idle coupon',
    ).to.equal(true);
    expect(idle.ticks.at(-1)?.stock).to.deep.equal({ claimed: 0, remaining: 5 });
    idle.close();
    const timed = seen.find((t) => t.latency.requests > 0);
    expect(timed?.latency.p99Ms).to.be.a('number');

    // One sample of the platform a tick for all four pages: one scrape per instance of the
    // gateway, issue-coupon and coupon-service (three here), not one per page.
    const ticks = (await metricTotal(consoleUrl, 'console_tick_seconds_count')) - ticksBefore;
    const scrapes = (await metricTotal(consoleUrl, 'console_instance_scrapes_total')) - scrapesBefore;
    expect(ticks).to.be.greaterThan(0);
    expect(scrapes / ticks).to.be.at.most(3.5);

    // Pages that leave close their streams, through the gateway, up to the console.
    await eventually(async () => (await metricTotal(consoleUrl, 'console_open_streams')) === 3, 10_000);
    pages.forEach((p) => p.close());
    await eventually(async () => (await metricTotal(consoleUrl, 'console_open_streams')) === 0, 10_000);
    expect(await metricTotal(consoleUrl, 'console_watched_coupons')).to.equal(0);
  });

  it('when claims and rows agree in count but not by user (a failover lost 3 claims, 3 users claimed since hold no row), then the live view is not in step and counts each side', async () => {
    const couponId = await newCoupon('Live failover', 10);
    const { mysql: m, redis: settings } = coupons.config();
    const db = knex({ client: 'mysql2', connection: { host: m.host, port: m.port, user: m.user, password: m.password, database: m.database, timezone: 'Z' }, pool: { min: 0, max: 1 } });
    const redis = connectRedis(settings);
    let view: ReturnType<typeof openLiveView> | undefined;
    try {
      const ledger = new ClaimLedger(redis, settings.keyPrefix);
      const kept = [81_001, 81_002, 81_003, 81_004, 81_005, 81_006, 81_007];
      const claimedSince = [82_001, 82_002, 82_003];
      for (const user of [...kept, ...claimedSince]) expect(await ledger.claim(couponId, user, 10)).to.equal('ACCEPTED');
      await ledger.confirm(couponId, [...kept, ...claimedSince]);
      const lost = [83_001, 83_002, 83_003];
      await db('issued_coupons').insert([...kept, ...lost].map((user) => ({ coupon_id: couponId, user_id: user, event_id: `console-failover-${couponId}-${user}`, issued_at: new Date() })));
      await db('coupons').where({ id: couponId }).update({ issued_quantity: 10 });

      const watching = (view = openLiveView(`${gateway}/api/console/coupons/${couponId}/stream`, adminToken));
      expect((await watching.head).status).to.equal(200);
      const compared = await eventually(async () => watching.ticks.find((t) => t.reconciliation.claimsWithoutRow !== null), 15_000);
      expect(compared.reconciliation).to.include({ accepted: 10, rows: 10, pending: 0, claimsWithoutRow: 3, rowsWithoutClaim: 3, consistent: false });
    } finally {
      view?.close();
      redis.disconnect();
      await db.destroy();
    }
  });

  it('when users wait in a queued coupon’s waiting room, then the live view shows them waiting, the admission rate, the wait of the last in line and the passes out', async () => {
    const now = Date.now();
    const created = await http('POST', `${gateway}/api/coupons`, {
      token: adminToken,
      body: {
        title: 'Live queue',
        totalQuantity: 100,
        discountAmount: 1000,
        issueStartAt: new Date(now - 60_000).toISOString(),
        issueEndAt: new Date(now + HOUR).toISOString(),
        admission: { perSecond: 2 },
      },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const couponId = created.body.id;
    const users = Array.from({ length: 12 }, (_, i) => 91_001 + i);
    for (const u of users) expect((await http('POST', `${gateway}/api/coupons/${couponId}/queue`, { token: tokenFor(u) })).status).to.equal(200);
    const view = openLiveView(`${gateway}/api/console/coupons/${couponId}/stream`, adminToken);
    try {
      expect((await view.head).status).to.equal(200);
      // The line moves only when someone asks: the last user polls while the view watches.
      const moving = await eventually(
        async () => {
          await http('GET', `${gateway}/api/coupons/${couponId}/queue`, { token: tokenFor(users[11]) });
          return view.ticks.find((t) => (t.queue?.admittedPerSecond ?? 0) > 0);
        },
        20_000,
        500,
      );
      expect(moving.queue!.waiting).to.be.within(1, 11);
      expect(moving.queue!.passesOut).to.be.at.least(1);
      expect(moving.queue!.lastInLineWaitSeconds).to.equal(Math.ceil(moving.queue!.waiting / 2));
      expect(moving.queue!.abandoned).to.equal(0);
    } finally {
      view.close();
    }
  });

  it('when a third coupon is watched while two are, then 503 CONSOLE_BUSY, and it can be watched once one view closes', async () => {
    const [a, b, c] = [await newCoupon('Watched A', 5), await newCoupon('Watched B', 5), await newCoupon('Watched C', 5)];
    const stream = (id: number) => `${gateway}/api/console/coupons/${id}/stream`;
    const viewA = openLiveView(stream(a), adminToken);
    const viewB = openLiveView(stream(b), adminToken);
    expect([(await viewA.head).status, (await viewB.head).status]).to.deep.equal([200, 200]);
    const busy = await http('GET', stream(c), { token: adminToken });
    expect([busy.status, busy.body.code]).to.deep.equal([503, 'CONSOLE_BUSY']);
    // A second page on a watched coupon costs no more sampling: it is let in.
    const viewA2 = openLiveView(stream(a), adminToken);
    expect((await viewA2.head).status).to.equal(200);
    viewB.close();
    await eventually(async () => (await metricTotal(consoleUrl, 'console_watched_coupons')) === 1, 10_000);
    const viewC = openLiveView(stream(c), adminToken);
    expect((await viewC.head).status).to.equal(200);
    [viewA, viewA2, viewC].forEach((v) => v.close());
    await eventually(async () => (await metricTotal(consoleUrl, 'console_open_streams')) === 0, 10_000);
  });

  it('when an operator logs in to the console in Chromium, opens a coupon and a rush runs, then the page shows the stock reaching 0 and rows == 202s', async function () {
    if (!fs.existsSync(CHROMIUM)) {
      // scripts/test.sh installs Debian's chromium; this is a machine where that failed.
      console.log(`      skipped: ${CHROMIUM} is missing (apt-get install chromium failed, see .run/logs/apt.log)`);
      this.skip();
    }
    const couponId = await newCoupon('Browser rush', 25);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(String(e)));
      fs.mkdirSync(RESULTS, { recursive: true });
      await watchInConsole(page, gateway, couponId);
      expect(await page.getByTestId('live-view').getAttribute('data-coupon-id')).to.equal(String(couponId));
      expect(await page.getByTestId('remaining').textContent()).to.equal('25');

      const answers = await rush(couponId, 60);
      expect(answers).to.deep.equal({ 202: 25, 409: 95 });
      await page.getByTestId('remaining').filter({ hasText: /^0$/ }).waitFor({ timeout: 20_000 });
      await page.getByTestId('reconciliation-state').filter({ hasText: 'in step' }).waitFor({ timeout: 20_000 });
      expect(await page.getByTestId('rows').textContent()).to.equal('25');
      expect(await page.getByTestId('accepted').textContent()).to.equal('25');
      await page.screenshot({ path: path.join(RESULTS, 'console-live.png'), fullPage: true });
      expect(problems, problems.join('\n')).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });
});
