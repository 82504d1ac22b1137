import { parseArgs } from 'node:util';

// scripts/bench.sh runs this file as it is (Node 24 strips the types) before it installs, starts or
// builds anything: --help prints the usage on stdout, a bad option fails with status 2, and good
// options print nothing. It imports nothing but Node's own modules for that reason.

/** Every option that takes a value. */
const VALUE_OPTIONS = [
  'users',
  'quantity',
  'connections',
  'duration',
  'threads',
  'rounds',
  'events',
  'codes',
  'target',
  'workload',
  'warmup',
  'gateway',
  'gateway-management',
  'direct',
  'burst-seconds',
  'pipelining',
  'follow-connections',
  'request-timeout',
  'admit-per-second',
  'burst',
] as const;

export const USAGE = `npm run bench [-- options]
  --target T,...      gateway, console, floor, direct, issue-floor, redeem, checkout (all: the default but console), both (gateway,direct), strategies (alone), queue (alone)
  --workload W,...    claims (every timed request a first claim, accepted), refusals (all SOLD_OUT), duplicates (all ALREADY_ISSUED); default all three
  --users N           20,000        --connections N  64     --duration S  10     --threads N  1
  --rounds N          each workload's targets N times, the order reversed every other round
  --warmup S          untimed seconds of the same work before each phase (2; 0: none)
  --quantity N        strategies and queue: the coupon's quantity
  --codes N --events N   redeem: codes generated (20,000); the consumer phase: events written (50,000)
  --gateway URL --gateway-management URL --direct URL   another gateway or issue-coupon in place of the platform's
  queue: --burst-seconds S --admit-per-second N|auto --pipelining N --follow-connections N --request-timeout S --burst queued,direct`;

/** console: the gateway with one live console page open in Chromium, watching the rushed coupon. */
/** redeem: campaign codes redeemed; checkout: issued coupons used for orders at a shop's checkout. */
/** queue: a flash crowd through a queued coupon's waiting room, then at a direct coupon (bench/src/queue-target.ts). */
export type Target = 'gateway' | 'console' | 'floor' | 'direct' | 'issue-floor' | 'redeem' | 'checkout' | 'strategies' | 'queue';
export type IssueTarget = Exclude<Target, 'redeem' | 'checkout' | 'strategies' | 'queue'>;
/**
 * claims: every timed request a user's first claim, accepted (a new coupon for each pass over the
 * users); refusals: every one SOLD_OUT (a coupon of one, claimed before); duplicates: every one
 * ALREADY_ISSUED (each user claimed the coupon before), what a rush's retries are.
 */
export type Workload = 'claims' | 'refusals' | 'duplicates';
export const WORKLOADS: Workload[] = ['claims', 'refusals', 'duplicates'];
/**
 * What `all` runs; `strategies` (the strategy lab, bench/src/strategies) is a comparison of its own
 * and runs alone, and so does `queue` (a Node generator, its own defaults, about a minute).
 */
export const TARGETS: Target[] = ['gateway', 'floor', 'direct', 'issue-floor', 'redeem', 'checkout'];

export interface Options {
  users: number;
  quantity: number;
  connections: number;
  duration: number;
  threads: number;
  /** Each workload's targets run this many times, the order reversed every other round. */
  rounds: number;
  events: number;
  codes: number;
  targets: Target[];
  workloads: Workload[];
  /** Seconds of untimed load before each timed phase (its rows persisted before the phase starts); 0: none. */
  warmup: number;
  gateway: string;
  /** The gateway's management port: its /metrics (CPU clock) is not on the public one. */
  gatewayManagement: string;
  direct: string;
  /** queue: the users join (or claim) evenly over this many seconds. */
  burstSeconds: number;
  /** queue: first requests written per connection before their answers (0: enough for every user to be on the wire at once). */
  pipelining: number;
  /** queue: connections for polls, claims with a pass and retries. */
  followConnections: number;
  /** queue: a request without an answer after this long is a timeout. */
  requestTimeout: number;
  /** queue: the waiting room admits this many users a second. */
  admitPerSecond: number | 'auto';
  /** queue: queued, direct, or both (queued then direct). */
  queueModes: Array<'queued' | 'direct'>;
}

/** The options of npm run bench, checked (an Error says what is wrong); undefined when --help asks for the usage. */
export function parseBenchCommand(args: string[]): Options | undefined {
  const { values } = parseArgs({ args, options: { ...Object.fromEntries(VALUE_OPTIONS.map((name) => [name, { type: 'string' as const }])), help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) return undefined;
  const argv = Object.entries(values).flatMap(([name, value]) => (name === 'help' ? [] : [`--${name}`, String(value)]));
  const o: Options = {
    users: 20_000,
    quantity: 0,
    connections: 64,
    duration: 10,
    threads: 0,
    rounds: 1,
    events: 50_000,
    codes: 20_000,
    targets: TARGETS,
    workloads: WORKLOADS,
    warmup: 2,
    gateway: 'http://127.0.0.1:8080',
    gatewayManagement: 'http://127.0.0.1:8090',
    direct: 'http://127.0.0.1:8083',
    burstSeconds: 2,
    pipelining: 0,
    followConnections: 1000,
    requestTimeout: 30,
    admitPerSecond: 200,
    queueModes: ['queued', 'direct'],
  };
  const usage = `\n${USAGE}`;
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    const n = Number(value);
    given.add(flag);
    if (flag === '--target') o.targets = value === 'all' ? TARGETS : value === 'both' ? ['gateway', 'direct'] : (String(value).split(',') as Target[]);
    else if (flag === '--workload') o.workloads = String(value).split(',') as Workload[];
    else if (flag === '--warmup' && Number.isInteger(n) && n >= 0 && n <= 60) o.warmup = n;
    // Another gateway or issue-coupon instance (one under a profiler, say) in place of the platform's.
    else if ((flag === '--gateway' || flag === '--direct') && /^https?:\/\/[^/]+$/.test(String(value))) o[flag.slice(2) as 'gateway' | 'direct'] = String(value);
    else if (flag === '--gateway-management' && /^https?:\/\/[^/]+$/.test(String(value))) o.gatewayManagement = String(value);
    else if (flag === '--burst-seconds' && n > 0 && n <= 60) o.burstSeconds = n;
    else if (flag === '--pipelining' && Number.isInteger(n) && n > 0 && n <= 100) o.pipelining = n;
    else if (flag === '--follow-connections' && Number.isInteger(n) && n > 0 && n <= 5000) o.followConnections = n;
    else if (flag === '--request-timeout' && Number.isInteger(n) && n > 0 && n <= 120) o.requestTimeout = n;
    else if (flag === '--admit-per-second' && (value === 'auto' || (Number.isInteger(n) && n > 0 && n <= 10_000))) o.admitPerSecond = value === 'auto' ? 'auto' : n;
    else if (flag === '--burst' && /^(queued|direct)(,(queued|direct))?$/.test(String(value))) o.queueModes = [...new Set(String(value).split(','))] as Options['queueModes'];
    else if (['--users', '--quantity', '--connections', '--duration', '--threads', '--rounds', '--events', '--codes'].includes(flag) && Number.isInteger(n) && n > 0) (o as any)[flag.slice(2)] = n;
    else throw new Error(`unknown or bad option ${flag} ${value ?? ''} ${usage}`);
  }
  if (o.targets.includes('strategies')) {
    if (o.targets.length > 1) throw new Error('--target strategies runs alone');
    // A crowd ten times the stock, small enough that the database-serialized strategies (each
    // claim one durable commit after another on one row) reach the end of stock within the run
    // and race it; one wrk thread per lab instance.
    if (!given.has('--users')) o.users = 2000;
    if (o.quantity === 0) o.quantity = Math.max(1, Math.floor(o.users / 10));
    o.threads ||= 2;
    if (o.threads % 2 !== 0) throw new Error('--threads must be even with --target strategies: threads are split between its two instances');
  }
  if (o.targets.includes('queue')) {
    if (o.targets.length > 1) throw new Error('--target queue runs alone');
    // A crowd ten times the stock. 8,000 connections, each carrying `pipelining` first requests
    // (by default enough for the whole crowd on the wire at once: 3 for 20,000), and 1,000 for what
    // follows. Fewer connections, deeper, also send the burst, but a backlogged server reads a
    // connection's pipelined requests together, which scrambles arrival order (2,000 × 10: line
    // order against join order 0.56; 8,000 × 3: 0.75, and 1 among the first on each connection).
    if (o.quantity === 0) o.quantity = 2000;
    if (!given.has('--connections')) o.connections = 8000;
    // Every user's first request on the wire at once unless told otherwise.
    o.pipelining ||= Math.ceil(o.users / o.connections);
    if (o.connections + o.followConnections > 10_000) throw new Error('--connections and --follow-connections are at most 10,000 together (file descriptors here and in the gateway)');
  }
  o.threads ||= 1;
  if (o.targets.length === 0 || o.targets.some((t) => t !== 'strategies' && t !== 'console' && t !== 'queue' && !TARGETS.includes(t)))
    throw new Error(`--target is a list of ${TARGETS.join(', ')} and console, or both (gateway and direct) or all, or strategies, or queue`);
  if (o.workloads.length === 0 || o.workloads.some((w) => !WORKLOADS.includes(w))) throw new Error(`--workload is a comma-separated list of ${WORKLOADS.join(', ')}`);
  // The claims coupon holds one per user unless told otherwise, so it cannot sell out mid-run.
  if (o.quantity === 0) o.quantity = o.users;
  // Every loop is bounded: the load by --duration, the drain wait below by a fixed deadline.
  if (o.duration > 600) throw new Error('--duration is at most 600 s');
  return o;
}

if (process.argv[1]?.endsWith('command-line.ts')) {
  try {
    if (!parseBenchCommand(process.argv.slice(2))) console.log(USAGE);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  }
}
