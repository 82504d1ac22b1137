import net from 'node:net';
import { Kafka, logLevel, type Admin, type ISocketFactory, type KafkaConfig, type Producer, type ProducerRecord, type RecordMetadata } from 'kafkajs';
import type { ConfigReader } from './config-reader';
import { parseHostPort, reach, readAddressMap, type AddressMap } from './address-map';

export interface KafkaSettings {
  brokers: string[];
  /** Copies of each partition the project creates (the cluster's min.insync.replicas is below it). */
  replicationFactor: number;
  /** Prepended to every topic name; tests use their own so runs never see each other's events. */
  topicPrefix: string;
  /** Where to connect for the bootstrap brokers and the listeners brokers advertise. */
  addressMap: AddressMap;
  /** The SCRAM-SHA-512 user the services share (made when the brokers' storage is formatted), and its password (a secret). */
  username: string;
  password: string;
}

/** The environment variable that carries the application user's Kafka password (never in config-repo). */
export const KAFKA_ENVIRONMENT = { KAFKA_PASSWORD: 'kafka.password' };

export function readKafkaSettings(r: ConfigReader): KafkaSettings {
  return {
    brokers: r.list('kafka.brokers', (v) => {
      const broker = parseHostPort(v);
      return broker && `${broker.host}:${broker.port}`;
    }),
    replicationFactor: r.number('kafka.replicationFactor', { min: 1, max: 5 }),
    topicPrefix: r.optionalString('kafka.topicPrefix') ?? '',
    addressMap: readAddressMap(r, 'kafka.addressMap'),
    username: r.string('kafka.username'),
    password: r.string('kafka.password'),
  };
}

/**
 * kafkajs 2.2.4 (the latest release): with no request pending, RequestQueue re-arms its pending
 * check with a negative delay, for ever, on every broker connection (tulios/kafkajs#1556; the fix,
 * #1667, is not released). That is a 1 ms timer loop per connection in every process, idle or not.
 * A check is only needed while something is pending: a request queued later schedules its own.
 * Applied when the platform makes its first Kafka client, not on import: importing the platform
 * changes nothing in a process that never talks to Kafka (the gateway). The patch is on the
 * prototype, so it covers queues made before it too.
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

/** kafkajs' own socket factory (plain TCP, keep-alive after 60 s), connecting where the map says. */
function mappedSockets(map: AddressMap): ISocketFactory {
  return ({ host, port, onConnect }) => {
    const socket = net.connect(reach(map, host, port), onConnect);
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
}

function newKafka(s: KafkaSettings, config: Omit<KafkaConfig, 'brokers'>): Kafka {
  stopIdlePendingChecks();
  return new Kafka({
    ...config,
    brokers: s.brokers,
    // SASL_PLAINTEXT: the brokers listen on loopback (or a private network in compose) without TLS.
    sasl: { mechanism: 'scram-sha-512', username: s.username, password: s.password },
    ...(s.addressMap.size > 0 ? { socketFactory: mappedSockets(s.addressMap) } : {}),
  });
}

export function kafkaClient(s: KafkaSettings, clientId: string): Kafka {
  return newKafka(s, { clientId, logLevel: logLevel.WARN, retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 } });
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
}

/**
 * Creates missing topics (existing ones are left alone; the broker never auto-creates them) and
 * returns once every broker knows every partition's leader. On a cluster, a new topic's metadata
 * reaches each broker some milliseconds apart; a consumer starting in between fails with "This
 * server does not host this topic-partition" (kafkajs' own `waitForLeaders` asks only one broker).
 */
export async function ensureTopics(s: KafkaSettings, clientId: string, topics: TopicSpec[], timeoutMs = 30_000): Promise<void> {
  const admin: Admin = kafkaClient(s, clientId).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) await admin.createTopics({ topics: missing.map((t) => ({ ...t, replicationFactor: s.replicationFactor })), waitForLeaders: false });
  } finally {
    await admin.disconnect();
  }
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    s.brokers.map(async (broker) => {
      // A client seeded with one broker asks that broker for metadata.
      const one = newKafka({ ...s, brokers: [broker] }, { clientId, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
      await one.connect();
      try {
        for (;;) {
          const known = await one.fetchTopicMetadata({ topics: topics.map((t) => t.topic) }).catch(() => undefined);
          const ready =
            known &&
            topics.every((t) => {
              const meta = known.topics.find((m) => m.name === t.topic);
              return meta && meta.partitions.length >= t.numPartitions && meta.partitions.every((p) => p.leader >= 0);
            });
          if (ready) return;
          if (Date.now() > deadline) throw new Error(`broker ${broker} does not know the leaders of ${topics.map((t) => t.topic).join(', ')} after ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await one.disconnect();
      }
    }),
  );
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

  /** The log end (high watermark) of each partition of `topic`. */
  async logEnds(topic: string): Promise<Map<number, number>> {
    await this.connect();
    return new Map((await this.admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  }

  /** Whether `groupId` has committed every partition of `topic` at least up to `ends`. */
  async committedUpTo(groupId: string, topic: string, ends: Map<number, number>): Promise<boolean> {
    await this.connect();
    const [committed] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    const at = new Map(committed.partitions.map((p) => [p.partition, Number(p.offset)]));
    // Nothing committed (-1) is caught up only with an empty partition.
    return [...ends].every(([partition, end]) => end === 0 || (at.get(partition) ?? -1) >= end);
  }

  async close(): Promise<void> {
    await this.admin.disconnect().catch(() => {});
  }
}

/**
 * An idempotent producer that is replaced by a fresh one after any failed send. kafkajs rolls a
 * failed request's sequence numbers back even when the broker did write it (the connection died
 * after the write, a leader was killed): the next batch then reuses those numbers, the broker
 * takes it for a duplicate and answers success without writing it. npm run faults lost a 202's
 * record that way after a broker kill. A new producer has a new producer id, so its numbers
 * collide with nothing. A send still in flight on the replaced producer fails (its caller retries).
 */
export class RenewingProducer {
  private producer?: Producer;
  private renew = true;

  constructor(private readonly newProducer: () => Producer) {}

  private async current(): Promise<Producer> {
    if (this.renew || !this.producer) {
      const fresh = this.newProducer();
      await fresh.connect();
      const old = this.producer;
      this.producer = fresh;
      this.renew = false;
      void old?.disconnect().catch(() => {});
    }
    return this.producer;
  }

  async connect(): Promise<void> {
    await this.current();
  }

  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    const producer = await this.current();
    try {
      return await producer.send(record);
    } catch (err) {
      this.renew = true;
      throw err;
    }
  }

  async disconnect(): Promise<void> {
    await this.producer?.disconnect();
  }
}
