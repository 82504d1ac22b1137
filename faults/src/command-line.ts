import { parseArgs } from 'node:util';

/** Every fault of the catalogue by name: the catalogue's entries are typed by it, and a test keeps the two equal. */
export const FAULT_NAMES = [
  'consumer-kill',
  'broker-kill-x5',
  'redis-failover',
  'redis-failover-queued',
  'redis-planned-failover',
  'redis-freeze',
  'mariadb-kill',
  'kafka-freeze',
  'network-delay',
  'network-cut',
  'issue-coupon-kill',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export const USAGE = `npm run faults [-- --quantity 500 --users 2000 --rush-seconds 20 --concurrency 64 --rounds 1 --only a,b --short]
faults: ${FAULT_NAMES.join(', ')}`;

export interface FaultCommand {
  quantity: number;
  users: number;
  rushSeconds: number;
  concurrency: number;
  rounds: number;
  only: string[];
  short: boolean;
}

/** The options of npm run faults, checked (an Error says what is wrong); undefined when --help asks for the usage. */
export function parseFaultCommand(args: string[]): FaultCommand | undefined {
  const { values } = parseArgs({
    args,
    options: {
      quantity: { type: 'string', default: '500' },
      users: { type: 'string', default: '2000' },
      'rush-seconds': { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '64' },
      rounds: { type: 'string', default: '1' },
      only: { type: 'string', default: '' },
      short: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const int = (name: 'quantity' | 'users' | 'rush-seconds' | 'concurrency' | 'rounds', min: number) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}\n${USAGE}`);
    return n;
  };
  const quantity = int('quantity', 1);
  const users = int('users', 1);
  if (users <= quantity) throw new Error('--users must exceed --quantity: the rush must sell out');
  return {
    quantity,
    users,
    rushSeconds: int('rush-seconds', 2),
    concurrency: int('concurrency', 1),
    rounds: int('rounds', 1),
    only: values.only.split(',').filter(Boolean),
    short: values.short,
  };
}

// scripts/faults.sh runs this file as it is (Node 24 strips the types) before it installs, builds
// or starts anything: --help prints the usage on stdout, a bad option fails with status 2, and good
// options print nothing. It imports nothing but Node's own modules for that reason.
if (process.argv[1]?.endsWith('command-line.ts')) {
  try {
    if (!parseFaultCommand(process.argv.slice(2))) console.log(USAGE);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  }
}
