import Redis from 'ioredis';
import type { ConfigReader } from './config-reader';

export interface RedisSettings {
  masterName: string;
  sentinels: Array<{ host: string; port: number }>;
  keyPrefix: string;
}

export function readRedisSettings(r: ConfigReader): RedisSettings {
  return {
    masterName: r.string('redis.masterName'),
    sentinels: r.list('redis.sentinels', (v) => {
      const m = typeof v === 'string' ? /^([\w.-]+):(\d+)$/.exec(v) : null;
      return m ? { host: m[1], port: Number(m[2]) } : undefined;
    }),
    keyPrefix: r.string('redis.keyPrefix', 'cr:'),
  };
}

/** A client that always talks to the current master as the Sentinels name it, across failovers. */
export function connectRedis(s: RedisSettings): Redis {
  return new Redis({
    sentinels: s.sentinels,
    name: s.masterName,
    role: 'master',
    enableAutoPipelining: true,
    maxRetriesPerRequest: 2,
    // After a failover the old master turns read-only; reconnect to the newly elected one.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
  });
}
