import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Redis from 'ioredis';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { REPO_ROOT } from '@coupon-rush/platform';
import { adminRedis, appKafkaSasl } from '@coupon-rush/testkit';
import { NetworkLinks, type Link } from './network';

const INFRA = path.join(REPO_ROOT, 'infra/infra.sh');
/** Below Linux's ephemeral range (32768+), so services on port 0 never take a slot's port. */
const FIRST_SLOT_BASE = 30_000;
const SLOTS = 20;

export type ComponentName = 'mariadb' | 'redis' | 'kafka' | 'toxiproxy';
const ALL: ComponentName[] = ['mariadb', 'redis', 'kafka', 'toxiproxy'];

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * MariaDB, Redis (master, two replicas, three Sentinels), a three-node Kafka cluster and a
 * toxiproxy of this run's own, started by the project's infra scripts under their own run
 * directory and ports. A fault suite kills, freezes, slows and cuts these, never the ones
 * `npm start` or another checkout runs.
 */
export class OwnComponents {
  readonly mariadbPort: number;
  readonly redisPorts: number[];
  readonly sentinelPorts: number[];
  readonly kafkaPorts: number[];
  readonly toxiproxyPort: number;
  /** The issue-coupon instances' way to Redis, its Sentinels and Kafka. */
  readonly network: NetworkLinks;
  readonly masterName = 'coupon-faults';
  private readonly pidDir: string;

  private constructor(
    readonly base: number,
    readonly runDir: string,
  ) {
    this.mariadbPort = base + 6;
    this.redisPorts = [base + 10, base + 11, base + 12];
    this.sentinelPorts = [base + 20, base + 21, base + 22];
    this.kafkaPorts = [base + 30, base + 32, base + 34];
    this.toxiproxyPort = base + 40;
    const link = (kind: Link['kind'], upstream: number, i: number, offset: number): Link => ({ name: `${kind}-${i + 1}`, kind, upstream, listen: base + offset + i });
    this.network = new NetworkLinks(`http://127.0.0.1:${this.toxiproxyPort}`, [
      ...this.redisPorts.map((p, i) => link('redis', p, i, 50)),
      ...this.sentinelPorts.map((p, i) => link('sentinel', p, i, 60)),
      ...this.kafkaPorts.map((p, i) => link('kafka', p, i, 70)),
    ]);
    this.pidDir = path.join(runDir, 'pids');
  }

  /** Takes the first slot of ports nothing listens on, and starts every component in it. */
  static async start(log: (line: string) => void = () => {}): Promise<OwnComponents> {
    for (let slot = 0; slot < SLOTS; slot++) {
      const base = FIRST_SLOT_BASE + 100 * slot;
      const candidate = new OwnComponents(base, path.join(REPO_ROOT, '.run', 'faults', `slot-${slot}`));
      await candidate.stopIfAbandoned(log);
      const ports = [
        candidate.mariadbPort,
        ...candidate.redisPorts,
        ...candidate.sentinelPorts,
        ...candidate.kafkaPorts.flatMap((p) => [p, p + 1]),
        candidate.toxiproxyPort,
        ...candidate.network.links.map((l) => l.listen),
      ];
      if ((await Promise.all(ports.map(portOpen))).some(Boolean)) continue;
      // A fresh cluster every run: a previous run's data would carry its offsets and claims.
      fs.rmSync(candidate.runDir, { recursive: true, force: true });
      fs.mkdirSync(candidate.runDir, { recursive: true });
      fs.writeFileSync(candidate.ownerFile, String(process.pid));
      log(`own components in ${candidate.runDir} (ports ${base}-${base + 72})`);
      await candidate.infra('up', ...ALL);
      await candidate.network.create();
      return candidate;
    }
    throw new Error(`no free slot of ports between ${FIRST_SLOT_BASE} and ${FIRST_SLOT_BASE + 100 * SLOTS}`);
  }

  private get ownerFile(): string {
    return path.join(this.runDir, 'owner.pid');
  }

  /** A run that was killed before it could stop its components left them running: stop them. */
  private async stopIfAbandoned(log: (line: string) => void): Promise<void> {
    let owner: number;
    try {
      owner = Number(fs.readFileSync(this.ownerFile, 'utf8'));
    } catch {
      return;
    }
    try {
      process.kill(owner, 0);
      return;
    } catch {
      /* the owner is gone */
    }
    log(`stopping components abandoned by run ${owner} in ${this.runDir}`);
    await this.stop();
    fs.rmSync(this.runDir, { recursive: true, force: true });
  }

  private get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      COUPON_RUSH_RUN: this.runDir,
      MARIADB_PORT: String(this.mariadbPort),
      REDIS_PORT: String(this.redisPorts[0]),
      SENTINEL_PORT: String(this.sentinelPorts[0]),
      REDIS_MASTER_NAME: this.masterName,
      KAFKA_PORT: String(this.kafkaPorts[0]),
      KAFKA_NODES: String(this.kafkaPorts.length),
      TOXIPROXY_PORT: String(this.toxiproxyPort),
      // Six JVMs may share this box with the platform's own cluster: smaller heaps here.
      KAFKA_HEAP: process.env.FAULTS_KAFKA_HEAP ?? '256m',
    };
  }

  /** `infra.sh up|down` on this run's components; `up` starts only what is not running. */
  infra(command: 'up' | 'down', ...components: ComponentName[]): Promise<void> {
    const logFile = path.join(this.runDir, 'infra.log');
    return new Promise((resolve, reject) => {
      const out = fs.openSync(logFile, 'a');
      const child = spawn('bash', [INFRA, command, ...components], { env: this.env, stdio: ['ignore', out, out] });
      child.once('error', reject);
      child.once('exit', (code) => {
        fs.closeSync(out);
        if (code === 0) resolve();
        else reject(new Error(`infra.sh ${command} ${components.join(' ')} exited ${code}; see ${logFile}`));
      });
    });
  }

  async stop(): Promise<void> {
    await this.infra('down', ...ALL).catch(() => {});
  }

  /** The pid infra.sh recorded for one process, e.g. `kafka-2`, `redis-30010`, `mariadb`. */
  pid(process: string): number {
    const file = path.join(this.pidDir, `${process}.pid`);
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid in ${file}`);
    return pid;
  }

  signal(processName: string, signal: NodeJS.Signals): void {
    process.kill(this.pid(processName), signal);
  }

  /** Waits until the recorded process is gone (after a SIGKILL the kernel reaps it quickly). */
  async gone(processName: string, timeoutMs = 10_000): Promise<void> {
    const pid = this.pid(processName);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      if (Date.now() > deadline) throw new Error(`${processName} (${pid}) still runs`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Config overrides that point a service at these components. */
  serviceOverrides(): Record<string, unknown> {
    return {
      mysql: { port: this.mariadbPort },
      redis: { masterName: this.masterName, sentinels: this.sentinelPorts.map((p) => `127.0.0.1:${p}`) },
      kafka: { brokers: this.kafkaPorts.map((p) => `127.0.0.1:${p}`), replicationFactor: 3 },
    };
  }

  /** For issue-coupon only: Redis, Sentinels and brokers reached through this run's toxiproxy. */
  issueCouponOverrides(): Record<string, unknown> {
    return { redis: { addressMap: this.network.addressMap(['redis', 'sentinel']) }, kafka: { addressMap: this.network.addressMap(['kafka']) } };
  }

  kafka(clientId: string): Kafka {
    return new Kafka({
      clientId,
      brokers: this.kafkaPorts.map((p) => `127.0.0.1:${p}`),
      sasl: appKafkaSasl(),
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2000 },
    });
  }

  kafkaNodeOfPort(port: number): number {
    const i = this.kafkaPorts.indexOf(port);
    if (i < 0) throw new Error(`port ${port} is not one of this run's brokers`);
    return i + 1;
  }

  /**
   * The node (1-based, as infra names `kafka-<n>`) leading the partition that holds `key`'s
   * records, found with the producers' own partitioner.
   */
  async kafkaLeader(topic: string, key: string): Promise<number> {
    const admin = this.kafka('faults-admin').admin();
    await admin.connect();
    try {
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      const partition = Partitioners.DefaultPartitioner()({ topic, partitionMetadata: meta.partitions, message: { key, value: null } });
      const leader = meta.partitions.find((p) => p.partitionId === partition)?.leader;
      if (leader === undefined || leader < 0) throw new Error(`partition ${partition} of ${topic} has no leader`);
      return leader;
    } finally {
      await admin.disconnect();
    }
  }

  /** Brokers in the in-sync replica set of every partition of `topic`. */
  async minInSync(topic: string): Promise<number> {
    const admin = this.kafka('faults-admin').admin();
    await admin.connect();
    try {
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      return Math.min(...meta.partitions.map((p) => p.isr.length));
    } finally {
      await admin.disconnect();
    }
  }

  /** The Redis port the Sentinel on `sentinelPort` names master; undefined when it does not answer. */
  private async masterNamedBy(sentinelPort: number): Promise<number | undefined> {
    const sentinel = adminRedis(sentinelPort);
    try {
      await sentinel.connect();
      const addr = (await sentinel.call('SENTINEL', 'get-master-addr-by-name', this.masterName)) as [string, string] | null;
      return addr ? Number(addr[1]) : undefined;
    } catch {
      return undefined;
    } finally {
      sentinel.disconnect();
    }
  }

  /** The Redis port the Sentinels currently name master (asking each until one answers). */
  async redisMaster(): Promise<number> {
    for (const port of this.sentinelPorts) {
      const master = await this.masterNamedBy(port);
      if (master !== undefined) return master;
    }
    throw new Error('no Sentinel names a master');
  }

  /** Whether all three Sentinels name `port` master: a failover one Sentinel ran has reached the others. */
  async everySentinelNames(port: number): Promise<boolean> {
    const named = await Promise.all(this.sentinelPorts.map((p) => this.masterNamedBy(p)));
    return named.every((m) => m === port);
  }

  /**
   * An operator's planned failover: `SENTINEL FAILOVER <master>` to the first of this run's
   * Sentinels that connects, which promotes a replica at once, asking no other Sentinel (the
   * master is not down). Returns that Sentinel's port.
   */
  async plannedFailover(): Promise<number> {
    for (const port of this.sentinelPorts) {
      const sentinel = adminRedis(port);
      try {
        await sentinel.connect();
      } catch {
        sentinel.disconnect();
        continue;
      }
      try {
        await sentinel.call('SENTINEL', 'FAILOVER', this.masterName);
        return port;
      } finally {
        sentinel.disconnect();
      }
    }
    throw new Error('no Sentinel answers');
  }

  /** Replicas the Redis on `port` reports as connected (INFO replication). */
  async connectedReplicas(port: number): Promise<number> {
    const redis = adminRedis(port);
    try {
      await redis.connect();
      const info = await redis.info('replication');
      return /^role:master/m.test(info) ? Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0) : -1;
    } finally {
      redis.disconnect();
    }
  }
}
