import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '@coupon-rush/platform';
import { acceptedByServers, adminToken, createCoupon, drain, platformDb } from '@coupon-rush/loadkit';
import { readJtl, summarize } from './jtl';
import { GATEWAY, jmeterProperties, jvmArgs, parseOptions, type Options } from './options';
import { createTokenCsv } from './token-csv';
import { QUEUE_LABELS, claimLateness, verify, verifyQueue } from './verify';

const GATEWAY_URL = `http://${GATEWAY.host}:${GATEWAY.port}`;
const JMETER_DIR = path.join(REPO_ROOT, 'jmeter');
/** The plans' issue sampler; the warm-up group's samples carry another label. */
const ISSUE_LABEL = 'issue';
/** Seed 001's JMeter run (15,000 threads, 20 s ramp-up, CSV tokens), after its improvements. */
const SEEDS = { throughputPerSec: 944.41, averageMs: 26, maxMs: 1090, stdDevMs: 28.01 };

function jmeterCommand(o: Options, props: Record<string, string>, outDir: string): string[] {
  const home = process.env.JMETER_HOME ?? '<JMETER_HOME>';
  const args = [
    ...jvmArgs(),
    '-jar',
    path.join(home, 'bin/ApacheJMeter.jar'),
    '-n',
    '-t',
    path.join(JMETER_DIR, `${o.plan}.jmx`),
    '-q',
    path.join(JMETER_DIR, 'results.properties'),
    '-l',
    path.join(outDir, 'results.jtl'),
    '-j',
    path.join(outDir, 'jmeter.log'),
  ];
  // Three INFO lines per thread (started, done, finished) are 45,000 synchronous log writes in a
  // rush, CPU the load generator shares with the platform on this box.
  args.push('-Ljmeter.threads=WARN');
  for (const [k, v] of Object.entries(props)) args.push(`-J${k}=${v}`);
  if (o.report) args.push('-e', '-o', path.join(outDir, 'report'));
  return args;
}

/** Runs JMeter in non-GUI mode, its progress lines on our stdout, killed if it outlives `timeoutMs`. */
function runJMeter(args: string[], cwd: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = (out: NodeJS.WriteStream) => (d: Buffer) =>
      // log4j's own start-up notices about JMeter's plugin scanning are noise here.
      out.write(
        d
          .toString()
          .split('\n')
          .filter((l) => l && !l.includes('StatusConsoleListener'))
          .map((l) => `  ${l}\n`)
          .join(''),
      );
    child.stdout.on('data', relay(process.stdout));
    child.stderr.on('data', relay(process.stderr));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, timeoutMs);
    const stop = () => child.kill('SIGTERM');
    process.once('SIGINT', stop).once('SIGTERM', stop);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      process.off('SIGINT', stop).off('SIGTERM', stop);
      if (timedOut) reject(new Error(`JMeter did not finish within ${timeoutMs / 1000} s and was stopped`));
      else if (code !== 0) reject(new Error(`JMeter exited with ${code}, see ${path.join(cwd, 'jmeter.log')}`));
      else resolve();
    });
  });
}

async function persistedUserIds(couponId: number): Promise<number[]> {
  const db = platformDb();
  try {
    return (await db('issued_coupons').select('user_id').where({ coupon_id: couponId })).map((r) => Number(r.user_id));
  } finally {
    await db.destroy();
  }
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  // scripts/jmeter.sh answers --help before it gets here.
  if (!o) return;
  if (!process.env.JMETER_HOME && !o.prepareOnly) throw new Error('JMETER_HOME is not set: run it as npm run jmeter');
  const runId = `${o.plan}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const outDir = path.join(JMETER_DIR, 'results', runId);
  fs.mkdirSync(outDir, { recursive: true });
  const csv = path.join(outDir, 'tokens.csv');
  const shape =
    o.plan === 'rush'
      ? `${o.threads} threads over ${o.rampup} s, one request each`
      : o.plan === 'queue'
        ? `${o.threads} threads over ${o.rampup} s, each joining the waiting room (admitting ${o.admitPerSecond}/s), polling and claiming with its pass`
        : `${o.threads} threads at ${o.rate} req/s for ${o.duration} s`;
  console.log(`jmeter ${runId}: ${shape}; ${o.users} users, quantity ${o.quantity}`);

  await createTokenCsv(csv, o.users, `jmeter-${runId}`);
  const admin = await adminToken(GATEWAY_URL);
  const coupon = await createCoupon(GATEWAY_URL, admin, `jmeter ${runId}`, o.quantity, o.plan === 'queue' ? { perSecond: o.admitPerSecond } : undefined);
  if (o.plan === 'queue' && coupon.admission?.perSecond !== o.admitPerSecond)
    throw new Error(`coupon ${coupon.id} was created without its admission: the running coupon-service does not know the waiting room (issue 28)`);
  const args = jmeterCommand(o, jmeterProperties(o, coupon.id, csv), outDir);
  if (o.prepareOnly) {
    console.log(`users and tokens: ${csv}\ncoupon: ${coupon.id}\nrun it with:\n  java ${args.join(' ')}`);
    return;
  }

  // The box is shared (2 cores): its load around the run is part of the result.
  const loadAverage = { before: os.loadavg()[0], after: 0 };
  const acceptedBefore = await acceptedByServers();
  const loadStarted = Date.now();
  try {
    await runJMeter(args, outDir, (o.rampup + o.duration + o.patience + 180) * 1000);
  } finally {
    // The tokens stay valid for half an hour: nothing keeps them once JMeter is done.
    fs.rmSync(csv, { force: true });
  }
  const jmeterDoneMs = Date.now() - loadStarted;
  loadAverage.after = os.loadavg()[0];
  const labels: readonly string[] = o.plan === 'queue' ? QUEUE_LABELS : [ISSUE_LABEL];
  const samples = readJtl(fs.readFileSync(path.join(outDir, 'results.jtl'), 'utf8')).filter((x) => labels.includes(x.label));
  const summary = summarize(samples);
  const rec = await drain(GATEWAY_URL, admin, coupon.id, async () => (await acceptedByServers()) - acceptedBefore, loadStarted);
  const persisted = await persistedUserIds(coupon.id);
  const problems = o.plan === 'queue' ? verifyQueue(o, samples, rec, persisted) : verify(o, samples, summary, rec, persisted);
  // The queue plan's figures per step of the flow (join, poll, claim), each its own summary.
  const byLabel = o.plan === 'queue' ? Object.fromEntries(QUEUE_LABELS.map((l) => [l, summarize(samples.filter((x) => x.label === l))])) : undefined;
  const lateClaims = o.plan === 'queue' ? claimLateness(samples) : undefined;

  const { outcomes, ...figures } = summary;
  // A load generator short of CPU sends later than planned: how the plan's pace was actually kept.
  const firstRequests = o.plan === 'queue' ? samples.filter((x) => x.label === 'join') : samples;
  const firstStart = firstRequests.reduce((m, x) => Math.min(m, x.timeStamp), Infinity);
  const sentOverSec = (firstRequests.reduce((m, x) => Math.max(m, x.timeStamp), -Infinity) - firstStart) / 1000;
  const pacing = o.plan !== 'steady' ? { plannedPerSec: Math.round(o.threads / o.rampup), plannedOverSec: o.rampup, sentOverSec } : { plannedPerSec: o.rate, achievedPerSec: figures.throughputPerSec };
  const row = (run: string, figures: Omit<typeof summary, 'outcomes'>) => ({
    run,
    samples: figures.samples,
    'req/s': figures.throughputPerSec,
    avgMs: figures.averageMs,
    p50Ms: figures.medianMs,
    p95Ms: figures.p95Ms,
    p99Ms: figures.p99Ms,
    maxMs: figures.maxMs,
    stdDevMs: figures.stdDevMs,
    'error%': figures.errorPct,
  });
  if (byLabel) console.table(Object.entries(byLabel).map(([label, s]) => ({ ...row(label, s), outcomes: JSON.stringify(s.outcomes) })));
  if (lateClaims)
    console.log(
      `JMeter's own lateness, from an ADMITTED answer to the claim (the plan waits nothing there): p50 ${lateClaims.p50Ms} ms, p99 ${lateClaims.p99Ms} ms, max ${lateClaims.maxMs} ms over ${lateClaims.count} claims (a pass lapses 30 s after admission)`,
    );
  console.table([
    row(`${o.plan} (this)`, figures),
    ...(o.plan === 'rush' ? [{ run: 'seeds (001)', samples: 15_000, 'req/s': SEEDS.throughputPerSec, avgMs: SEEDS.averageMs, maxMs: SEEDS.maxMs, stdDevMs: SEEDS.stdDevMs }] : []),
  ]);
  console.log(
    o.plan !== 'steady'
      ? `pace: ${o.threads} ${o.plan === 'queue' ? 'joins' : 'requests'} planned over ${o.rampup} s (${pacing.plannedPerSec} req/s), sent over ${sentOverSec.toFixed(1)} s`
      : `pace: ${o.rate} req/s planned, ${figures.throughputPerSec} req/s achieved${figures.throughputPerSec < 0.9 * o.rate ? ' (short of the target: the platform or JMeter ran out of CPU or threads)' : ''}`,
  );
  console.log(
    `outcomes ${JSON.stringify(outcomes)}; servers accepted ${rec.accepted}; rows ${rec.rows} (${new Set(persisted).size} distinct users); Redis claims ${rec.redisClaims}; issuedQuantity ${rec.issuedQuantity}; all rows in MySQL ${Math.max(0, rec.drainedAfterMs - jmeterDoneMs)} ms after JMeter ended; 1-min load average ${loadAverage.before.toFixed(2)} before, ${loadAverage.after.toFixed(2)} after (${os.cpus().length} cores)`,
  );
  const file = path.join(outDir, 'summary.json');
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        runId,
        options: o,
        jvmArgs: jvmArgs(),
        couponId: coupon.id,
        loadAverage,
        cores: os.cpus().length,
        pacing,
        summary,
        ...(byLabel ? { byLabel, lateClaims } : {}),
        reconciliation: rec,
        persistedRows: persisted.length,
        problems,
        seeds: SEEDS,
      },
      null,
      2,
    ),
  );
  console.log(`results: ${outDir} (results.jtl, jmeter.log, summary.json${o.report ? ', report/' : ''})`);
  if (problems.length > 0) {
    console.error(`CHECKS FAILED:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(
    o.plan === 'queue'
      ? 'checks passed: every user joined and ended with 202 or SOLD_OUT, no assertion failed, 202s == min(quantity, users) == servers accepted == rows, one row per accepted user'
      : 'checks passed: only 202/409, rows == 202s == servers accepted, one row per accepted user, quantity respected',
  );
}

main().catch((err) => {
  console.error(`jmeter failed: ${err.message}`);
  process.exit(1);
});
