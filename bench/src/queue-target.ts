import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Redis from 'ioredis';
import { connectRedis, createLogger, resolveServiceConfig } from '@coupon-rush/platform';
import { CONFIG as ISSUE_COUPON } from '@coupon-rush/issue-coupon-service';
import { acceptedByServers, adminToken, api, createCoupon, createUsers, drain, platformDb, type LoadUser, type Reconciliation } from '@coupon-rush/loadkit';
import { runBurst, summarizeBurst, type BurstMode, type BurstResult } from './queue-burst';

/**
 * `npm run bench -- --target queue`: a flash crowd at a queued coupon (issue 28's waiting room),
 * then the same crowd at a direct coupon of the same quantity, through the gateway. Runs alone: its
 * defaults differ from the wrk targets' (a quantity of 2,000, thousands of connections), and the
 * two bursts with the admission take about a minute.
 */
export interface QueueTargetOptions {
  users: number;
  quantity: number;
  /** The burst pool: each user's first request, `pipelining` deep per connection. */
  connections: number;
  pipelining: number;
  /** Polls, claims with a pass, retries. */
  followConnections: number;
  burstSeconds: number;
  /** 'auto': the room governs its rate from the issue route's p99 (from 100 a second, at least 10). */
  admitPerSecond: number | 'auto';
  /** A request without an answer after this long is a timeout (an error); a browser waits longer. */
  requestTimeoutSeconds: number;
  gateway: string;
  /** queued, direct or both (in that order). */
  modes: BurstMode[];
}

interface RedisProbe {
  redis: Redis;
  prefix: string;
}

/** issue-coupon's Redis (its own configuration, resolved as it resolves it), to read the room's keys and memory; undefined if it cannot be reached. */
async function connectIssueRedis(): Promise<RedisProbe | undefined> {
  try {
    const { config } = await resolveServiceConfig(ISSUE_COUPON, {}, createLogger('bench-queue', 'error'));
    const redis = connectRedis(config.redis, { maxRetriesPerRequest: 1 });
    await redis.ping();
    return { redis, prefix: config.redis.keyPrefix };
  } catch (err) {
    console.log(`  (issue-coupon's Redis cannot be read, so no queue order from the line nor memory figures: ${(err as Error).message})`);
    return undefined;
  }
}

async function usedMemory(probe: RedisProbe): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await probe.redis.info('memory'))?.[1]);
}

/**
 * The waiting room's own keys (issue-coupon's WaitingLine: line, pre-queue, state, passes): the
 * line's sequence of every user who joined, and what the room holds in Redis per user in it.
 */
async function readRoom(probe: RedisProbe, couponId: number) {
  const base = `${probe.prefix}coupon:{${couponId}}:queue`;
  const flat = await probe.redis.zrange(`${base}:line`, '0', '-1', 'WITHSCORES');
  const sequence = new Map<number, number>();
  for (let i = 0; i < flat.length; i += 2) sequence.set(Number(flat[i]), Number(flat[i + 1]));
  const bytes: Record<string, number> = {};
  for (const key of ['line', 'pre', 'state', 'passes']) bytes[key] = Number((await probe.redis.call('MEMORY', 'USAGE', `${base}:${key}`, 'SAMPLES', '0')) ?? 0);
  const state = await probe.redis.hgetall(`${base}:state`);
  const total = Object.values(bytes).reduce((a, b) => a + b, 0);
  return { sequence, bytes, state, lineUsers: sequence.size, bytesPerUserInLine: sequence.size ? Math.round(total / sequence.size) : undefined };
}

async function holders(couponId: number): Promise<number[]> {
  const db = platformDb();
  try {
    return (await db('issued_coupons').select('user_id').where({ coupon_id: couponId })).map((r) => Number(r.user_id));
  } finally {
    await db.destroy();
  }
}

const EXPECTED_FINALS = ['202', 'SOLD_OUT'];

/** One burst against a new coupon, with the counts checked afterwards. */
async function phase(o: QueueTargetOptions, mode: BurstMode, admin: string, runId: string, users: LoadUser[], probe: RedisProbe | undefined, problems: string[]) {
  const admission = mode === 'queued' ? { perSecond: o.admitPerSecond } : undefined;
  const coupon = await createCoupon(o.gateway, admin, `bench ${runId} ${mode}`, o.quantity, admission);
  if (mode === 'queued') {
    const read = await api(o.gateway, 'GET', `/api/coupons/${coupon.id}`);
    if (read.admission?.perSecond !== o.admitPerSecond)
      throw new Error(
        `coupon ${coupon.id} was created with admission ${JSON.stringify(admission)} but reads ${JSON.stringify(read.admission)}: the running coupon-service does not know the waiting room (issue 28) yet`,
      );
  }
  // The room admits a user a 1/perSecond, the back of the line polls at most every 15 s (issue.queue.maxPollMs), and a direct crowd waits out its 503s.
  const slowest = o.admitPerSecond === 'auto' ? 10 : o.admitPerSecond;
  const deadlineMs = (o.burstSeconds + 2 * Math.ceil(o.quantity / slowest) + 60) * 1000;
  const acceptedBefore = await acceptedByServers();
  const memoryBefore = probe && (await usedMemory(probe).catch(() => undefined));
  const memorySamples: Array<{ atMs: number; waiting: number; usedMemory?: number }> = [];
  console.log(
    `  ${mode}: coupon ${coupon.id}, quantity ${o.quantity}${admission ? `, admitting ${admission.perSecond}/s` : ''}; ${users.length} users over ${o.burstSeconds} s (deadline ${deadlineMs / 1000} s)`,
  );
  const started = Date.now();
  const result = await runBurst(users, {
    base: o.gateway,
    couponId: coupon.id,
    mode,
    burstMs: o.burstSeconds * 1000,
    connections: o.connections,
    pipelining: o.pipelining,
    followConnections: o.followConnections,
    deadlineMs,
    requestTimeoutMs: o.requestTimeoutSeconds * 1000,
    maxRejoins: 3,
    onTick: (s) => {
      process.stdout.write(`\r    ${Math.round(s.elapsedMs / 1000)} s: started ${s.joined}, sent ${s.sent}, waiting ${s.waiting}, admitted ${s.admitted}, final ${s.final}, errors ${s.errors}   `);
      if (probe && mode === 'queued') {
        const sample: { atMs: number; waiting: number; usedMemory?: number } = { atMs: Math.round(s.elapsedMs), waiting: s.waiting };
        memorySamples.push(sample);
        usedMemory(probe).then(
          (m) => (sample.usedMemory = m),
          () => {},
        );
      }
    },
  });
  process.stdout.write('\n');
  const room = probe && mode === 'queued' ? await readRoom(probe, coupon.id).catch((err: Error) => ({ error: err.message })) : undefined;
  const sequence = room && 'sequence' in room ? room.sequence : undefined;
  const rec = await drain(o.gateway, admin, coupon.id, async () => (await acceptedByServers()) - acceptedBefore, started);
  const rows = await holders(coupon.id);
  const summary = summarizeBurst(result, sequence && ((id) => sequence.get(id)));
  checkPhase(mode, o, result, summary, rec, rows, problems);
  // The room's memory: its keys per user in the line (exact), and the whole Redis's growth at the most users waiting (the box's other work included).
  let memory: Record<string, unknown> | undefined;
  if (room && 'sequence' in room) {
    const peak = memorySamples.filter((x) => x.usedMemory !== undefined).sort((a, b) => b.waiting - a.waiting)[0];
    memory = {
      roomKeyBytes: room.bytes,
      lineUsers: room.lineUsers,
      bytesPerUserInLine: room.bytesPerUserInLine,
      state: room.state,
      usedMemoryBefore: memoryBefore,
      atPeakWaiting:
        peak && memoryBefore !== undefined
          ? { ...peak, growth: peak.usedMemory! - memoryBefore, perWaitingUser: peak.waiting ? Math.round((peak.usedMemory! - memoryBefore) / peak.waiting) : undefined }
          : undefined,
    };
  } else if (room) memory = room;
  return { mode, couponId: coupon.id, summary, reconciliation: rec, rowsUsers: rows.length, memory, memorySamples, result };
}

function checkPhase(mode: BurstMode, o: QueueTargetOptions, r: BurstResult, s: ReturnType<typeof summarizeBurst>, rec: Reconciliation & { accepted: number }, rows: number[], problems: string[]) {
  const check = (ok: boolean, what: string) => ok || problems.push(`${mode}: ${what}`);
  const winners = new Set(r.users.filter((u) => u.final === '202').map((u) => u.id));
  const held = new Set(rows);
  const expected = Math.min(o.quantity, o.users);
  check(r.warmFailures === 0, `${r.warmFailures} of the ${o.connections} warm-up requests failed (connections not opened)`);
  check(s.errorCount === 0, `${s.errorCount} errors: ${JSON.stringify(s.errors)}`);
  check(s.sent.sent === o.users, `${s.sent.sent} of ${o.users} users' first requests went out`);
  check(s.unanswered === 0, `${s.unanswered} users left without a final answer`);
  const odd = Object.keys(s.finals).filter((k) => !EXPECTED_FINALS.includes(k));
  check(odd.length === 0, `final answers other than 202/SOLD_OUT: ${odd.map((k) => `${k}=${s.finals[k]}`).join(', ')}`);
  check(s.accepted === expected, `${s.accepted} users got 202, expected exactly ${expected}`);
  check(rec.accepted === s.accepted, `the servers accepted ${rec.accepted}, the users saw ${s.accepted} 202s`);
  check(rec.rows === s.accepted, `rows ${rec.rows} != 202s ${s.accepted}`);
  check(rec.issuedQuantity === rec.rows && rec.redisClaims === rec.rows, `issuedQuantity ${rec.issuedQuantity}, Redis claims ${rec.redisClaims}, rows ${rec.rows}`);
  check(held.size === rows.length && [...winners].every((u) => held.has(u)) && rows.every((u) => winners.has(u)), `the users holding a row are not exactly the users who got 202`);
}

const fmt = (x: unknown) => (x === undefined || x === null ? '' : x);

/** The run: users, both bursts, the tables, the JSON. Exits non-zero on wrong counts. */
export async function queueRun(o: QueueTargetOptions, runId: string, outDir: string): Promise<void> {
  console.log(
    `bench ${runId}: waiting room, ${o.users} users over ${o.burstSeconds} s, quantity ${o.quantity}, admitting ${o.admitPerSecond}/s; first requests on ${o.connections} connections ${o.pipelining} deep, the rest on ${o.followConnections}; ${o.modes.join(' then ')}`,
  );
  const users = await createUsers(o.users, `bench-${runId}`);
  const admin = await adminToken(o.gateway);
  const probe = await connectIssueRedis();
  const problems: string[] = [];
  const phases: Array<Awaited<ReturnType<typeof phase>>> = [];
  const loadAverage: Record<string, number> = { before: os.loadavg()[0] };
  try {
    for (const mode of o.modes) phases.push(await phase(o, mode, admin, runId, users, probe, problems));
  } finally {
    probe?.redis.disconnect();
  }
  loadAverage.after = os.loadavg()[0];

  const S = (p: (typeof phases)[number]) => p.summary as any;
  console.log('\nwhat the generator sent when (first request of each user; ms after the burst start):');
  console.table(
    phases.map((p) => {
      const s = S(p);
      return {
        burst: p.mode,
        users: s.users,
        connections: `${s.connectedAtStart}/${s.connections} ×${s.pipelining} + ${s.followConnectedAtStart}/${s.followConnections}`,
        planned: `${s.sent.plannedFirstMs}–${s.sent.plannedLastMs}`,
        sent: `${fmt(s.sent.sentFirstMs)}–${fmt(s.sent.sentLastMs)}`,
        withinPlan: s.sent.sentWithinPlannedWindow,
        lateP50: s.sent.lateness.p50Ms,
        lateP99: s.sent.lateness.p99Ms,
        lateMax: s.sent.lateness.maxMs,
        loopLateP99: s.dispatched.p99Ms,
        generatorCpuS: Math.round(s.generatorCpuMs / 100) / 10,
        dropped: s.burstDisconnects,
      };
    }),
  );
  console.log('latency, ms from the write to the whole answer (joinFromPlan: from the planned instant):');
  console.table(
    phases.flatMap((p) =>
      Object.entries(S(p).latency as Record<string, any>)
        .filter(([, l]) => l.count > 0)
        .map(([kind, l]) => ({ burst: p.mode, kind, requests: l.count, p50: l.p50Ms, p95: l.p95Ms, p99: l.p99Ms, max: l.maxMs })),
    ),
  );
  console.log('answers and counts:');
  console.table(
    phases.map((p) => {
      const s = S(p);
      return {
        burst: p.mode,
        couponId: p.couponId,
        accepted: s.accepted,
        finals: JSON.stringify(s.finals),
        noAnswer: s.unanswered,
        errors: s.errorCount,
        '429/503 waited': `${s.retries['429']}/${s.retries['503']}`,
        serversAccepted: p.reconciliation.accepted,
        rows: p.reconciliation.rows,
        issuedQuantity: p.reconciliation.issuedQuantity,
        redisClaims: p.reconciliation.redisClaims,
        seconds: Math.round(s.durationMs / 100) / 10,
      };
    }),
  );
  console.log(`first come, first served (arrival: the user's first write; winners among the first ${o.quantity} arrivals, Spearman 1 = same order):`);
  console.table(
    phases.map((p) => {
      const s = S(p);
      const q = s.queue;
      return {
        burst: p.mode,
        winners: s.order.winners,
        amongFirstArrivals: s.order.winnersAmongFirstArrivals,
        latestWinnerArrival: s.order.latestWinnerArrivalRank,
        'arrival~acceptance': fmt(s.order.arrivalVsAcceptance),
        ...(q
          ? {
              'join~line': fmt(q.joinVsLine),
              'join~line (1st on conn.)': fmt(q.joinVsLineFirstOnConnection),
              admitted: q.admitted,
              admittedAmongFirstInLine: q.admittedVsLine?.winnersAmongFirstArrivals,
              winnersAmongFirstInLine: q.winnersVsLine?.winnersAmongFirstArrivals,
              pollsPerUser: `${q.pollsPerUser.mean} (max ${q.pollsPerUser.max})`,
            }
          : {}),
      };
    }),
  );
  for (const p of phases) {
    if (!p.memory) continue;
    const m = p.memory as any;
    if (m.error) console.log(`Redis: the room's keys could not be read (${m.error})`);
    else
      console.log(
        `Redis, the room of coupon ${p.couponId}: ${JSON.stringify(m.roomKeyBytes)} bytes for ${m.lineUsers} users in the line: ${m.bytesPerUserInLine} bytes per user` +
          (m.atPeakWaiting
            ? m.atPeakWaiting.growth > 0
              ? `; used_memory +${m.atPeakWaiting.growth} bytes at ${m.atPeakWaiting.waiting} waiting (${m.atPeakWaiting.perWaitingUser} per waiting user, the whole Redis, other work included)`
              : `; used_memory fell by ${-m.atPeakWaiting.growth} bytes meanwhile (other work on the shared Redis): no whole-Redis figure`
            : ''),
      );
  }

  const file = path.join(outDir, `queue-${runId}.json`);
  const usersFile = path.join(outDir, `queue-${runId}-users.json`);
  fs.writeFileSync(file, JSON.stringify({ runId, options: o, cores: os.cpus().length, loadAverage, phases: phases.map(({ result: _r, ...rest }) => rest), problems }, null, 2));
  // Every user's story, one row each: [id, planned, dispatched, sent, answered, position, line sequence, admitted, accepted, final, final at, polls, retries].
  fs.writeFileSync(
    usersFile,
    JSON.stringify(
      Object.fromEntries(
        phases.map((p) => [
          p.mode,
          p.result.users.map((u) =>
            [u.id, u.plannedAt, u.firstDispatchedAt, u.firstSentAt, u.firstAnsweredAt, u.position, u.sequence, u.admittedAt, u.acceptedAt, u.final, u.finalAt, u.polls, u.retries].map((v) =>
              typeof v === 'number' ? Math.round(v * 10) / 10 : (v ?? null),
            ),
          ),
        ]),
      ),
    ),
  );
  console.log(`results: ${file}\nevery user: ${usersFile}`);
  if (problems.length > 0) {
    console.error(`COUNTS WRONG:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
}
