import { parseArgs } from 'node:util';

export type Plan = 'rush' | 'steady' | 'queue';

export interface Options {
  plan: Plan;
  /** Users created, one token each; rush: one per thread. */
  users: number;
  quantity: number;
  threads: number;
  rampup: number;
  /** steady: seconds the group runs, ramp-up included. */
  duration: number;
  /** steady: requests per second for the whole group. */
  rate: number;
  /** queue: the waiting room admits this many users a second. */
  admitPerSecond: number;
  /** queue: a user gives up this many seconds after its first request. */
  patience: number;
  prepareOnly: boolean;
  report: boolean;
}

export const GATEWAY = { host: '127.0.0.1', port: 8080 };

export const USAGE = `npm run jmeter [-- --plan rush|steady|queue --users N --quantity N --threads N --rampup S --duration S --rate R --admit-per-second N --patience S --prepare-only --report]
  rush (default): the seeds' plan, 15,000 threads over 20 s, one claim each, 500 coupons
  steady: a held rate (--rate, 200/s) for --duration (30 s), a fresh user per request
  queue: a queued coupon's crowd: join, poll until admitted, claim with the pass (2,000 threads, 200 coupons, 50/s)`;

/**
 * rush is the seeds' plan: 15,000 threads over 20 s, one request each, for a flash event of 500
 * coupons. steady holds a rate that 2 cores sustain with JMeter beside the platform, one fresh user
 * per request and stock for all of them, so every request is a real claim and Kafka event; its
 * latency at a held rate is comparable from run to run. queue is a crowd at a queued coupon
 * (issue 28): each thread joins the waiting room, polls as the server says until admitted, and
 * claims with its pass; every thread lives until its final answer, so the crowd is smaller.
 */
const DEFAULTS: Record<Plan, Omit<Options, 'plan' | 'prepareOnly' | 'report'>> = {
  rush: { users: 15_000, quantity: 500, threads: 15_000, rampup: 20, duration: 0, rate: 0, admitPerSecond: 0, patience: 0 },
  steady: { users: 0, quantity: 0, threads: 50, rampup: 5, duration: 30, rate: 200, admitPerSecond: 0, patience: 0 },
  queue: { users: 2000, quantity: 200, threads: 2000, rampup: 5, duration: 0, rate: 0, admitPerSecond: 50, patience: 120 },
};

/** The options of npm run jmeter, checked (an Error says what is wrong); undefined when --help asks for the usage. */
export function parseOptions(argv: string[]): Options | undefined {
  const numbers = ['users', 'quantity', 'threads', 'rampup', 'duration', 'rate', 'admit-per-second', 'patience'] as const;
  const { values } = parseArgs({
    args: argv,
    options: {
      plan: { type: 'string', default: 'rush' },
      'prepare-only': { type: 'boolean', default: false },
      report: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      users: { type: 'string' },
      quantity: { type: 'string' },
      threads: { type: 'string' },
      rampup: { type: 'string' },
      duration: { type: 'string' },
      rate: { type: 'string' },
      'admit-per-second': { type: 'string' },
      patience: { type: 'string' },
    },
  });
  if (values.help) return undefined;
  const plan = values.plan as Plan;
  if (plan !== 'rush' && plan !== 'steady' && plan !== 'queue') throw new Error(`--plan is rush, steady or queue, not ${plan}`);
  const prepareOnly = values['prepare-only'] === true;
  const report = values.report === true;
  const given: Partial<Record<'users' | 'quantity' | 'threads' | 'rampup' | 'duration' | 'rate' | 'admitPerSecond' | 'patience', number>> = {};
  for (const flag of numbers) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (typeof raw !== 'string' || !Number.isInteger(n) || n <= 0) throw new Error(`--${flag} takes a positive integer`);
    given[flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) as keyof typeof given] = n;
  }
  const o: Options = { plan, prepareOnly, report, ...DEFAULTS[plan], ...given };
  if ((given.admitPerSecond || given.patience) && plan !== 'queue') throw new Error('--admit-per-second and --patience are for --plan queue');
  if (plan === 'rush' || plan === 'queue') {
    if (given.duration || given.rate) throw new Error(`${plan} runs one user per thread: --duration and --rate are for --plan steady`);
    if (given.users && given.threads && given.users !== given.threads) throw new Error(`${plan} has one user per thread: give --threads (or --users) only`);
    o.threads = o.users = given.threads ?? given.users ?? o.threads;
  } else {
    o.users = given.users ?? o.rate * o.duration;
    o.quantity = given.quantity ?? o.users;
    if (o.rampup >= o.duration) throw new Error('--rampup must be shorter than --duration');
  }
  // Everything is bounded: the plans by these limits, the JMeter process by a deadline in main.
  if (o.threads > 50_000) throw new Error('--threads is at most 50,000');
  if (o.users > 200_000) throw new Error('--users is at most 200,000');
  if (o.rampup > 600 || o.duration > 600 || o.patience > 600) throw new Error('--rampup, --duration and --patience are at most 600 s');
  if (o.admitPerSecond > 10_000) throw new Error('--admit-per-second is at most 10,000 (coupon-service refuses more)');
  return o;
}

/** The -J properties of a run: every `${__P(name,...)}` the plans read. */
export function jmeterProperties(o: Options, couponId: number, csv: string): Record<string, string> {
  const props: Record<string, string | number> = { host: GATEWAY.host, port: GATEWAY.port, couponId, csv, threads: o.threads, rampup: o.rampup };
  if (o.plan === 'steady') Object.assign(props, { duration: o.duration, rate: o.rate });
  if (o.plan === 'queue') Object.assign(props, { patience: o.patience });
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, String(v)]));
}

/**
 * JMeter creates every thread of a group when the test starts, each sleeping until its ramp-up
 * slot: 15,000 live threads. Stacks of 256 KiB (the JVM default is 1 MiB) keep their reserved
 * memory under 4 GiB; a fixed 1 GiB heap holds the 15,000 cloned test trees without resizing
 * mid-run; G1 with a 100 ms pause goal as JMeter's own launcher sets it. JMETER_JVM_ARGS replaces them.
 */
export function jvmArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.JMETER_JVM_ARGS) return env.JMETER_JVM_ARGS.trim().split(/\s+/);
  return [
    '-Xss256k',
    '-Xms1g',
    '-Xmx1g',
    '-XX:MaxMetaspaceSize=256m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=100',
    '-XX:G1ReservePercent=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
  ];
}

// scripts/jmeter.sh runs this file as it is (Node 24 strips the types) before it resolves JMeter or
// starts anything: --help prints the usage on stdout, a bad option fails with status 2, and good
// options print nothing. It imports nothing but Node's own modules for that reason.
if (process.argv[1]?.endsWith('options.ts')) {
  try {
    if (!parseOptions(process.argv.slice(2))) console.log(USAGE);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  }
}
