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
