import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { runBurst, retryAfterMs, summarizeBurst, type BurstUser } from '../src/queue-burst';
import { burstSchedule, latencySummary, percentile, ranks, sendSpread, spearman, winnersVersusArrivals } from '../src/queue-metrics';

describe('the queue target: its arithmetic', () => {
  it('when 4 users burst over 2 s, then they are planned every 500 ms from 0', () => {
    expect(burstSchedule(4, 2000)).to.deep.equal([0, 500, 1000, 1500]);
    expect(burstSchedule(1, 2000)).to.deep.equal([0]);
  });

  it('when percentiles are read, then they are nearest-rank', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(v, 50), percentile(v, 99), percentile(v, 100), percentile([], 50)]).to.deep.equal([50, 99, 100, undefined]);
    expect(latencySummary([3, 1, 2])).to.deep.equal({ count: 3, p50Ms: 2, p95Ms: 3, p99Ms: 3, maxMs: 3 });
  });

  it('when values tie, then they share their average rank, and Spearman is 1, -1 or in between', () => {
    expect(ranks([10, 20, 20, 5])).to.deep.equal([2, 3.5, 3.5, 1]);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).to.equal(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).to.equal(-1);
    expect(spearman([1, 2, 3, 4, 5], [2, 1, 3, 5, 4])).to.equal(0.8);
    expect(spearman([1], [1])).to.equal(undefined);
    expect(spearman([1, 1], [1, 2])).to.equal(undefined);
  });

  it('when winners are compared with arrivals, then those outside the first arrivals are counted', () => {
    // Arrival instants of users 0..5; users 0, 1 and 4 won: 4 arrived fifth, so one first arrival (user 2) lost.
    expect(winnersVersusArrivals([0, 1, 2, 3, 4, 5], [true, true, false, false, true, false])).to.deep.equal({
      winners: 3,
      winnersAmongFirstArrivals: 2,
      latestWinnerArrivalRank: 5,
      firstArrivalsWithout: 1,
    });
    expect(winnersVersusArrivals([5, 4, 3], [false, true, true])).to.include({ winnersAmongFirstArrivals: 2, firstArrivalsWithout: 0 });
  });

  it('when requests go out late or never, then the spread says when they went, how late, and how many within the planned window', () => {
    const s = sendSpread([0, 100, 200, 300], [5, 150, 420, undefined]);
    expect(s).to.include({ planned: 4, sent: 3, plannedFirstMs: 0, plannedLastMs: 300, sentFirstMs: 5, sentLastMs: 420, sentWithinPlannedWindow: 2 });
    expect(s.lateness).to.include({ count: 3, p50Ms: 50, maxMs: 220 });
    expect(s.sentPer100Ms).to.deep.equal([1, 1, 0, 0, 1]);
  });

  it('when Retry-After is seconds, a date or absent, then the wait follows it', () => {
    expect(retryAfterMs('2')).to.equal(2000);
    expect(retryAfterMs(new Date(11_000).toUTCString(), 10_000)).to.equal(1000);
    expect(retryAfterMs(undefined)).to.equal(1000);
  });
});

/**
 * A waiting room of the API contract (issue 28) in a few lines, on port 0: positions in join
 * order, `perSecond` admitted a second from the first join (never more than the stock), a pass per admitted user, stock of
 * `quantity`; coupon 8 is a direct coupon that answers the first claim of every fifth user 503.
 */
function fakeWaitingRoom(quantity: number, perSecond: number, pollAfterMs: number) {
  const queue: number[] = [];
  const place = new Map<number, number>();
  const holders = new Set<number>();
  let firstJoin = 0;
  const seen503 = new Set<number>();
  const requests = { join: 0, poll: 0, claim: 0 };
  const server = http.createServer((req, res) => {
    req.resume();
    const user = Number(/^Bearer u(\d+)$/.exec(req.headers.authorization ?? '')?.[1]);
    const json = (status: number, body: object, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const m = /^\/api\/coupons\/(\d+)\/(queue|issues)$/.exec(req.url ?? '');
    if (req.url === '/health/live') return json(200, { status: 'UP' });
    if (!m || !user) return json(404, { code: 'NOT_FOUND' });
    const couponId = Number(m[1]);
    const soldOut = holders.size >= quantity;
    const ticket = () => {
      if (holders.has(user)) return json(409, { code: 'ALREADY_ISSUED' });
      if (soldOut) return json(409, { code: 'SOLD_OUT' });
      const idx = place.get(user)!;
      // No more passes out than the stock (the real room allows a margin, which lets later places race earlier ones).
      const admittedUntil = Math.min(quantity, Math.floor(((Date.now() - firstJoin) / 1000) * perSecond) + 1);
      if (idx < admittedUntil) return json(200, { couponId, status: 'ADMITTED', pass: `p-${user}`, passExpiresAt: new Date(Date.now() + 30_000).toISOString() });
      return json(200, { couponId, status: 'WAITING', position: idx + 1, ahead: idx, estimatedWaitSeconds: 1, pollAfterMs });
    };
    if (couponId === 7 && m[2] === 'queue') {
      if (req.method === 'POST') {
        requests.join++;
        firstJoin ||= Date.now();
        if (!place.has(user)) place.set(user, queue.push(user) - 1);
      } else {
        requests.poll++;
        if (!place.has(user)) return json(404, { code: 'NOT_IN_QUEUE' });
      }
      return ticket();
    }
    requests.claim++;
    if (couponId === 7 && req.headers['x-queue-pass'] === undefined) return json(409, { code: 'QUEUE_REQUIRED' });
    if (couponId === 7 && req.headers['x-queue-pass'] !== `p-${user}`) return json(403, { code: 'QUEUE_PASS_INVALID' });
    if (couponId === 8 && user % 5 === 0 && !seen503.has(user)) {
      seen503.add(user);
      return json(503, { code: 'ISSUE_UNAVAILABLE' }, { 'retry-after': '1' });
    }
    if (holders.has(user)) return json(409, { code: 'ALREADY_ISSUED' });
    if (soldOut) return json(409, { code: 'SOLD_OUT' });
    holders.add(user);
    json(202, { status: 'ACCEPTED' });
  });
  return { server, holders, requests };
}

describe('the queue target: the generator against a fake waiting room', function () {
  this.timeout(30_000);
  const users: BurstUser[] = Array.from({ length: 400 }, (_, i) => ({ id: i + 1, token: `u${i + 1}` }));
  let fake: ReturnType<typeof fakeWaitingRoom>;
  let base = '';

  beforeEach(async () => {
    fake = fakeWaitingRoom(40, 100, 200);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    fake.server.closeAllConnections();
    fake.server.close();
  });
  /** The crowd at the fake room: 400 users within 200 ms on 8 connections, 8 deep. */
  const burst = (couponId: number, mode: 'queued' | 'direct') =>
    runBurst(users, { base, couponId, mode, burstMs: 200, connections: 8, pipelining: 8, followConnections: 16, deadlineMs: 20_000, requestTimeoutMs: 5000, maxRejoins: 1 });

  it('when 400 users join a queued coupon of 40 within 200 ms, then each polls as told until admitted or sold out, the admitted claim with their pass, and the stock goes to the first positions', async () => {
    const r = await burst(7, 'queued');
    const s = summarizeBurst(r) as any;
    expect([r.connectedAtStart, r.followConnectedAtStart]).to.deep.equal([8, 16]);
    expect(s.errorCount, JSON.stringify(s.errorExamples)).to.equal(0);
    expect(s.finals).to.deep.equal({ 202: 40, SOLD_OUT: 360 });
    expect(s.unanswered).to.equal(0);
    expect(s.sent).to.include({ planned: 400, sent: 400 });
    expect(s.requests.join).to.equal(400);
    expect(s.requests.poll).to.equal(fake.requests.poll);
    expect(s.requests.claim).to.equal(fake.requests.claim);
    expect(Object.keys(s.queue.pollAfterMs)).to.deep.equal(['0s']);
    expect(s.queue.winnersVsLine).to.include({ winners: 40, winnersAmongFirstArrivals: 40 });
    expect(s.queue.joinVsLine).to.be.greaterThan(0.9);
    // Polls at most every pollAfterMs: no user polled more often than the run allowed.
    const maxPolls = Math.ceil(r.durationMs / 200) + 1;
    expect(s.queue.pollsPerUser.max).to.be.at.most(maxPolls);
  });

  it('when the same crowd claims a direct coupon that answers some 503 with Retry-After, then they ask again after it and every user ends with 202 or SOLD_OUT', async () => {
    const r = await burst(8, 'direct');
    const s = summarizeBurst(r) as any;
    expect(s.errorCount).to.equal(0);
    expect(s.finals).to.deep.equal({ 202: 40, SOLD_OUT: 360 });
    expect(s.retries['503']).to.equal(80);
    expect(fake.holders.size).to.equal(40);
    // Users 5, 10, ... were sent away once: those among the first 40 arrivals (8, give or take the
    // order the server read the pipelined claims in) lost their place.
    expect(s.order.winners).to.equal(40);
    expect(s.order.firstArrivalsWithout).to.be.within(5, 11);
  });

  it('when the deadline comes first, then the users still waiting are left NO_ANSWER and the run ends on time', async () => {
    const started = Date.now();
    const r = await runBurst(users, { base, couponId: 7, mode: 'queued', burstMs: 100, connections: 16, pipelining: 1, followConnections: 8, deadlineMs: 300, requestTimeoutMs: 5000, maxRejoins: 1 });
    expect(Date.now() - started).to.be.below(5000);
    expect(r.deadlineHit).to.equal(true);
    expect((summarizeBurst(r) as any).unanswered).to.be.greaterThan(0);
  });
});
