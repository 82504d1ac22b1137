import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { REPO_ROOT } from '@coupon-rush/platform';
import { acceptedByServers, adminToken, api, createCoupon, createUsers, drain, launchChromium, mintInternalToken, platformDb, watchInConsole, type LoadUser } from '@coupon-rush/loadkit';
import { appKafkaSasl } from '@coupon-rush/testkit';
import { parseBenchCommand, type IssueTarget, type Options, type Workload } from './command-line';
import { loadSummary, runWrk, startBenchServer, type BenchServer, type CpuClock } from './load';
import { queueRun } from './queue-target';
import { resultsChart } from './results-chart';
import { median } from './rounds';
import { strategyCaption, strategyChart } from './strategies/chart';
import { STRATEGIES, runStrategies, strategyRow, violations } from './strategies/lab';

/** What each workload's timed requests must all be answered. */
const EXPECTED: Record<Workload, string> = { claims: '202', refusals: 'SOLD_OUT', duplicates: 'ALREADY_ISSUED' };

/**
 * Campaign codes: generates `--codes` codes through the gateway (timed: codes/s), then each code is
 * redeemed once by its own user at the bench's connections. Every 201 must be exactly one
 * redemption row and nothing but 201 or CODE_ALREADY_REDEEMED (wrk wraps around) may come back.
 */
async function redeemPhase(o: Options, admin: string, runId: string, users: LoadUser[], problems: string[]): Promise<Record<string, unknown>> {
  const campaign = await api(o.gateway, 'POST', '/api/campaigns', { name: `bench ${runId}`, description: 'npm run bench: redemptions' }, admin);
  const started = performance.now();
  const { generated } = await api(o.gateway, 'POST', `/api/campaigns/${campaign.id}/codes`, { count: o.codes, expiresAt: new Date(Date.now() + 86_400_000).toISOString() }, admin);
  const generateMs = performance.now() - started;
  const db = platformDb();
  try {
    const codes: string[] = (await db('coupon_codes').select('code').where('campaign_id', campaign.id)).map((r) => r.code);
    const codeFile = path.join(REPO_ROOT, 'bench/results', `codes-${runId}.txt`);
    fs.writeFileSync(codeFile, codes.map((code, i) => `${code} ${users[i % users.length].token}`).join('\n') + '\n');
    const load = await runWrk(o, 'redeem', o.gateway, 'redeem.lua', { BENCH_CODES: codeFile }).finally(() => fs.rmSync(codeFile));
    // Requests in flight when wrk stops still commit: wait (bounded) until the row count settles.
    let rows = -1;
    for (let deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      const [{ n }] = await db('code_redemptions as r').join('coupon_codes as c', 'c.id', 'r.code_id').where('c.campaign_id', campaign.id).count({ n: '*' });
      if (Number(n) === rows) break;
      rows = Number(n);
    }
    const redeemed = load.outcomes['201'] ?? 0;
    const unexpected = Object.keys(load.outcomes).filter((k) => !['201', 'CODE_ALREADY_REDEEMED'].includes(k));
    const check = (ok: boolean, what: string) => ok || problems.push(`redeem: ${what}`);
    check(generated === o.codes, `generated ${generated} != ${o.codes}`);
    check(redeemed <= rows && rows <= redeemed + o.connections, `rows ${rows}, 201s seen ${redeemed} with ${o.connections} connections`);
    check(load.socketErrors === 0, `${load.socketErrors} socket errors`);
    check(unexpected.length === 0, `unexpected outcomes ${unexpected.map((k) => `${k}=${load.outcomes[k]}`).join(', ')}`);
    return { target: 'redeem', generatedPerSec: Math.round(generated / (generateMs / 1000)), ...loadSummary(load), rows };
  } finally {
    await db.destroy();
  }
}

/**
 * Coupons used at checkout: every user first holds one coupon of its own (claimed straight at
 * issue-coupon, persisted by the consumer: the real path, not inserted rows), then the timed load
 * uses them through the gateway, one order per request. The first pass over the users is all first
 * uses (201); a user met again brings another order (COUPON_ALREADY_USED), and the table shows how
 * many. Every 201 must be one used row, and nothing else may come back.
 */
async function checkoutPhase(o: Options, admin: string, runId: string, users: LoadUser[], tokenFile: string, directTokens: string[], problems: string[]): Promise<Record<string, unknown>> {
  const coupon = await createCoupon(o.gateway, admin, `bench ${runId} checkout`, users.length);
  const acceptedBefore = await acceptedByServers();
  const claimStarted = Date.now();
  await claimForEach(o, coupon.id, directTokens);
  const held = await drain(o.gateway, admin, coupon.id, async () => (await acceptedByServers()) - acceptedBefore, claimStarted);
  if (held.rows !== users.length) throw new Error(`checkout: ${held.rows} of ${users.length} coupons persisted before the load`);
  const load = await runWrk(o, 'checkout', o.gateway, 'checkout.lua', { BENCH_TOKENS: tokenFile, BENCH_COUPON: String(coupon.id) });
  const db = platformDb();
  try {
    // Uses in flight when wrk stops still commit: wait (bounded) until the count settles.
    let used = -1;
    for (let deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      const [{ n }] = await db('issued_coupons').where({ coupon_id: coupon.id }).whereNotNull('used_at').count({ n: '*' });
      if (Number(n) === used) break;
      used = Number(n);
    }
    const firstUses = load.outcomes['201'] ?? 0;
    const unexpected = Object.keys(load.outcomes).filter((k) => !['201', 'COUPON_ALREADY_USED'].includes(k));
    const check = (ok: boolean, what: string) => ok || problems.push(`checkout: ${what}`);
    check(firstUses <= used && used <= firstUses + o.connections, `used rows ${used}, 201s seen ${firstUses} with ${o.connections} connections`);
    check(load.requests < users.length || used === users.length, `every user came but ${used} of ${users.length} coupons are used`);
    check(load.socketErrors === 0, `${load.socketErrors} socket errors`);
    check(unexpected.length === 0, `unexpected outcomes ${unexpected.map((k) => `${k}=${load.outcomes[k]}`).join(', ')}`);
    return { target: 'checkout', couponId: coupon.id, ...loadSummary(load), used };
  } finally {
    await db.destroy();
  }
}

/**
 * The consumer alone: events for a fresh unlimited coupon are written straight to coupon.issued
 * (as issue-coupon would), and the time until all are rows gives the persisted rows/s.
 */
async function consumerPhase(o: Options, admin: string, runId: string, problems: string[]): Promise<Record<string, unknown>> {
  const coupon = await createCoupon(o.gateway, admin, `bench ${runId} consumer`, null);
  const kafka = new Kafka({ clientId: 'bench', brokers: ['127.0.0.1:9092', '127.0.0.1:9094', '127.0.0.1:9096'], sasl: appKafkaSasl(), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const started = Date.now();
  for (let from = 0; from < o.events; from += 2000) {
    const messages = Array.from({ length: Math.min(2000, o.events - from) }, (_, i) => ({
      key: String(coupon.id),
      value: JSON.stringify({ eventId: `${runId}-${from + i}`, couponId: coupon.id, userId: 100_000_000 + from + i, issuedAt: new Date().toISOString() }),
    }));
    await producer.send({ topic: 'coupon.issued', acks: -1, messages });
  }
  const producedMs = Date.now() - started;
  await producer.disconnect();
  const rec = await drain(o.gateway, admin, coupon.id, async () => o.events, started);
  if (rec.rows !== o.events) problems.push(`consumer: rows ${rec.rows} != events ${o.events}`);
  return { target: 'consumer', couponId: coupon.id, requests: o.events, rows: rec.rows, drainMs: rec.drainedAfterMs - producedMs, rowsPerSec: Math.round(rec.rows / (rec.drainedAfterMs / 1000)) };
}

/** A platform process's CPU clock, from the process_cpu_seconds_total its /metrics exposes. */
function metricsCpuClock(url: string): CpuClock {
  return async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = /^process_cpu_seconds_total(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text);
    if (!m) throw new Error(`${url}/metrics has no process_cpu_seconds_total`);
    return Number(m[1]);
  };
}

/** Microseconds of CPU per request a process spent while `work` ran. */
async function cpuPerRequest<T extends { requests: number }>(clocks: Record<string, CpuClock | undefined>, work: () => Promise<T>): Promise<{ result: T; cpuUsPerReq: Record<string, number> }> {
  const names = Object.keys(clocks).filter((n) => clocks[n]);
  const before = await Promise.all(names.map((n) => clocks[n]!()));
  const result = await work();
  const after = await Promise.all(names.map((n) => clocks[n]!()));
  const cpuUsPerReq: Record<string, number> = {};
  names.forEach((n, i) => (cpuUsPerReq[n] = Math.round(((after[i] - before[i]) * 1e6) / Math.max(1, result.requests))));
  return { result, cpuUsPerReq };
}

/** The floor proxy (bench/src/floor.ts) in front of the issue-coupon instance the bench targets directly. */
const startProxyFloor = (o: Options) => startBenchServer('floor.js', 'FLOOR_LISTENING', { FLOOR_UPSTREAM: o.direct, FLOOR_CONNECTIONS: String(o.connections) });

/** The issue floor (bench/src/issue-floor.ts): the claim alone, under its own key prefix. */
const startIssueFloor = (runId: string) => startBenchServer('issue-floor.js', 'ISSUE_FLOOR_LISTENING', { BENCH_FLOOR_PREFIX: `bench-floor:${runId}:` });

/**
 * The claims workload straight at the issue floor, whose claims are its own. It outruns the users,
 * so each pass over them claims the next coupon id and every request stays a first claim; each
 * round starts at its own millionth. Every 202 must be one claim the floor holds, and nothing but
 * 202 may come back.
 */
async function issueFloorPhase(o: Options, floor: BenchServer, round: number, tokenFile: string, problems: string[]): Promise<Record<string, unknown>> {
  const firstCoupon = round * 1_000_000;
  // Untimed, on coupons of its own (the floor's claims are its own: nothing to persist).
  if (o.warmup > 0)
    await runWrk({ ...o, duration: o.warmup }, 'issue-floor warm-up', floor.url, 'issue.lua', {
      BENCH_TOKENS: tokenFile,
      BENCH_COUPON: String(firstCoupon + 500_000),
      BENCH_MODE: 'direct',
      BENCH_COUPON_PER_PASS: '1',
    });
  const { result: load, cpuUsPerReq } = await cpuPerRequest({ issue: floor.cpu }, () =>
    runWrk(o, 'issue-floor', floor.url, 'issue.lua', { BENCH_TOKENS: tokenFile, BENCH_COUPON: String(firstCoupon), BENCH_MODE: 'direct', BENCH_COUPON_PER_PASS: '1' }),
  );
  // wrk may send a few past its count while it stops: one more pass covers them.
  const passes = Math.ceil((load.requests + o.connections) / o.users);
  const { claims } = (await (await fetch(`${floor.url}/claims?from=${firstCoupon}&count=${passes}`)).json()) as { claims: number };
  const seen = load.outcomes['202'] ?? 0;
  const unexpected = Object.keys(load.outcomes).filter((k) => k !== '202');
  const check = (ok: boolean, what: string) => ok || problems.push(`issue-floor claims: ${what}`);
  check(seen <= claims && claims <= seen + o.connections, `the floor holds ${claims} claims, the client saw ${seen} with ${o.connections} connections`);
  check(load.socketErrors === 0, `${load.socketErrors} socket errors`);
  check(unexpected.length === 0, `unexpected outcomes ${unexpected.map((k) => `${k}=${load.outcomes[k]}`).join(', ')}`);
  return { target: 'issue-floor', workload: 'claims', ...loadSummary(load), issueCpuUs: cpuUsPerReq.issue, accepted: claims };
}

/** Above any target's claims per second here (the issue floor's is ~22,000): enough coupons that no timed claim repeats a user's. */
const CLAIMS_PER_SECOND_CEILING = 40_000;

/**
 * The coupons a phase of `seconds` claims: for claims, one per pass over the users the load can
 * make, each holding one per user, so every claim is a first one and accepted; for refusals one
 * of one, for duplicates one held by every user (both claimed before the load).
 */
async function phaseCoupons(o: Options, admin: string, title: string, workload: Workload, seconds: number): Promise<number[]> {
  if (workload !== 'claims') return [(await createCoupon(o.gateway, admin, title, workload === 'refusals' ? 1 : o.users)).id];
  const passes = Math.min(60, Math.ceil((seconds * CLAIMS_PER_SECOND_CEILING) / o.users) + 1);
  const ids: number[] = [];
  for (let i = 0; i < passes; i++) ids.push((await createCoupon(o.gateway, admin, `${title} pass ${i + 1}`, o.users)).id);
  return ids;
}

/** Claims `couponId` for each user straight at issue-coupon (untimed set-up), every one accepted. */
async function claimForEach(o: Options, couponId: number, directTokens: string[]): Promise<void> {
  let next = 0;
  const claim = async () => {
    for (let i = next++; i < directTokens.length; i = next++) {
      const res = await fetch(`${o.direct}/coupons/${couponId}/issues`, { method: 'POST', headers: { authorization: `Bearer ${directTokens[i]}` } });
      if (res.status !== 202) throw new Error(`set-up claim of coupon ${couponId} answered ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: o.connections }, claim));
}

/**
 * Waits, bounded, until MySQL holds exactly the claims the servers accepted since `acceptedSince`
 * began counting, over the phase's coupons, and each coupon's written-back quantity and Redis claims
 * agree with its rows; then what it found.
 */
async function settleCoupons(o: Options, admin: string, couponIds: number[], acceptedSince: () => Promise<number>) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const accepted = await acceptedSince();
    const recs: Array<{ rows: number; issuedQuantity: number; redisClaims: number }> = await Promise.all(
      couponIds.map((id) => api(o.gateway, 'GET', `/api/coupons/${id}/reconciliation`, undefined, admin)),
    );
    const rows = recs.reduce((n, r) => n + r.rows, 0);
    const redisClaims = recs.reduce((n, r) => n + r.redisClaims, 0);
    const agreed = recs.every((r) => r.issuedQuantity === r.rows && r.redisClaims === r.rows);
    if ((agreed && rows >= accepted) || Date.now() > deadline) return { accepted, rows, redisClaims, perCoupon: recs.map((r) => r.rows), settledAt: Date.now() };
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * One target under one workload, with exact counts. Every timed request must get the workload's
 * answer (claims 202, refusals SOLD_OUT, duplicates ALREADY_ISSUED): a phase that measured mixed
 * work fails. An untimed warm-up of the same kind runs first, and its rows are persisted before the
 * timed load starts. Every 202 is one row and one Redis claim.
 */
async function issuePhase(
  o: Options,
  admin: string,
  runId: string,
  target: IssueTarget,
  workload: Workload,
  url: string,
  proxyCpu: CpuClock | undefined,
  tokenFiles: { gateway: string; direct: string; gatewayButFirst: string; directButFirst: string },
  directTokens: string[],
  problems: string[],
): Promise<Record<string, unknown>> {
  const title = `bench ${runId} ${target} ${workload}`;
  const coupons = await phaseCoupons(o, admin, title, workload, o.duration);
  // The refusals' one coupon goes to the first user, whom their load leaves out; every user holds the duplicates' one.
  if (workload === 'refusals') await claimForEach(o, coupons[0], directTokens.slice(0, 1));
  if (workload === 'duplicates') await claimForEach(o, coupons[0], directTokens);
  const tokens = target === 'direct' ? (workload === 'refusals' ? tokenFiles.directButFirst : tokenFiles.direct) : workload === 'refusals' ? tokenFiles.gatewayButFirst : tokenFiles.gateway;
  const load = (label: string, ids: number[], duration: number) =>
    runWrk({ ...o, duration }, label, url, 'issue.lua', { BENCH_TOKENS: tokens, BENCH_COUPON: String(ids[0]), BENCH_COUPONS: ids.join(','), BENCH_MODE: target === 'direct' ? 'direct' : 'gateway' });
  if (o.warmup > 0) {
    // The same work on coupons of its own (claims) or the phase's (nothing written), untimed.
    const warmCoupons = workload === 'claims' ? await phaseCoupons(o, admin, `${title} warm-up`, workload, o.warmup) : coupons;
    const warmBefore = await acceptedByServers();
    await load(`${target} ${workload} warm-up`, warmCoupons, o.warmup);
    await settleCoupons(o, admin, warmCoupons, async () => (await acceptedByServers()) - warmBefore + (warmCoupons === coupons ? (workload === 'duplicates' ? o.users : 1) : 0));
  } else {
    await settleCoupons(o, admin, coupons, async () => (workload === 'claims' ? 0 : workload === 'duplicates' ? o.users : 1));
  }
  const acceptedBefore = await acceptedByServers();
  // The console's cost: an operator's page watching the phase's (first) coupon through the whole
  // load, photographed halfway through it.
  const browser = target === 'console' ? await launchChromium() : undefined;
  const page = browser && (await browser.newPage({ viewport: { width: 1280, height: 800 } }));
  if (page) await watchInConsole(page, o.gateway, coupons[0]);
  const screenshot = page && path.join(REPO_ROOT, 'bench/results', `console-${runId}-${workload}-${coupons[0]}.png`);
  const halfway = page && setTimeout(() => void page.screenshot({ path: screenshot }).catch(() => {}), (o.duration * 1000) / 2);
  const loadStarted = Date.now();
  const { result: timed, cpuUsPerReq } = await cpuPerRequest({ proxy: proxyCpu, issue: metricsCpuClock(o.direct) }, () => load(`${target} ${workload}`, coupons, o.duration)).finally(() => {
    clearTimeout(halfway);
    return browser?.close();
  });
  // What was there before the load: the refusals' one claim, the duplicates' one per user.
  const before = workload === 'refusals' ? 1 : workload === 'duplicates' ? o.users : 0;
  const rec = await settleCoupons(o, admin, coupons, async () => (await acceptedByServers()) - acceptedBefore + before);
  const accepted = rec.accepted - before;
  const seen = timed.outcomes['202'] ?? 0;
  const other = Object.keys(timed.outcomes).filter((k) => k !== EXPECTED[workload]);
  const check = (ok: boolean, what: string) => ok || problems.push(`${target} ${workload}: ${what}`);
  check(
    other.length === 0,
    `not all ${EXPECTED[workload]}: ${other.map((k) => `${k}=${timed.outcomes[k]}`).join(', ')}${workload === 'claims' && other.includes('ALREADY_ISSUED') ? ' (more passes over the users than coupons: raise CLAIMS_PER_SECOND_CEILING)' : ''}`,
  );
  check(rec.rows === rec.accepted, `rows ${rec.rows} != accepted ${rec.accepted}`);
  check(seen <= accepted && accepted <= seen + o.connections, `server accepted ${accepted} during the load, client saw ${seen} with ${o.connections} connections`);
  check(rec.redisClaims === rec.rows, `Redis claims ${rec.redisClaims} != rows ${rec.rows}`);
  check(
    rec.perCoupon.every((n) => n <= (workload === 'refusals' ? 1 : o.users)),
    `a coupon over its quantity: ${rec.perCoupon.join(', ')}`,
  );
  check(timed.socketErrors === 0, `${timed.socketErrors} socket errors`);
  return {
    target,
    workload,
    coupons: coupons.length,
    ...loadSummary(timed),
    // CPU per request of the proxy in front (gateway or floor) and of the issue-coupon instance.
    proxyCpuUs: cpuUsPerReq.proxy,
    issueCpuUs: cpuUsPerReq.issue,
    accepted,
    rows: rec.rows,
    // Time from the end of the load until MySQL held every accepted claim.
    drainMs: Math.max(0, rec.settledAt - loadStarted - Math.round(timed.durationUs / 1000)),
    ...(screenshot ? { screenshot: path.relative(REPO_ROOT, screenshot) } : {}),
  };
}

/** Per workload, each target's req/s (the median over rounds) against the floor's from the same run. */
function ratios(results: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  const workloads = [...new Set(results.map((r) => r.workload).filter(Boolean))] as Workload[];
  return workloads.map((workload) => {
    const of = (t: IssueTarget, field: string) => median(results.filter((r) => r.workload === workload && r.target === t && typeof r[field] === 'number').map((r) => r[field] as number));
    const rate = (t: IssueTarget) => of(t, 'reqPerSec');
    const [gateway, floor, direct, withConsole] = [rate('gateway'), rate('floor'), rate('direct'), rate('console')];
    const ratio = (a?: number, b?: number) => (a && b ? Math.round((a / b) * 100) / 100 : undefined);
    // CPU per request is steadier than req/s on a box whose speed drifts: both proxies' cost, side by side.
    const [gatewayCpuUs, floorCpuUs] = [of('gateway', 'proxyCpuUs'), of('floor', 'proxyCpuUs')];
    // issue-coupon against the claim alone (claims only): its CPU per claim, the issue floor's.
    const [issueFloor, directCpuUs, issueFloorCpuUs] = [rate('issue-floor'), of('direct', 'issueCpuUs'), of('issue-floor', 'issueCpuUs')];
    return {
      workload,
      gateway,
      floor,
      direct,
      gatewayPerFloor: ratio(gateway, floor),
      floorPerDirect: ratio(floor, direct),
      gatewayCpuUs,
      floorCpuUs,
      floorCpuPerGatewayCpu: ratio(floorCpuUs, gatewayCpuUs),
      ...(withConsole ? { withConsole, consolePerGateway: ratio(withConsole, gateway), withConsoleCpuUs: of('console', 'proxyCpuUs') } : {}),
      ...(issueFloor ? { issueFloor, directPerIssueFloor: ratio(direct, issueFloor), directCpuUs, issueFloorCpuUs } : {}),
    };
  });
}

/**
 * The strategy lab: every strategy of bench/src/strategies under the same crowd, two instances
 * each, counted from its database afterwards; a table, JSON and an SVG chart. The strategies the
 * platform stands on (the database's and its own) must count exact.
 */
async function strategiesRun(o: Options, runId: string, outDir: string): Promise<void> {
  console.log(`bench ${runId}: strategy lab, ${o.users} users (each claim sent twice at once), quantity ${o.quantity}, ${o.connections} connections over two instances, ${o.duration} s per strategy`);
  // The coupon-service this process hosts for the platform's path logs to this console.
  process.env.LOG_LEVEL ||= 'error';
  // Lab databases are named after it: lower-case letters and digits only.
  const labRun = Date.now().toString(36);
  const results = await runStrategies(o, labRun, STRATEGIES, o.rounds);
  console.table(results.map(strategyRow));
  const problems = results.flatMap(violations);
  const file = path.join(outDir, `strategies-${runId}.json`);
  const chart = path.join(outDir, `strategies-${runId}.svg`);
  const { users, quantity, connections, duration, threads, rounds } = o;
  const run = { runId, options: { users, quantity, connections, duration, threads, rounds }, results, problems };
  fs.writeFileSync(file, JSON.stringify(run, null, 2));
  fs.writeFileSync(chart, strategyChart(results, strategyCaption(run)));
  console.log(`results: ${file}\nchart: ${chart}`);
  if (problems.length > 0) {
    console.error(`COUNTS WRONG:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
}

async function main() {
  const o = parseBenchCommand(process.argv.slice(2));
  // scripts/bench.sh answers --help before it gets here.
  if (!o) return;
  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = path.join(REPO_ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  if (o.targets.includes('strategies')) return strategiesRun(o, runId, outDir);
  if (o.targets.includes('queue'))
    return queueRun(
      {
        users: o.users,
        quantity: o.quantity,
        connections: o.connections,
        pipelining: o.pipelining,
        followConnections: o.followConnections,
        burstSeconds: o.burstSeconds,
        admitPerSecond: o.admitPerSecond,
        requestTimeoutSeconds: o.requestTimeout,
        gateway: o.gateway,
        modes: o.queueModes,
      },
      runId,
      outDir,
    );
  const tokenFile = path.join(outDir, `tokens-${runId}.txt`);
  const directTokenFile = path.join(outDir, `tokens-${runId}-direct.txt`);
  console.log(`bench ${runId}: ${o.users} users, claims quantity ${o.quantity}, ${o.connections} connections, ${o.duration} s per target and workload (${o.workloads.join(', ')})`);
  const users = await createUsers(o.users, `bench-${runId}`);
  fs.writeFileSync(tokenFile, users.map((u) => `${u.id} ${u.token}`).join('\n') + '\n');
  // Straight at issue-coupon (and its floor), each user's internal token, as the gateway relays it.
  const directTokens = users.map((u) => mintInternalToken('issue-coupon-service', { userId: u.id, role: 'USER' }, { ttlSeconds: 3600 }));
  fs.writeFileSync(directTokenFile, users.map((u, i) => `${u.id} ${directTokens[i]}`).join('\n') + '\n');
  // The refusals' load leaves out the first user, who holds the coupon it refuses.
  const tokenFiles = { gateway: tokenFile, direct: directTokenFile, gatewayButFirst: `${tokenFile}.refusals`, directButFirst: `${directTokenFile}.refusals` };
  fs.writeFileSync(tokenFiles.gatewayButFirst, fs.readFileSync(tokenFile, 'utf8').split('\n').slice(1).join('\n'));
  fs.writeFileSync(tokenFiles.directButFirst, fs.readFileSync(directTokenFile, 'utf8').split('\n').slice(1).join('\n'));
  const admin = await adminToken(o.gateway);

  const results: Array<Record<string, unknown>> = [];
  const problems: string[] = [];
  const floor = o.targets.includes('floor') ? await startProxyFloor(o) : undefined;
  const issueFloor = o.targets.includes('issue-floor') && o.workloads.includes('claims') ? await startIssueFloor(runId) : undefined;
  try {
    const issueTargets = o.targets.filter((t): t is IssueTarget => t !== 'redeem' && t !== 'checkout' && t !== 'strategies' && t !== 'queue');
    // Whatever runs first in a round meets the load's own wake (rows flushing, consumers, the last
    // run's traces): alternating the order spreads it over every target.
    const rounds = Array.from({ length: o.rounds }, (_, r) => (r % 2 === 0 ? issueTargets : [...issueTargets].reverse()));
    for (const workload of o.workloads) {
      for (const [round, target] of rounds.flatMap((order, r) => order.map((t) => [r + 1, t] as const))) {
        if (target === 'issue-floor') {
          // Its coupons are unlimited: there is nothing to refuse.
          if (workload === 'claims') results.push({ round, ...(await issueFloorPhase(o, issueFloor!, round, directTokenFile, problems)) });
          continue;
        }
        const url = target === 'gateway' || target === 'console' ? o.gateway : target === 'floor' ? floor!.url : o.direct;
        const proxyCpu = target === 'gateway' || target === 'console' ? metricsCpuClock(o.gatewayManagement) : target === 'floor' ? floor!.cpu : undefined;
        results.push({ round, ...(await issuePhase(o, admin, runId, target, workload, url, proxyCpu, tokenFiles, directTokens, problems)) });
      }
    }
  } finally {
    await floor?.stop();
    await issueFloor?.stop();
  }
  if (o.targets.includes('redeem')) results.push(await redeemPhase(o, admin, runId, users, problems));
  if (o.targets.includes('checkout')) results.push(await checkoutPhase(o, admin, runId, users, tokenFile, directTokens, problems));
  results.push(await consumerPhase(o, admin, runId, problems));
  console.table(results.map((r) => ({ ...r, outcomes: r.outcomes ? JSON.stringify(r.outcomes) : '' })));
  const compared = ratios(results);
  if (compared.length > 0) console.table(compared);
  const file = path.join(outDir, `bench-${runId}.json`);
  const chart = path.join(outDir, `bench-${runId}.svg`);
  const run = { runId, options: o, results, ratios: compared, problems };
  fs.writeFileSync(file, JSON.stringify(run, null, 2));
  fs.writeFileSync(chart, resultsChart(run));
  for (const file of Object.values(tokenFiles)) fs.rmSync(file);
  console.log(`results: ${file}\nchart: ${chart}`);
  if (problems.length > 0) {
    console.error(`COUNTS WRONG:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(`bench failed: ${err.message}`);
  process.exit(1);
});
