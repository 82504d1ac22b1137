import crypto from 'node:crypto';
import { expect } from 'chai';
import Redis from 'ioredis';
import knex from 'knex';
import { ConfigResourceTypes } from 'kafkajs';
import { ensureTopics, kafkaClient } from '../src';

const BROKERS = ['127.0.0.1:9092', '127.0.0.1:9094', '127.0.0.1:9096'];
// Redis's users (infra/components/redis.sh): the services' own, and the admin's for ROLE.
const APP = { username: 'app', password: process.env.REDIS_PASSWORD, sentinelUsername: 'app', sentinelPassword: process.env.REDIS_PASSWORD };
const ADMIN = { username: 'admin', password: process.env.REDIS_ADMIN_PASSWORD };

// Proof that each component npm test starts is the real thing, not a stand-in.
describe('real components', () => {
  const id = crypto.randomBytes(4).toString('hex');

  it('when the Kafka cluster is asked, then three brokers hold every partition three times and never elect an unclean leader', async () => {
    const settings = { brokers: BROKERS, replicationFactor: 3, topicPrefix: '', addressMap: new Map(), username: 'app', password: process.env.KAFKA_PASSWORD! };
    const kafka = kafkaClient(settings, `component-test-${id}`);
    const topic = `component-replicas-${id}`;
    await ensureTopics(settings, `component-test-${id}`, [{ topic, numPartitions: 3 }]);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.map((b) => b.port).sort()).to.deep.equal([9092, 9094, 9096]);
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(meta.partitions).to.have.length(3);
      for (const p of meta.partitions) expect(p.replicas).to.have.length(3);
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas', 'unclean.leader.election.enable'] }],
      });
      const value = (name: string) => resources[0].configEntries.find((e) => e.configName === name)?.configValue;
      expect(value('min.insync.replicas')).to.equal('2');
      expect(value('unclean.leader.election.enable')).to.equal('false');
      await admin.deleteTopics({ topics: [topic] });
    } finally {
      await admin.disconnect();
    }
  });

  it('when a record is produced to Kafka, then a consumer reads it back', async () => {
    const settings = { brokers: BROKERS, replicationFactor: 3, topicPrefix: '', addressMap: new Map(), username: 'app', password: process.env.KAFKA_PASSWORD! };
    const kafka = kafkaClient(settings, `component-test-${id}`);
    const topic = `component-test-${id}`;
    await ensureTopics(settings, `component-test-${id}`, [{ topic, numPartitions: 1 }]);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: `hello-${id}` }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `component-test-${id}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
    });
    await consumer.disconnect();
    expect(received).to.equal(`hello-${id}`);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  // A smoke test of scripting on the master; the claim scripts' atomicity under races is tested in
  // libraries/issue-contract. The master is the one Sentinel names (6379 is a replica after a failover).
  it('when a Lua script is sent to the master Sentinel names, then it runs there and answers its result', async () => {
    const redis = new Redis({ sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'coupon-master', role: 'master', ...APP });
    const key = `test:${id}:component`;
    const result = await redis.eval("redis.call('SADD', KEYS[1], ARGV[1]); return redis.call('SCARD', KEYS[1])", 1, key, 'member');
    expect(result).to.equal(1);
    await redis.del(key);
    redis.disconnect();
  });

  it('when a Sentinel is asked for the master, then it names a live Redis', async () => {
    const sentinel = new Redis({ port: 26379, ...ADMIN });
    const [host, port] = (await sentinel.call('SENTINEL', 'get-master-addr-by-name', 'coupon-master')) as string[];
    sentinel.disconnect();
    expect(host).to.equal('127.0.0.1');
    const master = new Redis({ port: Number(port), host, ...ADMIN });
    expect(await master.call('ROLE')).to.have.nested.property('[0]', 'master');
    master.disconnect();
  });

  it('when a service registers in Consul, then the health API lists it as passing', async () => {
    const name = `component-test-${id}`;
    const reg = await fetch('http://127.0.0.1:8500/v1/agent/service/register', {
      headers: { 'x-consul-token': process.env.CONSUL_MANAGEMENT_TOKEN! },
      method: 'PUT',
      body: JSON.stringify({ Name: name, ID: name, Port: 1, Check: { TTL: '30s', Status: 'passing' } }),
    });
    expect(reg.status).to.equal(200);
    const health = (await (await fetch(`http://127.0.0.1:8500/v1/health/service/${name}?passing=true`, { headers: { 'x-consul-token': process.env.CONSUL_READ_TOKEN! } })).json()) as any[];
    await fetch(`http://127.0.0.1:8500/v1/agent/service/deregister/${name}`, { method: 'PUT', headers: { 'x-consul-token': process.env.CONSUL_MANAGEMENT_TOKEN! } });
    expect(health.map((h) => h.Service.ID)).to.deep.equal([name]);
  });

  it('when a span is sent over OTLP, then Jaeger returns it from its query API', async () => {
    const traceId = crypto.randomBytes(16).toString('hex');
    const now = BigInt(Date.now()) * 1_000_000n;
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: `component-test-${id}` } }] },
          scopeSpans: [{ spans: [{ traceId, spanId: crypto.randomBytes(8).toString('hex'), name: 'probe', kind: 1, startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1_000_000n) }] }],
        },
      ],
    };
    const sent = await fetch('http://127.0.0.1:4318/v1/traces', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(sent.status).to.equal(200);
    let found: any;
    for (let i = 0; i < 50 && !found; i++) {
      const res = await fetch(`http://127.0.0.1:16686/api/traces/${traceId}`);
      if (res.ok) found = await res.json();
      else await new Promise((r) => setTimeout(r, 200));
    }
    expect(found?.data?.[0]?.spans?.[0]?.operationName).to.equal('probe');
  });

  it('when a row is written to MariaDB, then it reads back over TCP', async () => {
    const db = knex({ client: 'mysql2', connection: { host: '127.0.0.1', port: 3306, user: 'coupon', password: process.env.DB_PASSWORD, database: 'coupon_rush' } });
    const [[{ version }]] = await db.raw('SELECT VERSION() AS version');
    expect(version).to.match(/^10\.11\..*MariaDB/);
    await db.raw('CREATE TEMPORARY TABLE probe (id INT PRIMARY KEY, note VARCHAR(20))');
    await db.raw('INSERT INTO probe VALUES (1, ?)', [id]);
    const [[row]] = await db.raw('SELECT note FROM probe WHERE id = 1');
    await db.destroy();
    expect(row.note).to.equal(id);
  });
});
