import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { REPO_ROOT } from '@coupon-rush/platform';
import { acceptedByServers, adminToken, createCoupon, createUsers, drain } from '@coupon-rush/loadkit';

interface Options {
  users: number;
  quantity: number;
  connections: number;
  duration: number;
  threads: number;
  events: number;
  targets: Array<'gateway' | 'direct'>;
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
  const o: Options = { users: 20_000, quantity: 10_000, connections: 64, duration: 10, threads: 1, events: 50_000, targets: ['gateway', 'direct'], gateway: 'http://127.0.0.1:8080', direct: 'http://127.0.0.1:8083' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    const n = Number(value);
    if (flag === '--target') o.targets = value === 'both' ? ['gateway', 'direct'] : [value as 'gateway'];
    else if (['--users', '--quantity', '--connections', '--duration', '--threads', '--events'].includes(flag) && Number.isInteger(n) && n > 0) (o as any)[flag.slice(2)] = n;
    else throw new Error(`unknown or bad option ${flag} ${value ?? ''} (options: --users N --quantity N --connections N --duration S --threads N --events N --target gateway|direct|both)`);
  }
  if (o.targets.some((t) => t !== 'gateway' && t !== 'direct')) throw new Error('--target is gateway, direct or both');
  // Every loop is bounded: the load by --duration, the drain wait below by a fixed deadline.
  if (o.duration > 600) throw new Error('--duration is at most 600 s');
  return o;
}

function runWrk(o: Options, target: 'gateway' | 'direct', couponId: number, tokenFile: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const url = target === 'gateway' ? o.gateway : o.direct;
    const child = spawn('wrk', ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.duration}s`, '--timeout', '5s', '--latency', '-s', path.join(__dirname, '../../src/issue.lua'), url], {
      env: { ...process.env, BENCH_TOKENS: tokenFile, BENCH_COUPON: String(couponId), BENCH_MODE: target, BENCH_THREADS: String(o.threads) },
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
 * The consumer alone: events for a fresh unlimited coupon are written straight to coupon.issued
 * (as issue-coupon would), and the time until all are rows gives the persisted rows/s.
 */
async function consumerPhase(o: Options, admin: string, runId: string, problems: string[]): Promise<Record<string, unknown>> {
  const coupon = await createCoupon(o.gateway, admin, `bench ${runId} consumer`, null);
  const kafka = new Kafka({ clientId: 'bench', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING });
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
  for (const target of o.targets) {
    const coupon = await createCoupon(o.gateway, admin, `bench ${runId} ${target}`, o.quantity);
    const acceptedBefore = await acceptedByServers();
    const loadStarted = Date.now();
    const load = await runWrk(o, target, coupon.id, tokenFile);
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
      reqPerSec: Math.round(load.requests / (load.durationUs / 1e6)),
      p50Ms: load.p50Us / 1000,
      p95Ms: load.p95Us / 1000,
      p99Ms: load.p99Us / 1000,
      maxMs: load.maxUs / 1000,
      requests: load.requests,
      outcomes: load.outcomes,
      accepted,
      socketErrors: load.socketErrors,
      rows: rec.rows,
      // Time from the end of the load until MySQL held every accepted claim.
      drainMs: Math.max(0, rec.drainedAfterMs - Math.round(load.durationUs / 1000)),
    });
  }
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
