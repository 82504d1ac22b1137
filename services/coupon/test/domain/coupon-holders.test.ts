import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { asService, asUser, eventually, http, listenerPid, passingInstances, RUN_ID, spawnService } from '@coupon-rush/testkit';
import { exportHolders } from '../../src/domain/coupon-holders';
import { couponServiceWithOwnDatabase } from '../own-database';

const ADMIN = asUser('coupon-service', 1, 'ADMIN');
const DAY_MS = 86_400_000;
const HOLDERS = 100_000;

/** Reads a streamed answer line by line without keeping it. */
async function readLines(res: Response, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const bytes of res.body as AsyncIterable<Uint8Array>) {
    const lines = (rest + decoder.decode(bytes, { stream: true })).split('\n');
    rest = lines.pop()!;
    lines.forEach(onLine);
  }
  expect(rest, 'the stream ends with a whole line').to.equal('');
}

/** A process's resident memory now and at its peak (VmRSS, VmHWM), in MB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/**
 * The operator's view of one coupon against the real MariaDB: its uses counted, and who holds it
 * exported as CSV or JSON lines, 100,000 rows streamed a page at a time.
 */
describe('coupon-service: usage counts and the holders export', function () {
  this.timeout(180_000);
  const own = couponServiceWithOwnDatabase('holders');
  let couponId: number;
  // Users 1..100,000: every 4th used for an order, every 10th issued 10 days ago on a 7-day policy.
  const used = (u: number) => u % 4 === 0;
  const old = (u: number) => u % 10 === 0;
  const expected = { issued: HOLDERS, used: HOLDERS / 4, expired: HOLDERS / 10 - HOLDERS / 20 };

  before(async () => {
    const now = Date.now();
    const res = await http('POST', `${own.service().url}/coupons`, {
      headers: ADMIN,
      body: {
        title: `holders ${RUN_ID}`,
        totalQuantity: null,
        discountAmount: 100,
        issueStartAt: new Date(now - 60 * DAY_MS).toISOString(),
        issueEndAt: new Date(now + DAY_MS).toISOString(),
        usableDays: 7,
      },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    couponId = res.body.id;
    const longAgo = new Date(now - 10 * DAY_MS);
    const recently = new Date(now - DAY_MS);
    for (let from = 1; from <= HOLDERS; from += 5000) {
      const rows = Array.from({ length: 5000 }, (_, i) => {
        const u = from + i;
        const issuedAt = old(u) ? longAgo : recently;
        return {
          coupon_id: couponId,
          user_id: u,
          event_id: `holders-${couponId}-${u}`,
          issued_at: issuedAt,
          ...(used(u) && { used_at: new Date(issuedAt.getTime() + 3_600_000), used_order_id: `order-${u}`, used_order_amount: 5000, used_discount: 100 }),
        };
      });
      await own.db()('issued_coupons').insert(rows);
    }
  });

  it('counts issued, used and expired (by the clock) for an administrator or the console, and refuses anyone else', async () => {
    const usage = await http('GET', `${own.service().url}/coupons/${couponId}/usage`, { headers: ADMIN });
    expect(usage.status).to.equal(200);
    expect(usage.body).to.include({ couponId, ...expected, usable: HOLDERS - expected.used - expected.expired });
    const byConsole = await http('GET', `${own.service().url}/coupons/${couponId}/usage`, { headers: asService('console-service', 'coupon-service') });
    expect(byConsole.body).to.include(expected);
    expect((await http('GET', `${own.service().url}/coupons/${couponId}/usage`, { headers: asUser('coupon-service', 7) })).status).to.equal(403);
    expect((await http('GET', `${own.service().url}/coupons/${couponId}/usage`, { headers: asService('issue-coupon-service', 'coupon-service') })).status).to.equal(403);
    expect((await http('GET', `${own.service().url}/coupons/${couponId}/usage`)).status).to.equal(401);
    expect((await http('GET', `${own.service().url}/coupons/999999999/usage`, { headers: ADMIN })).body.code).to.equal('COUPON_NOT_FOUND');
  });

  it('exports all 100,000 holders as CSV in user order, each with its state, in bounded memory', async () => {
    // Its own process, so that its peak memory is the export's and not the test runner's.
    const cfg = own.service().config();
    const exporter: ChildProcess = spawnService('services/coupon', { overrides: { mysql: { database: cfg.mysql.database }, kafka: { topicPrefix: cfg.kafka.topicPrefix } } });
    try {
      const port = await eventually(async () => (await passingInstances('coupon-service')).map((i) => i.port).find((p) => listenerPid(p) === exporter.pid), 60_000, 250);
      await exportAsCsv(`http://127.0.0.1:${port}`, exporter.pid!);
    } finally {
      exporter.kill('SIGTERM');
    }
  });

  async function exportAsCsv(url: string, pid: number): Promise<void> {
    const before = memoryOf(pid);
    const res = await fetch(`${url}/coupons/${couponId}/issued?format=csv`, { headers: ADMIN });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/csv/);
    expect(res.headers.get('content-disposition')).to.equal(`attachment; filename="coupon-${couponId}-issued.csv"`);
    const lines: string[] = [];
    let n = 0;
    const states: Record<string, number> = {};
    let ordered = true;
    let last = 0;
    await readLines(res, (line) => {
      if (n++ === 0) return lines.push(line);
      const [user, , state, , , orderId] = line.split(',');
      states[state] = (states[state] ?? 0) + 1;
      ordered &&= Number(user) === last + 1;
      last = Number(user);
      if (Number(user) <= 12) lines.push(line);
      if (used(Number(user))) expect(orderId).to.equal(`order-${user}`);
    });
    expect(lines[0]).to.equal('userId,issuedAt,state,usableUntil,usedAt,orderId');
    expect(n).to.equal(HOLDERS + 1);
    expect(ordered, 'users ascending, none missing').to.equal(true);
    expect(states).to.deep.equal({ USED: expected.used, EXPIRED: expected.expired, USABLE: HOLDERS - expected.used - expected.expired });
    expect(lines[10]).to.match(/^10,[^,]+,EXPIRED,[^,]+,,$/);
    expect(lines[12]).to.match(/^12,[^,]+,USED,[^,]+,[^,]+,order-12$/);
    const after = memoryOf(pid);
    console.log(`      export of ${HOLDERS} rows: coupon-service rss ${before.rss.toFixed(1)} → ${after.rss.toFixed(1)} MB, peak ${before.peak.toFixed(1)} → ${after.peak.toFixed(1)} MB`);
    // Held at once, the set's rows and text take over 100 MB more at the peak; a page at a time,
    // what remains is the garbage of a fresh heap between collections.
    expect(after.peak - before.peak, 'peak memory growth during the export, MB').to.be.below(48);
  }

  it('exports JSON lines with the same fields', async () => {
    const res = await fetch(`${own.service().url}/coupons/${couponId}/issued?format=jsonl`, { headers: ADMIN });
    expect(res.headers.get('content-type')).to.equal('application/x-ndjson');
    let n = 0;
    let twelfth: unknown;
    await readLines(res, (line) => {
      const holder = JSON.parse(line);
      if (holder.userId === 12) twelfth = holder;
      n++;
    });
    expect(n).to.equal(HOLDERS);
    expect(twelfth).to.deep.include({ userId: 12, state: 'USED', orderId: 'order-12' });
    expect(twelfth).to.have.all.keys('userId', 'issuedAt', 'state', 'usableUntil', 'usedAt', 'orderId');
  });

  it('reads a page from the database only when the reader asks for more', async () => {
    let queries = 0;
    const count = () => queries++;
    own.db().on('query', count);
    try {
      const chunks = await exportHolders(own.db(), couponId, 'jsonl', { chunk: 1000 });
      queries = 0;
      const first = await chunks.next();
      expect((first.value as string).split('\n').length - 1).to.equal(1000);
      await chunks.next();
      expect(queries, 'two pages read, not 100').to.equal(2);
      await chunks.return(undefined);
      await new Promise((r) => setTimeout(r, 100));
      expect(queries, 'nothing read after the reader stopped').to.equal(2);
    } finally {
      own.db().off('query', count);
    }
  });

  it('refuses a bad format, an unknown coupon and a non-administrator before writing a byte', async () => {
    const bad = await http('GET', `${own.service().url}/coupons/${couponId}/issued?format=xml`, { headers: ADMIN });
    expect(bad.status).to.equal(400);
    expect(bad.body.code).to.equal('VALIDATION_FAILED');
    expect((await http('GET', `${own.service().url}/coupons/999999999/issued`, { headers: ADMIN })).body.code).to.equal('COUPON_NOT_FOUND');
    expect((await http('GET', `${own.service().url}/coupons/${couponId}/issued`, { headers: asUser('coupon-service', 7) })).status).to.equal(403);
    expect((await http('GET', `${own.service().url}/coupons/${couponId}/issued`, { headers: asService('console-service', 'coupon-service') })).status).to.equal(401);
  });
});
