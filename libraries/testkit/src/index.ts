import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import Redis from 'ioredis';
import type { SASLOptions } from 'kafkajs';
import { REPO_ROOT, createTokenKey, deepMerge, mintInternalToken, signAccessToken, type RedisSettings, type Role } from '@coupon-rush/platform';

export { mintInternalToken } from '@coupon-rush/platform';

/** Unique per mocha process: names of databases, topics and key prefixes derive from it. */
export const RUN_ID = `${Date.now().toString(36)}${crypto.randomBytes(2).toString('hex')}`;
const SERVICE_SUFFIX = `-test-${RUN_ID}`;

/** Config overrides that keep a test run away from `npm start`'s data and from other runs. */
export function isolatedOverrides(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return deepMerge(
    {
      mysql: { database: `coupon_rush_test_${RUN_ID}` },
      kafka: { topicPrefix: `test-${RUN_ID}.` },
      redis: { keyPrefix: `test:${RUN_ID}:` },
      consul: { serviceSuffix: SERVICE_SUFFIX },
    },
    extra,
  );
}

/** The platform's Redis (npm start's master set and Sentinels) as the services reach it, under `keyPrefix`, with the application user. */
export function testRedisSettings(keyPrefix: string, extra: Partial<RedisSettings> = {}): RedisSettings {
  return {
    masterName: 'coupon-master',
    sentinels: [{ host: '127.0.0.1', port: 26379 }],
    keyPrefix,
    durableReplicas: 1,
    replicaAckTimeoutMs: 500,
    addressMap: new Map(),
    protocol: 3,
    username: 'app',
    password: process.env.REDIS_PASSWORD!,
    ...extra,
  };
}

/** kafkajs' SASL options that log in as the services' user (SCRAM-SHA-512, infra/components/kafka.sh). */
export function appKafkaSasl(): SASLOptions {
  return { mechanism: 'scram-sha-512', username: 'app', password: process.env.KAFKA_PASSWORD! };
}

/** ioredis options that log in as the services' user on the data nodes and the Sentinels. */
export function appRedisCredentials() {
  const password = process.env.REDIS_PASSWORD;
  return { username: 'app', password, sentinelUsername: 'app', sentinelPassword: password };
}

/**
 * One Redis node or Sentinel as the admin user, for what only an operator may do (SENTINEL
 * FAILOVER, ROLE): the application user is refused those. Fails at once instead of retrying.
 */
export function adminRedis(port: number, host = '127.0.0.1'): Redis {
  return new Redis({ port, host, username: 'admin', password: process.env.REDIS_ADMIN_PASSWORD, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
}

/** Deletes the keys that match `pattern`, by SCAN (KEYS is an admin command the application user may not send). */
export async function deleteRedisKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export function tokenFor(userId: number, role: Role = 'USER', ttlSeconds = 600): string {
  return signAccessToken(createTokenKey(process.env.JWT_SECRET!), userId, role, ttlSeconds, 'coupon-rush');
}

/** The Consul name of a service of this run (what `isolatedOverrides` registers it as). */
export const runServiceName = (service: string) => service + SERVICE_SUFFIX;

/**
 * Headers of a call straight to a service of this run as the gateway makes it for that user: an
 * internal token addressed to that service (services believe nothing else, X-User-* least of all).
 */
export function asUser(service: string, userId: number, role: Role = 'USER', ttlSeconds = 3600): Record<string, string> {
  return { authorization: `Bearer ${mintInternalToken(runServiceName(service), { userId, role }, { ttlSeconds })}` };
}

/** Headers of a call from service `caller` to service `callee` of this run, with the caller's identity. */
export function asService(caller: string, callee: string): Record<string, string> {
  return { authorization: `Bearer ${mintInternalToken(runServiceName(callee), { service: caller })}` };
}

export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 10_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface HttpAnswer {
  status: number;
  body: any;
  headers: Headers;
}

export async function http(method: string, url: string, opts: { body?: unknown; raw?: string; headers?: Record<string, string>; token?: string } = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] ??= 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return answerOf(await fetch(url, { method, headers, body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)) }));
}

/** A response read whole: its body parsed as JSON, or its text when it is not JSON (CSV, HTML), or undefined when empty. */
export async function answerOf(res: Response): Promise<HttpAnswer> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body, headers: res.headers };
}

/** One metric of a service's /metrics page, summed over its series (e.g. the lag, one series per partition). */
export async function metricTotal(serviceUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** The pid of the process listening on a loopback port (to fault-inject a real component). */
export function listenerPid(port: number): number {
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const m = /pid=(\d+)/.exec(out);
  if (!m) throw new Error(`nothing listens on ${port}`);
  return Number(m[1]);
}

/** Fires `count` calls with at most `concurrency` in flight; returns results in call order. */
export async function inParallel<T>(count: number, concurrency: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await call(i);
      }
    }),
  );
  return results;
}

export function tally(values: Array<string | number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/**
 * A service in its own process, the way `npm start` runs it (telemetry preloaded), on an
 * ephemeral port with this run's isolated settings; found through Consul like any instance.
 * The config server is unreachable on purpose: the working-tree config-repo is the fallback.
 */
export function spawnService(
  dir: string,
  opts: { overrides?: Record<string, unknown>; env?: Record<string, string>; telemetry?: boolean; logLines?: string[]; nodeArgs?: string[] } = {},
): ChildProcess {
  const preload = opts.telemetry ? ['--require', path.join(REPO_ROOT, 'libraries/platform/dist/src/telemetry/register.js')] : [];
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...preload, path.join(REPO_ROOT, dir, 'dist/src/main.js')], {
    env: { ...process.env, PORT: '0', CONFIG_SERVER_URL: 'http://127.0.0.1:9', APP_CONFIG_JSON: JSON.stringify(isolatedOverrides(opts.overrides)), ...opts.env },
    stdio: opts.logLines ? ['ignore', 'pipe', 'pipe'] : 'ignore',
  });
  if (opts.logLines) {
    // Kept line by line, so a test can read what the service logged.
    const lines = opts.logLines;
    let rest = '';
    const collect = (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts.filter(Boolean));
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
  }
  return child;
}

/**
 * Consul's HTTP API as the tests' operator: reads with the catalogue-read token, writes (a hand-made
 * registration, a deregistration) with the management token. Without a token Consul refuses writes
 * and answers reads with empty lists.
 */
export function consulApi(path: string, init: { method?: string; body?: string } = {}): Promise<Response> {
  const token = (init.method ?? 'GET') === 'GET' ? process.env.CONSUL_READ_TOKEN : process.env.CONSUL_MANAGEMENT_TOKEN;
  return fetch(`http://127.0.0.1:8500${path}`, { ...init, headers: { 'x-consul-token': token! } });
}

/** Passing instances of a service of this run, as Consul reports them. */
export async function passingInstances(service: string): Promise<Array<{ id: string; port: number; metricsPort: number }>> {
  const res = await consulApi(`/v1/health/service/${runServiceName(service)}?passing=true`);
  const body = (await res.json()) as Array<{ Service: { ID: string; Port: number; Meta?: Record<string, string> | null } }>;
  // metricsPort: where its /metrics is (its management port, when it has one).
  return body.map((e) => ({ id: e.Service.ID, port: e.Service.Port, metricsPort: Number(e.Service.Meta?.metrics_port ?? e.Service.Port) }));
}

/**
 * What scripts/supervise.js says of its service (its state file: `key=value` lines — state,
 * supervisor_pid, child_pid, child_started_at, restarts, port); empty while there is none.
 */
export function supervisorState(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}
