import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { ConfigReader } from './config-reader';

export interface KafkaSettings {
  brokers: string[];
  /** Prepended to every topic name; tests use their own so runs never see each other's events. */
  topicPrefix: string;
}

export function readKafkaSettings(r: ConfigReader): KafkaSettings {
  return {
    brokers: r.list('kafka.brokers', (v) => (typeof v === 'string' && /^[\w.-]+:\d+$/.test(v) ? v : undefined)),
    topicPrefix: r.optionalString('kafka.topicPrefix') ?? '',
  };
}

/**
 * kafkajs 2.2.4 (the latest release): with no request pending, RequestQueue re-arms its pending
 * check with a negative delay, for ever, on every broker connection (tulios/kafkajs#1556; the fix,
 * #1667, is not released). That is a 1 ms timer loop per connection in every process, idle or not.
 * A check is only needed while something is pending: a request queued later schedules its own.
 */
function stopIdlePendingChecks(): void {
  const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: { pending: unknown[]; scheduleCheckPendingRequests(): void; __idleChecksStopped?: boolean } };
  const proto = RequestQueue.prototype;
  if (proto.__idleChecksStopped) return;
  const schedule = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function (this: typeof proto) {
    if (this.pending.length > 0) schedule.call(this);
  };
  proto.__idleChecksStopped = true;
}
stopIdlePendingChecks();

export function kafkaClient(s: KafkaSettings, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: s.brokers, logLevel: logLevel.WARN, retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 } });
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
}

/** Creates missing topics (existing ones are left alone); the broker never auto-creates them. */
export async function ensureTopics(kafka: Kafka, topics: TopicSpec[]): Promise<void> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) await admin.createTopics({ topics: missing.map((t) => ({ ...t, replicationFactor: 1 })), waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/**
 * One long-lived admin connection for readiness and consumer-lag questions. It does not retry:
 * a probe must answer within the readiness deadline, and the next probe asks again.
 */
export class KafkaProbe {
  private readonly admin: Admin;
  private connecting?: Promise<void>;

  constructor(kafka: Kafka) {
    this.admin = kafka.admin({ retry: { retries: 0 } });
  }

  private connect(): Promise<void> {
    return (this.connecting ??= this.admin.connect().catch((err) => {
      this.connecting = undefined;
      throw err;
    }));
  }

  /** Resolves when a broker answers a metadata request. */
  async ready(): Promise<void> {
    await this.connect();
    await this.admin.describeCluster();
  }

  /** Messages not yet committed by `groupId`, per partition of `topic`. */
  async lag(groupId: string, topic: string): Promise<Array<{ partition: number; lag: number }>> {
    await this.connect();
    const [ends, [committed]] = await Promise.all([this.admin.fetchTopicOffsets(topic), this.admin.fetchOffsets({ groupId, topics: [topic] })]);
    const committedAt = new Map(committed.partitions.map((p) => [p.partition, Number(p.offset)]));
    return ends.map((end) => {
      const done = committedAt.get(end.partition) ?? -1;
      // -1: nothing committed yet, so everything from the earliest retained offset is pending.
      const from = done >= 0 ? done : Number(end.low);
      return { partition: end.partition, lag: Math.max(0, Number(end.high) - from) };
    });
  }

  async close(): Promise<void> {
    await this.admin.disconnect().catch(() => {});
  }
}
