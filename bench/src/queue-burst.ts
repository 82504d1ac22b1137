import { Client, Pool, type Dispatcher } from 'undici';
import { burstSchedule, latencySummary, sendSpread, spearman, tally, winnersVersusArrivals } from './queue-metrics';

/**
 * The queue target's load generator. wrk sends one request shape; a waiting room is a per-user
 * flow (join, poll as the server says, claim with the pass), so this is Node: undici pools through
 * the dispatch API (the cheapest on this box, as in the floors), their connections opened before
 * the burst. Every user joins at its planned instant; the instant its request was really written
 * to a socket (undici's onRequestStart, called just before the write) is recorded beside it, so
 * the report says what the generator achieved rather than what it meant. Every answer is counted;
 * every loop has a deadline.
 *
 * Two sets of connections. Each user's first request (the join, or the direct claim) goes out on
 * the burst connections, user i on connection i mod `connections`, `pipelining` requests deep, so
 * that `connections × pipelining` first requests can be on the wire at once: a crowd of 20,000 is
 * really sent within its 2 s instead of waiting in the generator while the platform answers the
 * ones before (each user of a real crowd has a connection of their own; this box cannot hold
 * 20,000 in the gateway, whose file limit is 20,000). The assignment is the generator's own:
 * undici's Pool, given 2,000 connections 10 deep, left about one request in ten unsent until
 * answers came back (measured against a local server answering in 3 s: 16,960 of 20,000 written
 * within the 2 s, against 19,621 round-robin over Clients). Everything after (polls, claims with a
 * pass, retries) goes through a pool of its own: a user's poll never waits in the generator
 * behind other users' unsent joins, which would make it late for its own pass (a first version
 * with one shared pool made 1,905 users' passes lapse before their claims went out).
 */

export interface BurstUser {
  id: number;
  token: string;
}

/** queued: join, poll, claim with the pass; direct: claim straight, waiting out 503/429 per Retry-After. */
export type BurstMode = 'queued' | 'direct';

export interface BurstOptions {
  /** The gateway, e.g. http://127.0.0.1:8080. */
  base: string;
  couponId: number;
  mode: BurstMode;
  /** The users join (queued) or claim (direct) evenly spread over this many ms. */
  burstMs: number;
  connections: number;
  /** First requests written per burst connection before their answers (1: none pipelined). */
  pipelining: number;
  /** Connections for polls, claims with a pass and retries. */
  followConnections: number;
  /** Everything stops this long after the burst's start; a user still without a final answer is NO_ANSWER. */
  deadlineMs: number;
  /** A request with no answer after this long is a timeout (an error). */
  requestTimeoutMs: number;
  /** How many times an EXPIRED user joins again (at the back) before it is left EXPIRED. */
  maxRejoins: number;
  /** Called about once a second with the run's state (the progress line, the Redis samples). */
  onTick?: (state: BurstState) => void;
}

export interface BurstState {
  elapsedMs: number;
  joined: number;
  /** First requests written to a socket. */
  sent: number;
  waiting: number;
  admitted: number;
  final: number;
  errors: number;
}

type Kind = 'join' | 'poll' | 'claim';

/** One user's story, instants in ms after the burst's start. */
export interface UserRecord {
  id: number;
  plannedAt: number;
  /** Its first request's place on its burst connection (0: the first written there; pipelined behind others otherwise). */
  slot: number;
  /** When the generator dispatched its first request, and when that request was written to a socket. */
  firstDispatchedAt?: number;
  firstSentAt?: number;
  firstAnsweredAt?: number;
  /** The first position the waiting room gave it (null in the pre-queue). */
  position?: number | null;
  preQueue?: boolean;
  /** Its sequence in the room's line (absolute, read from Redis after the run), when known. */
  sequence?: number;
  /** When it first saw ADMITTED (at its join, or at a poll). */
  admittedAt?: number;
  admittedOnJoin?: boolean;
  /** When its claim was accepted (202). */
  acceptedAt?: number;
  joins: number;
  polls: number;
  claims: number;
  /** 429/503 answers waited out (Retry-After). */
  retries: number;
  rejoins: number;
  /** 202, a final refusal's code (SOLD_OUT...), EXPIRED, ERROR:<what> or NO_ANSWER. */
  final?: string;
  finalAt?: number;
}

export interface BurstResult {
  mode: BurstMode;
  couponId: number;
  connections: number;
  pipelining: number;
  followConnections: number;
  /** Connections each pool had open when the burst started. */
  connectedAtStart: number;
  followConnectedAtStart: number;
  /** Burst connections closed during the run (by either side). */
  burstDisconnects: number;
  /** Warm-up requests (GET /health/live, one per connection) that failed. */
  warmFailures: number;
  burstMs: number;
  users: UserRecord[];
  /** Per kind: ms from the write to the whole answer, and answers by status and code. */
  latencies: Record<Kind, number[]>;
  answers: Record<Kind, Record<string, number>>;
  /** Per join: ms from its planned instant to its answer (the wait the generator's own queue adds included). */
  joinFromPlan: number[];
  errors: Record<string, number>;
  errorExamples: string[];
  retries: { '429': number; '503': number };
  missingPollAfter: number;
  pollAfterMs: Record<string, number>;
  peakWaiting: number;
  durationMs: number;
  /** CPU the generator's process used during the run (user + system): one core is 1,000 ms a second. */
  generatorCpuMs: number;
  deadlineHit: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  sentAt?: number;
  answeredAt: number;
  error?: string;
}

const FINAL_REFUSALS = new Set(['SOLD_OUT', 'ISSUE_WINDOW_CLOSED', 'ALREADY_ISSUED', 'COUPON_NOT_FOUND', 'QUEUE_NOT_USED']);

/** Retry-After in ms: whole seconds or an HTTP date; 1 s when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return 1000;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? 1000 : Math.max(0, at - now);
}

/** An undici error as a short name: timeout, refused, reset, socket... */
function errorName(err: Error & { code?: string }): string {
  const code = err.code ?? err.name;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return `timeout (${code})`;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `socket (${code})`;
  return `error (${code})`;
}

/** Opens `n` connections of a dispatcher (n requests in flight at once take n connections of a pool) before the burst; resolves with the failures. */
async function warm(dispatchers: Dispatcher[], n: number, timeoutMs: number): Promise<number> {
  let failed = 0;
  const one = (_: unknown, i: number) =>
    new Promise<void>((resolve) => {
      dispatchers[i % dispatchers.length].dispatch(
        { method: 'GET', path: '/health/live', headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
        {
          onRequestStart: () => {},
          onResponseStart: () => {},
          onResponseData: () => {},
          onResponseEnd: () => resolve(),
          onResponseError: () => {
            failed++;
            resolve();
          },
        },
      );
    });
  await Promise.all(Array.from({ length: n }, one));
  return failed;
}

export async function runBurst(users: BurstUser[], o: BurstOptions): Promise<BurstResult> {
  const poolOptions = { keepAliveTimeout: 60_000, connectTimeout: 10_000, headersTimeout: o.requestTimeoutMs, bodyTimeout: o.requestTimeoutMs };
  const burstClients = Array.from({ length: o.connections }, () => new Client(o.base, { ...poolOptions, pipelining: o.pipelining }));
  let [connected, disconnects] = [0, 0];
  for (const c of burstClients) {
    c.on('connect', () => connected++);
    c.on('disconnect', () => {
      connected--;
      disconnects++;
    });
  }
  const followPool = new Pool(o.base, { ...poolOptions, connections: o.followConnections, pipelining: 1 });
  const warmFailures = (await warm(burstClients, o.connections, o.requestTimeoutMs)) + (await warm([followPool], o.followConnections, o.requestTimeoutMs));
  const [connectedAtStart, followConnectedAtStart] = [connected, followPool.stats.connected];
  disconnects = 0;
  const planned = burstSchedule(users.length, o.burstMs);
  const records: UserRecord[] = users.map((u, i) => ({ id: u.id, plannedAt: planned[i], slot: Math.floor(i / o.connections), joins: 0, polls: 0, claims: 0, retries: 0, rejoins: 0 }));
  const r: BurstResult = {
    mode: o.mode,
    couponId: o.couponId,
    connections: o.connections,
    pipelining: o.pipelining,
    followConnections: o.followConnections,
    connectedAtStart,
    followConnectedAtStart,
    burstDisconnects: 0,
    warmFailures,
    burstMs: o.burstMs,
    users: records,
    latencies: { join: [], poll: [], claim: [] },
    answers: { join: {}, poll: {}, claim: {} },
    joinFromPlan: [],
    errors: {},
    errorExamples: [],
    retries: { '429': 0, '503': 0 },
    missingPollAfter: 0,
    pollAfterMs: {},
    peakWaiting: 0,
    durationMs: 0,
    generatorCpuMs: 0,
    deadlineHit: false,
  };
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  const clock = () => performance.now() - t0;
  const timers = new Set<NodeJS.Timeout>();
  let [joined, sentFirst, waiting, admitted, finals, errors] = [0, 0, 0, 0, 0, 0];
  let stopped = false;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const waitingNow = new Set<number>();

  const later = (ms: number, fn: () => void) => {
    if (stopped) return;
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) fn();
    }, ms);
    timers.add(t);
  };
  const finish = (i: number, final: string) => {
    const u = records[i];
    if (u.final !== undefined) return;
    u.final = final;
    u.finalAt = clock();
    // Out of time, at the deadline or before a wait that would pass it.
    if (final === 'NO_ANSWER') r.deadlineHit = true;
    if (waitingNow.delete(i)) waiting--;
    if (++finals === records.length) done();
  };
  const fail = (i: number, what: string, detail: string) => {
    errors++;
    r.errors[what] = (r.errors[what] ?? 0) + 1;
    if (r.errorExamples.length < 20) r.errorExamples.push(`user ${records[i].id}: ${detail}`);
  };
  // Waits out a 429 or 503 (Retry-After) and asks again, unless that would pass the deadline.
  const retry = (i: number, a: Answer, again: () => void) => {
    const status = String(a.status) as '429' | '503';
    r.retries[status]++;
    records[i].retries++;
    const wait = retryAfterMs(a.headers['retry-after']);
    if (clock() + wait > o.deadlineMs) return finish(i, 'NO_ANSWER');
    later(wait, again);
  };

  const send = (i: number, kind: Kind, method: 'GET' | 'POST', path: string, extra: Record<string, string>, then: (a: Answer) => void) => {
    const u = records[i];
    const dispatchedAt = clock();
    // A user's first request rides the burst pool, pipelined: joins are idempotent (joining again
    // keeps the place), and a direct claim asked twice answers ALREADY_ISSUED, which the checks
    // would show. Without blocking: false undici would not pipeline behind a POST.
    const first = u.firstDispatchedAt === undefined;
    if (first) u.firstDispatchedAt = dispatchedAt;
    let sentAt: number | undefined;
    let status = 0;
    let headers: Answer['headers'] = {};
    const chunks: Buffer[] = [];
    const settle = (a: Answer) => {
      if (stopped) return;
      if (a.sentAt !== undefined && !a.error) r.latencies[kind].push(a.answeredAt - a.sentAt);
      if (kind === 'join' && u.joins === 1 && !a.error) r.joinFromPlan.push(a.answeredAt - u.plannedAt);
      if (u.firstAnsweredAt === undefined) u.firstAnsweredAt = a.answeredAt;
      const label = a.error ?? `${a.status}${typeof a.body?.code === 'string' ? ` ${a.body.code}` : typeof a.body?.status === 'string' ? ` ${a.body.status}` : ''}`;
      r.answers[kind][label] = (r.answers[kind][label] ?? 0) + 1;
      then(a);
    };
    (first ? burstClients[i % burstClients.length] : followPool).dispatch(
      {
        method,
        path,
        headers: { authorization: `Bearer ${users[i].token}`, ...extra },
        headersTimeout: o.requestTimeoutMs,
        bodyTimeout: o.requestTimeoutMs,
        ...(first && o.pipelining > 1 ? { idempotent: true, blocking: false } : {}),
      },
      {
        onRequestStart: () => {
          sentAt = clock();
          if (u.firstSentAt === undefined) {
            u.firstSentAt = sentAt;
            sentFirst++;
          }
        },
        onResponseStart: (_c, statusCode, h) => {
          status = statusCode;
          headers = h;
        },
        onResponseData: (_c, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: any;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = { unparsed: text.slice(0, 200) };
          }
          settle({ status, headers, body, sentAt, answeredAt: clock() });
        },
        onResponseError: (_c, err) => settle({ status: 0, headers: {}, body: undefined, sentAt, answeredAt: clock(), error: errorName(err) }),
      },
    );
  };

  const path = (what: 'queue' | 'issues') => `/api/coupons/${o.couponId}/${what}`;

  // A problem answer none of the flows expects: counted as an error, and the user's story ends there.
  const unexpected = (i: number, kind: Kind, a: Answer) => {
    const what = a.error ? `${kind} ${a.error}` : `${kind} ${a.status}${a.body?.code ? ` ${a.body.code}` : ''}`;
    fail(i, what, `${kind} answered ${a.error ?? `${a.status} ${JSON.stringify(a.body)}`}`);
    finish(i, `ERROR:${what}`);
  };

  const claim = (i: number, pass: string | undefined) => {
    records[i].claims++;
    send(i, 'claim', 'POST', path('issues'), pass === undefined ? {} : { 'x-queue-pass': pass }, (a) => {
      const code = a.body?.code;
      if (a.status === 202) {
        records[i].acceptedAt = a.answeredAt;
        return finish(i, '202');
      }
      if (a.status === 409 && FINAL_REFUSALS.has(code)) return finish(i, code);
      if (a.status === 429 || (a.status === 503 && a.headers['retry-after'] !== undefined)) return retry(i, a, () => claim(i, pass));
      // 504 ISSUE_OUTCOME_UNKNOWN: an error, and asking again tells the outcome (ALREADY_ISSUED if it was issued).
      if (a.status === 504 && code === 'ISSUE_OUTCOME_UNKNOWN') {
        fail(i, 'claim 504 ISSUE_OUTCOME_UNKNOWN', `claim answered 504 ${JSON.stringify(a.body)}`);
        if (clock() + 1000 > o.deadlineMs) return finish(i, 'NO_ANSWER');
        return later(1000, () => claim(i, pass));
      }
      unexpected(i, 'claim', a);
    });
  };

  const ticket = (i: number, kind: 'join' | 'poll', a: Answer) => {
    const u = records[i];
    const code = a.body?.code;
    if (a.status === 200 && a.body?.status === 'WAITING') {
      if (u.position === undefined) {
        u.position = typeof a.body.position === 'number' ? a.body.position : null;
        u.preQueue = a.body.phase === 'PRE_QUEUE';
      }
      if (!waitingNow.has(i)) {
        waitingNow.add(i);
        r.peakWaiting = Math.max(r.peakWaiting, ++waiting);
      }
      let after = a.body.pollAfterMs;
      if (typeof after !== 'number' || !(after >= 0)) {
        r.missingPollAfter++;
        after = 1000;
      }
      r.pollAfterMs[String(after)] = (r.pollAfterMs[String(after)] ?? 0) + 1;
      if (clock() + after > o.deadlineMs) return finish(i, 'NO_ANSWER');
      return later(after, () => poll(i));
    }
    if (a.status === 200 && a.body?.status === 'ADMITTED') {
      if (waitingNow.delete(i)) waiting--;
      if (u.admittedAt === undefined) {
        u.admittedAt = a.answeredAt;
        u.admittedOnJoin = kind === 'join';
        admitted++;
      }
      return claim(i, String(a.body.pass));
    }
    if (a.status === 200 && a.body?.status === 'EXPIRED') {
      // Admitted but did not claim in time: joining again goes to the back.
      if (u.rejoins >= o.maxRejoins) return finish(i, 'EXPIRED');
      u.rejoins++;
      return join(i);
    }
    if ((a.status === 409 || a.status === 404) && FINAL_REFUSALS.has(code)) return finish(i, code);
    if (a.status === 429 || (a.status === 503 && a.headers['retry-after'] !== undefined)) return retry(i, a, () => (kind === 'join' ? join(i) : poll(i)));
    unexpected(i, kind, a);
  };

  const join = (i: number) => {
    if (records[i].joins++ === 0) joined++;
    send(i, 'join', 'POST', path('queue'), {}, (a) => ticket(i, 'join', a));
  };
  const poll = (i: number) => {
    records[i].polls++;
    send(i, 'poll', 'GET', path('queue'), {}, (a) => ticket(i, 'poll', a));
  };
  const start = (i: number) => {
    if (o.mode === 'queued') return join(i);
    joined++;
    claim(i, undefined);
  };

  // The burst: every user whose planned instant has come is started at each turn of the timer.
  let next = 0;
  const launch = () => {
    const now = clock();
    while (next < records.length && planned[next] <= now) start(next++);
    if (next < records.length) later(Math.max(0, planned[next] - clock()), launch);
  };
  launch();
  const deadline = setTimeout(() => {
    records.forEach((u, i) => u.final === undefined && finish(i, 'NO_ANSWER'));
  }, o.deadlineMs);
  const ticker = setInterval(() => o.onTick?.({ elapsedMs: clock(), joined, sent: sentFirst, waiting, admitted, final: finals, errors }), 1000);
  if (records.length === 0) done();
  await finished;
  stopped = true;
  clearTimeout(deadline);
  clearInterval(ticker);
  for (const t of timers) clearTimeout(t);
  r.durationMs = clock();
  const cpu = process.cpuUsage(cpuBefore);
  r.generatorCpuMs = Math.round((cpu.user + cpu.system) / 1000);
  o.onTick?.({ elapsedMs: r.durationMs, joined, sent: sentFirst, waiting, admitted, final: finals, errors });
  // Anything still in flight (only when time ran out) is abandoned with the pools.
  r.burstDisconnects = disconnects;
  await Promise.all([...burstClients, followPool].map((d) => (r.deadlineHit ? d.destroy() : d.close())));
  return r;
}

/** pollAfterMs values the server set, counted by whole second. */
function bucketed(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [ms, n] of Object.entries(values)) {
    const key = `${Math.floor(Number(ms) / 1000)}s`;
    out[key] = (out[key] ?? 0) + n;
  }
  return out;
}

/** Rounds to whole ms for the report. */
const ms = (x: number | undefined) => (x === undefined ? undefined : Math.round(x));

/**
 * The figures of one burst: what was sent when, latencies per kind, answers, errors, every user's
 * final answer, and how far the winners are from arrival order (and, queued, from queue order).
 */
export function summarizeBurst(r: BurstResult, sequenceOf?: (userId: number) => number | undefined) {
  const u = r.users;
  if (sequenceOf) for (const x of u) x.sequence = sequenceOf(x.id);
  const won = u.map((x) => x.final === '202');
  // Arrival: when the user's first request was really written (users that never sent one last).
  const arrivals = u.map((x) => x.firstSentAt ?? Number.POSITIVE_INFINITY);
  const winners = u.filter((x) => x.final === '202');
  const summary: Record<string, any> = {
    mode: r.mode,
    couponId: r.couponId,
    users: u.length,
    connections: r.connections,
    pipelining: r.pipelining,
    followConnections: r.followConnections,
    connectedAtStart: r.connectedAtStart,
    followConnectedAtStart: r.followConnectedAtStart,
    burstDisconnects: r.burstDisconnects,
    warmFailures: r.warmFailures,
    durationMs: ms(r.durationMs),
    generatorCpuMs: r.generatorCpuMs,
    deadlineHit: r.deadlineHit,
    // What the generator really did: planned instants against dispatch (its event loop) and the write (its pool).
    sent: sendSpread(
      u.map((x) => x.plannedAt),
      u.map((x) => x.firstSentAt),
    ),
    dispatched: sendSpread(
      u.map((x) => x.plannedAt),
      u.map((x) => x.firstDispatchedAt),
    ).lateness,
    latency: {
      join: latencySummary(r.latencies.join),
      joinFromPlan: latencySummary(r.joinFromPlan),
      poll: latencySummary(r.latencies.poll),
      claim: latencySummary(r.latencies.claim),
    },
    requests: { join: r.latencies.join.length, poll: r.latencies.poll.length, claim: r.latencies.claim.length },
    answers: r.answers,
    errors: r.errors,
    errorCount: Object.values(r.errors).reduce((a, b) => a + b, 0),
    errorExamples: r.errorExamples,
    retries: r.retries,
    finals: tally(u.map((x) => x.final ?? 'NO_ANSWER')),
    accepted: winners.length,
    unanswered: u.filter((x) => x.final === undefined || x.final === 'NO_ANSWER').length,
    // First come, first served, as the client saw arrival (the instant of its first write).
    order: {
      ...winnersVersusArrivals(arrivals, won),
      // Among winners: arrival order against the order of their 202s (1: the same order).
      arrivalVsAcceptance: spearman(
        winners.map((x) => x.firstSentAt ?? Number.POSITIVE_INFINITY),
        winners.map((x) => x.acceptedAt!),
      ),
    },
  };
  if (r.mode === 'queued') {
    // The line's order: the room's own sequence (read from Redis after the run) when given; else the
    // first position each user was told, which counts from those admitted by then (coarse).
    const lineKey = (x: UserRecord) => x.sequence ?? (x.admittedOnJoin ? 0 : typeof x.position === 'number' ? x.position : Number.POSITIVE_INFINITY);
    const postStart = u.filter((x) => !x.preQueue);
    const inLine = postStart.filter((x) => Number.isFinite(lineKey(x)) && x.firstSentAt !== undefined);
    const admittedUsers = u.filter((x) => x.admittedAt !== undefined);
    summary.queue = {
      lineOrderFrom: u.some((x) => x.sequence !== undefined) ? 'the room in Redis' : 'first positions told',
      inLine: inLine.length,
      preQueue: u.filter((x) => x.preQueue).length,
      admitted: admittedUsers.length,
      admittedOnJoin: u.filter((x) => x.admittedOnJoin).length,
      peakWaiting: r.peakWaiting,
      pollsPerUser: { mean: Math.round((r.latencies.poll.length / Math.max(1, u.length)) * 10) / 10, max: Math.max(0, ...u.map((x) => x.polls)) },
      rejoinsAfterExpiry: u.reduce((a, x) => a + x.rejoins, 0),
      pollAfterMs: bucketed(r.pollAfterMs),
      missingPollAfter: r.missingPollAfter,
      // Does the line keep the order the joins were written in? (1: the same order.)
      joinVsLine: spearman(
        inLine.map((x) => x.firstSentAt!),
        inLine.map(lineKey),
      ),
      // The same among the joins written first on their connection: a backlogged server reads a
      // connection's pipelined requests together, so the others' order is partly the generator's.
      joinVsLineFirstOnConnection: spearman(
        inLine.filter((x) => x.slot === 0).map((x) => x.firstSentAt!),
        inLine.filter((x) => x.slot === 0).map(lineKey),
      ),
      // Post-start joiners: were the admitted the first in line, and did the winners hold those places?
      admittedVsLine: winnersVersusArrivals(
        postStart.map(lineKey),
        postStart.map((x) => x.admittedAt !== undefined),
      ),
      winnersVsLine: winnersVersusArrivals(
        postStart.map(lineKey),
        postStart.map((x) => x.final === '202'),
      ),
      // Among the admitted: place in line against the instant they saw ADMITTED (their polls make it coarse).
      lineVsAdmission: spearman(
        admittedUsers.filter((x) => Number.isFinite(lineKey(x))).map(lineKey),
        admittedUsers.filter((x) => Number.isFinite(lineKey(x))).map((x) => x.admittedAt!),
      ),
    };
  }
  return summary;
}
