import Redis from 'ioredis';
import type { ConfigReader } from './config-reader';
import { parseHostPort, reach, readAddressMap, type AddressMap } from './address-map';

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
}

export function readRedisSettings(r: ConfigReader): RedisSettings {
  return {
    masterName: r.string('redis.masterName'),
    sentinels: r.list('redis.sentinels', parseHostPort),
    addressMap: readAddressMap(r, 'redis.addressMap'),
    keyPrefix: r.string('redis.keyPrefix'),
    durableReplicas: r.number('redis.durableReplicas', { min: 0, max: 5 }),
    replicaAckTimeoutMs: r.number('redis.replicaAckTimeoutMs', { min: 10, max: 10_000 }),
    protocol: r.number('redis.protocol', { min: 2, max: 3 }) === 2 ? 2 : 3,
  };
}

/** A client that always talks to the current master as the Sentinels name it, across failovers. */
export function connectRedis(s: RedisSettings): Redis {
  return new Redis({
    sentinels: s.sentinels.map((a) => reach(s.addressMap, a.host, a.port)),
    name: s.masterName,
    ...(s.addressMap.size > 0 ? { natMap: Object.fromEntries(s.addressMap) } : {}),
    role: 'master',
    protocol: s.protocol,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 2,
    // After a failover the old master turns read-only; reconnect to the newly elected one.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
  });
}
