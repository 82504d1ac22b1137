import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** What wrk reports through wrk-outcomes.lua's BENCH_RESULT line. */
export interface LoadResult {
  requests: number;
  durationUs: number;
  p50Us: number;
  p95Us: number;
  p99Us: number;
  maxUs: number;
  socketErrors: number;
  outcomes: Record<string, number>;
}

/** The shape of one load: every target of a run gets the same. */
export interface LoadShape {
  connections: number;
  duration: number;
  threads: number;
}

// The wrk scripts ship as .lua sources in bench/src; tsc does not copy them to dist.
const LUA_DIR = path.join(__dirname, '../../src');

/** The columns every load target reports: rate, latency percentiles, outcomes. */
export function loadSummary(load: LoadResult) {
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
export function runWrk(o: LoadShape, label: string, url: string, script: string, env: Record<string, string>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.duration}s`, '--timeout', '5s', '--latency', '-s', path.join(LUA_DIR, script), url], {
      env: { ...process.env, ...env, BENCH_LUA_DIR: LUA_DIR, BENCH_THREADS: String(o.threads) },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const started = Date.now();
    const progress = setInterval(() => process.stdout.write(`\r  ${label}: ${Math.round((Date.now() - started) / 1000)}/${o.duration} s `), 1000);
    child.on('close', (code) => {
      clearInterval(progress);
      process.stdout.write('\n');
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}): ${out}`));
      resolve(JSON.parse(line.slice('BENCH_RESULT '.length)));
    });
  });
}

/** CPU seconds (user + system) a process has used so far. */
export type CpuClock = () => Promise<number>;

/** A child process's CPU clock from /proc (the floor has no /metrics: it is nothing but the proxy). */
export function procCpuClock(pid: number): CpuClock {
  return async () => {
    // Fields after the parenthesized command name; utime and stime are the 12th and 13th, in clock ticks.
    const fields = fs
      .readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
}

/** A server process of the bench's own (a floor, a lab instance). */
export interface BenchServer {
  url: string;
  port: number;
  cpu: CpuClock;
  /** Sends SIGTERM; resolves once the process has exited. */
  stop: () => Promise<void>;
}

/** Starts a script of bench/dist/src that prints `<MARKER> <port>` once it listens. */
export async function startBenchServer(script: string, marker: string, env: Record<string, string>, startTimeoutMs = 10_000): Promise<BenchServer> {
  const child = spawn(process.execPath, [path.join(__dirname, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      const m = new RegExp(`${marker} (\\d+)`).exec(String(d));
      if (m) (clearTimeout(timer), resolve(Number(m[1])));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  }).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return { url: `http://127.0.0.1:${port}`, port, cpu: procCpuClock(child.pid!), stop };
}
