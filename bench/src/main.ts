import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { REPO_ROOT } from '@coupon-rush/platform';
import { acceptedByServers, adminToken, api, createCoupon, createUsers, drain, platformDb, type LoadUser } from '@coupon-rush/loadkit';

type Target = 'gateway' | 'direct' | 'redeem';

interface Options {
  users: number;
  quantity: number;
  connections: number;
  duration: number;
  threads: number;
  events: number;
  codes: number;
  targets: Target[];
  gateway: string;
  direct: string;
}

interface LoadResult {
  requests: number;
  durationUs: number;
  p50Us: number;
  p95Us: number;
  p99Us: number;
  maxUs: number;
  socketErrors: number;
  outcomes: Record<string, number>;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { users: 20_000, quantity: 10_000, connections: 64, duration: 10, threads: 1, events: 50_000, codes: 20_000, targets: ['gateway', 'direct', 'redeem'], gateway: 'http://127.0.0.1:8080', direct: 'http://127.0.0.1:8083' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    const n = Number(value);
    if (flag === '--target') o.targets = value === 'all' ? ['gateway', 'direct', 'redeem'] : value === 'both' ? ['gateway', 'direct'] : [value as Target];
    else if (['--users', '--quantity', '--connections', '--duration', '--threads', '--events', '--codes'].includes(flag) && Number.isInteger(n) && n > 0) (o as any)[flag.slice(2)] = n;
    else throw new Error(`unknown or bad option ${flag} ${value ?? ''} (options: --users N --quantity N --connections N --duration S --threads N --events N --codes N --target gateway|direct|redeem|both|all)`);
  }
  if (o.targets.some((t) => !['gateway', 'direct', 'redeem'].includes(t))) throw new Error('--target is gateway, direct, redeem, both (gateway and direct) or all');
  // Every loop is bounded: the load by --duration, the drain wait below by a fixed deadline.
  if (o.duration > 600) throw new Error('--duration is at most 600 s');
  return o;
}

const LUA_DIR = path.join(__dirname, '../../src');

/** The columns every load target reports: rate, latency percentiles, outcomes. */
function loadSummary(load: LoadResult) {
  return {
    reqPerSec: Math.round(load.requests / (load.durationUs / 1e6)),
    p50Ms: load.p50Us / 1000,
    p95Ms: load.p95Us / 1000,
    p99Ms: load.p99Us / 1000,
    maxMs: load.maxUs / 1000,
    requests: load.requests,
    outcomes: load.outcomes,
    socketErrors: load.socketErrors,
  };
}

/** wrk with one of the bench's Lua scripts (they share wrk-outcomes.lua: outcome counts, the result line). */
function runWrk(o: Options, target: Target, url: string, script: string, env: Record<string, string>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.duration}s`, '--timeout', '5s', '--latency', '-s', path.join(LUA_DIR, script), url], {
      env: { ...process.env, ...env, BENCH_LUA_DIR: LUA_DIR, BENCH_THREADS: String(o.threads) },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const started = Date.now();
    const progress = setInterval(() => process.stdout.write(`\r  ${target}: ${Math.round((Date.now() - started) / 1000)}/${o.duration} s `), 1000);
    child.on('close', (code) => {
      clearInterval(progress);
      process.stdout.write('\n');
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}): ${out}`));
      resolve(JSON.parse(line.slice('BENCH_RESULT '.length)));
    });
  });
}

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
 * The consumer alone: events for a fresh unlimited coupon are written straight to coupon.issued
 * (as issue-coupon would), and the time until all are rows gives the persisted rows/s.
 */
async function consumerPhase(o: Options, admin: string, runId: string, problems: string[]): Promise<Record<string, unknown>> {
  const coupon = await createCoupon(o.gateway, admin, `bench ${runId} consumer`, null);
  const kafka = new Kafka({ clientId: 'bench', brokers: ['127.0.0.1:9092', '127.0.0.1:9094', '127.0.0.1:9096'], logLevel: logLevel.NOTHING });
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

async function main() {
  const o = parseOptions(process.argv.slice(2));
  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = path.join(REPO_ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const tokenFile = path.join(outDir, `tokens-${runId}.txt`);
  console.log(`bench ${runId}: ${o.users} users, quantity ${o.quantity}, ${o.connections} connections, ${o.duration} s per target`);
  const users = await createUsers(o.users, `bench-${runId}`);
  fs.writeFileSync(tokenFile, users.map((u) => `${u.id} ${u.token}`).join('\n') + '\n');
  const admin = await adminToken(o.gateway);

  const results: Array<Record<string, unknown>> = [];
  const problems: string[] = [];
  for (const target of o.targets.filter((t): t is 'gateway' | 'direct' => t !== 'redeem')) {
    const coupon = await createCoupon(o.gateway, admin, `bench ${runId} ${target}`, o.quantity);
    const acceptedBefore = await acceptedByServers();
    const loadStarted = Date.now();
    const load = await runWrk(o, target, target === 'gateway' ? o.gateway : o.direct, 'issue.lua', { BENCH_TOKENS: tokenFile, BENCH_COUPON: String(coupon.id), BENCH_MODE: target });
    const seen = load.outcomes['202'] ?? 0;
    const rec = await drain(o.gateway, admin, coupon.id, async () => (await acceptedByServers()) - acceptedBefore, loadStarted);
    const accepted: number = rec.accepted;
    const unexpected = Object.keys(load.outcomes).filter((k) => !['202', 'SOLD_OUT', 'ALREADY_ISSUED'].includes(k));
    const everyoneTried = load.requests >= o.users;
    const check = (ok: boolean, what: string) => ok || problems.push(`${target}: ${what}`);
    check(rec.rows === accepted, `rows ${rec.rows} != accepted ${accepted}`);
    check(seen <= accepted && accepted <= seen + o.connections, `server accepted ${accepted}, client saw ${seen} with ${o.connections} connections`);
    check(rec.redisClaims === rec.rows, `Redis claims ${rec.redisClaims} != rows ${rec.rows}`);
    check(rec.rows <= o.quantity, `rows ${rec.rows} exceed quantity ${o.quantity}`);
    check(!everyoneTried || accepted === Math.min(o.quantity, o.users), `accepted ${accepted} != min(quantity, users) although every user tried`);
    check(load.socketErrors === 0, `${load.socketErrors} socket errors`);
    check(unexpected.length === 0, `unexpected outcomes ${unexpected.map((k) => `${k}=${load.outcomes[k]}`).join(', ')}`);
    results.push({
      target,
      couponId: coupon.id,
      ...loadSummary(load),
      accepted,
      rows: rec.rows,
      // Time from the end of the load until MySQL held every accepted claim.
      drainMs: Math.max(0, rec.drainedAfterMs - Math.round(load.durationUs / 1000)),
    });
  }
  if (o.targets.includes('redeem')) results.push(await redeemPhase(o, admin, runId, users, problems));
  results.push(await consumerPhase(o, admin, runId, problems));
  console.table(results.map((r) => ({ ...r, outcomes: r.outcomes ? JSON.stringify(r.outcomes) : '' })));
  const file = path.join(outDir, `bench-${runId}.json`);
  fs.writeFileSync(file, JSON.stringify({ runId, options: o, results, problems }, null, 2));
  fs.rmSync(tokenFile);
  console.log(`results: ${file}`);
  if (problems.length > 0) {
    console.error(`COUNTS WRONG:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(`bench failed: ${err.message}`);
  process.exit(1);
});
