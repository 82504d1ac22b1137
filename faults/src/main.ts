import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@coupon-rush/platform';
import { parseFaultCommand, USAGE } from './command-line';
import { runFaults, violationsOf, type FaultRow } from './index';

const COLUMNS: Array<[string, (r: FaultRow) => string | number]> = [
  ['fault', (r) => r.fault],
  ['users', (r) => r.users],
  ['requests', (r) => r.requests],
  ['202', (r) => r.accepted],
  ['409', (r) => r.refused],
  ['503', (r) => r.unavailable],
  ['504', (r) => r.gatewayTimeouts],
  ['dead', (r) => r.deadConnections],
  ['other open', (r) => r.indeterminate - r.gatewayTimeouts - r.deadConnections],
  ['stated', (r) => r.stated],
  ['unstated', (r) => `${r.unstated} (${r.open} open, ${r.openIssued} issued)`],
  ['lies', (r) => r.lies],
  ['rows', (r) => r.rows],
  ['lost', (r) => r.lost],
  ['invented', (r) => r.invented],
  ['over', (r) => r.overIssued],
  ['dlt 202', (r) => r.deadLettered202],
  ['recovery s', (r) => r.recoverySeconds.toFixed(1)],
  ['restarts', (r) => r.restarts],
  ['fresh', (r) => r.freshCoupon],
];

function table(rows: FaultRow[]): string {
  const cells = [COLUMNS.map(([h]) => h), ...rows.map((r) => COLUMNS.map(([, f]) => String(f(r))))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
  return cells.map((c) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const o = parseFaultCommand(process.argv.slice(2));
  if (!o) {
    console.log(USAGE);
    return;
  }
  const started = new Date();
  const rows = await runFaults({ ...o, log: (l) => console.log(l) });
  console.log(`\n${table(rows)}\n`);
  const dir = path.join(REPO_ROOT, 'faults/results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `faults-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ startedAt: started.toISOString(), options: o, rows }, null, 2));
  console.log(`results: ${path.relative(REPO_ROOT, file)}`);
  const failed = rows.filter((r) => violationsOf(r).length > 0);
  for (const r of failed) console.log(`VIOLATION ${r.fault}: ${violationsOf(r).join('; ')}`);
  process.exitCode = failed.length > 0 ? 1 : 0;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
