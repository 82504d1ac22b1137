import Redis, { type RedisOptions } from 'ioredis';
import type { ConfigReader } from './config-reader';
import { parseHostPort, reach, readAddressMap, type AddressMap, type HostPort } from './address-map';

export interface RedisSettings {
  masterName: string;
  sentinels: Array<{ host: string; port: number }>;
  /** Where to connect for the addresses Sentinels name (masters, replicas, other Sentinels). */
  addressMap: AddressMap;
  keyPrefix: string;
  /**
   * Replicas that must hold a claim, a revocation or a confirmation before it counts (Redis WAIT).
   * Sentinel promotes the most up-to-date replica, so with one replica an acknowledged claim
   * survives the master's loss. 0 turns the wait off (and with it the failover guarantee).
   */
  durableReplicas: number;
  /** How long a write waits for those replicas before it is treated as not durable. */
  replicaAckTimeoutMs: number;
  /** RESP version spoken to the servers (ioredis 6 defaults to 3). */
  protocol: 2 | 3;
  /** The ACL user the services share on the data nodes and the Sentinels, and its password (a secret). */
  username: string;
  password: string;
}

/** The environment variable that carries the application user's Redis password (never in config-repo). */
export const REDIS_ENVIRONMENT = { REDIS_PASSWORD: 'redis.password' };

export function readRedisSettings(r: ConfigReader): RedisSettings {
  return {
    masterName: r.string('redis.masterName'),
    sentinels: r.list('redis.sentinels', parseHostPort),
    addressMap: readAddressMap(r, 'redis.addressMap'),
    keyPrefix: r.string('redis.keyPrefix'),
    durableReplicas: r.number('redis.durableReplicas', { min: 0, max: 5 }),
    replicaAckTimeoutMs: r.number('redis.replicaAckTimeoutMs', { min: 10, max: 10_000 }),
    protocol: r.number('redis.protocol', { min: 2, max: 3 }) === 2 ? 2 : 3,
    username: r.string('redis.username'),
    password: r.string('redis.password'),
  };
}

/**
 * A client that always talks to the current master as the Sentinels name it, across failovers.
 * `options` override the defaults, e.g. a limiter's client that must never queue or wait.
 */
export function connectRedis(s: RedisSettings, options: RedisOptions = {}): Redis {
  return new Redis({
    sentinels: s.sentinels.map((a) => reach(s.addressMap, a.host, a.port)),
    name: s.masterName,
    ...credentials(s),
    ...(s.addressMap.size > 0 ? { natMap: Object.fromEntries(s.addressMap) } : {}),
    role: 'master',
    protocol: s.protocol,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 2,
    // Sentinels announce a new master (+switch-master) before the old one is demoted: reconnect
    // then, rather than at the old master's first READONLY answer seconds later.
    failoverDetector: true,
    // After a failover the old master turns read-only; reconnect to the newly elected one.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    ...options,
  });
}

/** The same ACL user on the data nodes and on the Sentinels (which grant it only discovery). */
function credentials(s: RedisSettings) {
  return { username: s.username, password: s.password, sentinelUsername: s.username, sentinelPassword: s.password };
}

/**
 * A connection to one node or one Sentinel, for a single question: it never retries or waits. No
 * ready check: it runs INFO, which the Sentinels do not grant the application user.
 */
function probeConnection(s: RedisSettings, to: HostPort): Redis {
  const node = new Redis({
    host: to.host,
    port: to.port,
    username: s.username,
    password: s.password,
    enableReadyCheck: false,
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  node.on('error', () => {});
  return node;
}

/**
 * Options for a client on a request's path that must not wait for Redis: a command while it is
 * down fails at once (no offline queue), one it does not answer fails after `commandTimeoutMs`
 * (a frozen server keeps the socket open), and none is retried. Commands of one event-loop turn
 * still go out in one write (auto-pipelining): a burst's limiter calls were one write syscall
 * each, the gateway's largest cost under a crowd. ioredis 6 keeps both promises with it: checked
 * against a closed port and a proxy that stops forwarding, for plain commands and scripts.
 */
export function failFastRedisOptions(commandTimeoutMs: number): RedisOptions {
  return { enableOfflineQueue: false, commandTimeout: commandTimeoutMs, maxRetriesPerRequest: 0, enableAutoPipelining: true };
}

/**
 * Waits, bounded, for a fail-fast client's first connection (without an offline queue a command
 * sent before it fails): until it is ready, fails to connect, or `withinMs` passed. Never rejects:
 * a service starts with Redis down and its client connects when Redis is back.
 */
export async function firstConnection(redis: Redis, withinMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  redis.once('ready', settle);
  redis.once('error', settle);
  const timer = setTimeout(settle, withinMs);
  await settled;
  clearTimeout(timer);
  redis.off('ready', settle);
  redis.off('error', settle);
}

/**
 * One Lua script: loaded once (SCRIPT LOAD), called by its SHA (EVALSHA), loaded again when the
 * server answers NOSCRIPT (a restarted or failed-over Redis has an empty script cache).
 */
export class RedisScript {
  private sha?: string;
  private loading?: Promise<string>;

  constructor(
    private readonly redis: Redis,
    private readonly source: string,
  ) {}

  private load(): Promise<string> {
    this.loading ??= (this.redis.script('LOAD', this.source) as Promise<string>).then(
      (sha) => (this.sha = sha),
      (err: unknown) => {
        // A failed load is not kept: the next call loads again.
        this.loading = undefined;
        throw err;
      },
    );
    return this.loading;
  }

  /** Once loaded, a call is one EVALSHA and no other promise (it runs on request paths). */
  run(keys: string[], args: Array<string | number>): Promise<unknown> {
    const call = (sha: string) => this.redis.evalsha(sha, keys.length, ...keys, ...args);
    const first = this.sha ? call(this.sha) : this.load().then(call);
    return first.catch((err: unknown) => {
      if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
      this.sha = this.loading = undefined;
      return this.load().then(call);
    });
  }
}

export interface ReplicationFence {
  /** The master the Sentinels name, as announced. */
  master: HostPort;
  /** Its replication timeline (master_replid), read from it directly. */
  timeline: string;
  /**
   * True when no other node can still acknowledge a write on an older timeline: every replica the
   * Sentinels list follows this master, and any node still calling itself master has no replica.
   */
  fenced: boolean;
  /** What keeps it unfenced, for the log. */
  why?: string;
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*?)\\r?$`, 'm').exec(info)?.[1];
}

/** INFO replication of one node, or undefined when it does not answer within a second. */
async function replicationInfo(s: RedisSettings, host: string, port: number): Promise<string | undefined> {
  const to = reach(s.addressMap, host, port);
  const node = probeConnection(s, to);
  try {
    await node.connect();
    return await node.info('replication');
  } catch {
    return undefined;
  } finally {
    node.disconnect();
  }
}

/**
 * Asks the Sentinels, then every node they list, whether a new master's timeline is fenced: after
 * a failover the old master goes on acknowledging writes (its other replica confirms their WAIT)
 * until Sentinel moves that replica, and those writes never reach the new master. An unreachable
 * node acknowledges nothing, so it does not keep the fence open.
 */
export async function probeReplicationFence(s: RedisSettings): Promise<ReplicationFence | undefined> {
  for (const address of s.sentinels) {
    const to = reach(s.addressMap, address.host, address.port);
    const sentinel = probeConnection(s, to);
    let named: [string, string] | null;
    let replicas: string[][];
    try {
      await sentinel.connect();
      named = (await sentinel.call('SENTINEL', 'get-master-addr-by-name', s.masterName)) as [string, string] | null;
      replicas = (await sentinel.call('SENTINEL', 'replicas', s.masterName)) as string[][];
    } catch {
      continue;
    } finally {
      sentinel.disconnect();
    }
    if (!named) continue;
    const master = { host: named[0], port: Number(named[1]) };
    const masterInfo = await replicationInfo(s, master.host, master.port);
    const timeline = masterInfo && infoField(masterInfo, 'master_replid');
    if (!masterInfo || !timeline || infoField(masterInfo, 'role') !== 'master') return undefined;
    for (const flat of replicas) {
      const fields = new Map<string, string>();
      for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i], flat[i + 1]);
      const host = fields.get('ip') ?? '';
      const port = Number(fields.get('port'));
      if (host === master.host && port === master.port) continue;
      const info = await replicationInfo(s, host, port);
      if (!info) continue;
      const role = infoField(info, 'role');
      if (role === 'master' && Number(infoField(info, 'connected_slaves') ?? 0) > 0) return { master, timeline, fenced: false, why: `${host}:${port} is still a master with replicas` };
      if (role === 'slave' && (infoField(info, 'master_host') !== master.host || Number(infoField(info, 'master_port')) !== master.port))
        return { master, timeline, fenced: false, why: `${host}:${port} still follows ${infoField(info, 'master_host')}:${infoField(info, 'master_port')}` };
    }
    return { master, timeline, fenced: true };
  }
  return undefined;
}

/** The Sentinel events that say a failover of a master has begun, and that it is over. */
const FAILOVER_BEGUN = ['+try-failover', '+selected-slave', '+promoted-slave'];
const FAILOVER_OVER = ['+failover-end', '+switch-master', '-failover-abort-not-elected', '-failover-abort-no-good-slave', '-failover-abort-slave-timeout'];

/**
 * Follows the Sentinels' failover events for one master. During a failover the old master goes on
 * acknowledging writes (its other replica confirms their WAIT) that the promoted replica never
 * gets, so a write made while one is under way, or since one began, may be lost: its caller must
 * not act on it as final. Subscribes to every Sentinel (the leader alone announces the failover).
 */
export class FailoverWatch {
  private begun = 0;
  private underWaySince?: number;
  private readonly sentinels: Redis[];

  constructor(private readonly s: RedisSettings) {
    this.sentinels = s.sentinels.map((address) => {
      const to = reach(s.addressMap, address.host, address.port);
      const sentinel = new Redis({ host: to.host, port: to.port, username: s.username, password: s.password, enableReadyCheck: false, maxRetriesPerRequest: null });
      sentinel.on('error', () => {});
      sentinel.on('message', (channel: string, message: string) => this.heard(channel, message));
      void sentinel.subscribe(...FAILOVER_BEGUN, ...FAILOVER_OVER).catch(() => {});
      return sentinel;
    });
  }

  private heard(channel: string, message: string): void {
    if (!message.split(' ').includes(this.s.masterName)) return;
    if (FAILOVER_BEGUN.includes(channel)) {
      if (this.underWaySince === undefined) this.begun++;
      this.underWaySince = Date.now();
    } else if (FAILOVER_OVER.includes(channel)) {
      this.underWaySince = undefined;
    }
  }

  /** Failovers begun so far, or -1 when one is under way or no Sentinel is heard (nothing can be quiet since). */
  mark(): number {
    // A failover that never announced its end is given up after Sentinel's own failover timeout and more.
    if (this.underWaySince !== undefined && Date.now() - this.underWaySince > 60_000) this.underWaySince = undefined;
    const listening = this.sentinels.some((c) => c.status === 'ready');
    return this.underWaySince === undefined && listening ? this.begun : -1;
  }

  /** No failover was under way at `mark` or has begun since. */
  quietSince(mark: number): boolean {
    return mark >= 0 && this.mark() === mark;
  }

  close(): void {
    for (const sentinel of this.sentinels) sentinel.disconnect();
  }
}
