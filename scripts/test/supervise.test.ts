import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Kafka, logLevel } from 'kafkajs';
import { REPO_ROOT } from '@coupon-rush/platform';
import { RUN_ID, appKafkaSasl, asUser, consulApi, eventually, http, isolatedOverrides, passingInstances, supervisorState } from '@coupon-rush/testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** Running, not merely a zombie: this machine's init reaps orphans only every second or two. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

const ready = async (port: number) => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200;

/**
 * A service run the way `npm start` runs it (scripts/lib.sh start_supervised) and stopped the way
 * `npm stop` stops it (stop_pid), with its own run folder for the pid, state and log files.
 */
class Supervised {
  readonly runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coupon-rush-supervise-'));
  supervisorPid = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string> = {},
  ) {}

  private bash(script: string, ...args: string[]): string {
    return execFileSync('bash', ['-c', `source scripts/lib.sh; ${script}`, 'bash', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, COUPON_RUSH_RUN: this.runDir, ...this.env },
      encoding: 'utf8',
      timeout: 60_000,
    });
  }

  get logFile() {
    return path.join(this.runDir, `${this.name}.log`);
  }

  start(...command: string[]) {
    this.bash('start_supervised "$@"', this.name, String(this.port), this.logFile, ...command);
    this.supervisorPid = Number(fs.readFileSync(path.join(this.runDir, 'pids', `${this.name}.pid`), 'utf8'));
  }

  startService(dir: string, overrides: Record<string, unknown> = {}) {
    this.env.PORT = String(this.port);
    // The config server is unreachable on purpose: the working-tree config-repo is the fallback.
    this.env.CONFIG_SERVER_URL = 'http://127.0.0.1:9';
    this.env.APP_CONFIG_JSON = JSON.stringify(isolatedOverrides(overrides));
    this.start('node', `${dir}/dist/src/main.js`);
  }

  state(): Record<string, string> {
    return supervisorState(path.join(this.runDir, 'pids', `${this.name}.state`));
  }

  /** The supervisor's own JSON lines in the log (the service's are there too). */
  supervisorLog(): Array<Record<string, any>> {
    return fs
      .readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"service":"supervisor"'))
      .map((l) => JSON.parse(l));
  }

  status(): string {
    return execFileSync('bash', ['scripts/status.sh'], { cwd: REPO_ROOT, env: { ...process.env, COUPON_RUSH_RUN: this.runDir }, encoding: 'utf8' });
  }

  stop() {
    this.bash('stop_pid "$1"', this.name);
  }

  /** Whatever is left of the process group start_bg created (setsid: its id is the supervisor's pid). */
  groupAlive(): boolean {
    return fs.readdirSync('/proc').some((entry) => {
      if (!/^\d+$/.test(entry)) return false;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        // After "pid (comm)": state, ppid, pgrp.
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(pgrp) === this.supervisorPid && state !== 'Z';
      } catch {
        return false;
      }
    });
  }

  kill() {
    if (this.supervisorPid && this.groupAlive()) process.kill(-this.supervisorPid, 'SIGKILL');
    fs.rmSync(this.runDir, { recursive: true, force: true });
  }
}

describe('supervisor (scripts/supervise.js under npm start)', function () {
  this.timeout(120_000);
  const runs: Supervised[] = [];
  const supervised = (...args: ConstructorParameters<typeof Supervised>) => {
    const run = new Supervised(...args);
    runs.push(run);
    return run;
  };
  afterEach(function () {
    for (const run of runs.splice(0)) {
      // What the supervisor and its service said is the only clue once the run folder is gone.
      if (this.currentTest?.state === 'failed' && fs.existsSync(run.logFile)) console.log(fs.readFileSync(run.logFile, 'utf8').split('\n').slice(-40).join('\n'));
      run.kill();
    }
  });

  it('when the service is killed, then it comes back ready and passing in Consul with restart count 1; when the supervisor gets SIGTERM, then both end and nothing restarts', async () => {
    const run = supervised('user-service', await freePort());
    run.startService('services/user');
    const onPort = async () => (await passingInstances('user-service')).filter((i) => i.port === run.port);
    // Passing or not: every registration the agent holds for this port.
    const registeredOnPort = async () => {
      const all = (await (await consulApi('/v1/agent/services')).json()) as Record<string, { ID: string; Service: string; Port: number }>;
      return Object.values(all)
        .filter((s) => s.Service === `user-service-test-${RUN_ID}` && s.Port === run.port)
        .map((s) => s.ID);
    };

    const first = await eventually(async () => run.state().state === 'running' && (await ready(run.port)) && (await onPort()).length === 1 && run.state(), 30_000);
    expect(first.restarts).to.equal('0');
    const [registered] = await onPort();

    const killed = Number(first.child_pid);
    process.kill(killed, 'SIGKILL');
    const second = await eventually(async () => {
      const s = run.state();
      return s.state === 'running' && s.child_pid !== first.child_pid && (await ready(run.port)) && s;
    }, 30_000);
    expect(second.restarts).to.equal('1');
    expect(alive(killed)).to.equal(false);
    // The new process registered itself; the dead one's registration (same port, so its check
    // passes against the new process) was removed rather than left beside it.
    const [again] = await eventually(async () => {
      const list = await onPort();
      return list.length === 1 && list[0].id !== registered.id && list;
    }, 10_000);
    await sleep(3000);
    expect(await registeredOnPort()).to.deep.equal([again.id]);
    expect(run.supervisorLog().filter((l) => l.message === 'service exited, restarting')).to.have.length(1);

    expect(run.status()).to.match(new RegExp(`^user-service\\s+up\\s+${second.child_pid}\\s+${run.port}\\s+yes\\s+1\\s+\\d+s`, 'm'));

    process.kill(run.supervisorPid, 'SIGTERM');
    await eventually(async () => !alive(run.supervisorPid) && !alive(Number(second.child_pid)), 20_000);
    expect(run.state()).to.include({ state: 'stopped', restarts: '1' });
    // Gone from Consul at once: the service got the SIGTERM and deregistered on its way out.
    expect(await onPort()).to.deep.equal([]);
    await sleep(1500);
    expect(await ready(run.port)).to.equal(false);
    expect(run.groupAlive()).to.equal(false);
    expect(run.supervisorLog().map((l) => l.message)).to.deep.equal(['service started', 'service exited, restarting', 'service started', 'stopping the service', 'service stopped']);
    expect(run.status()).to.match(new RegExp(`^user-service\\s+down\\s+-\\s+${run.port}\\s+no\\s+-\\s+-`, 'm'));
  });

  it('when the service keeps dying at start, then restarts back off 0.5 s, 1 s, 2 s...; a SIGTERM while waiting ends the supervisor at once', async () => {
    const run = supervised('crashing', 0);
    run.start('node', '-e', 'process.exit(3)');
    await eventually(async () => Number(run.state().restarts) >= 4, 20_000, 50);
    const exits = run.supervisorLog().filter((l) => l.message === 'service exited, restarting');
    expect(exits.slice(0, 4).map((l) => l.inMs)).to.deep.equal([500, 1000, 2000, 4000]);
    expect(exits.slice(0, 4).map((l) => l.code)).to.deep.equal([3, 3, 3, 3]);
    const starts = run
      .supervisorLog()
      .filter((l) => l.message === 'service started')
      .map((l) => Date.parse(l.timestamp));
    for (let i = 1; i < 4; i++) expect(starts[i] - starts[i - 1], `gap before start ${i + 1}`).to.be.at.least(exits[i - 1].inMs);

    await eventually(async () => run.state().state === 'restarting', 5_000, 20);
    const pendingMs = run
      .supervisorLog()
      .filter((l) => l.message === 'service exited, restarting')
      .at(-1)!.inMs;
    const stoppedAt = Date.now();
    process.kill(run.supervisorPid, 'SIGTERM');
    await eventually(async () => !alive(run.supervisorPid), 5_000, 20);
    expect(Date.now() - stoppedAt, `stopped while ${pendingMs} ms from a restart`).to.be.below(pendingMs / 2);
    expect(run.state().state).to.equal('stopped');
    expect(run.supervisorLog().at(-1)!.message).to.equal('stopped while waiting to restart');
  });

  it('when the supervisor itself is killed, then its service runs on, and npm stop still ends it gracefully', async () => {
    const run = supervised('user-service', await freePort());
    run.startService('services/user');
    const state = await eventually(async () => (await ready(run.port)) && (await passingInstances('user-service')).some((i) => i.port === run.port) && run.state(), 30_000);
    process.kill(run.supervisorPid, 'SIGKILL');
    await eventually(async () => !alive(run.supervisorPid), 5_000);
    expect(await ready(run.port)).to.equal(true);

    run.stop();
    expect(alive(Number(state.child_pid))).to.equal(false);
    expect(run.groupAlive()).to.equal(false);
    // A SIGTERM, not the last-resort SIGKILL: the service deregistered itself.
    expect((await passingInstances('user-service')).filter((i) => i.port === run.port)).to.deep.equal([]);
  });

  it('when coupon-service is killed mid-stream, then the restarted consumer resumes from the committed offsets: events sent while it was down are persisted, none is replayed', async () => {
    const prefix = `test-${RUN_ID}-supervise.`;
    const topic = `${prefix}coupon.issued`;
    const kafka = new Kafka({ clientId: 'supervise-test', brokers: ['127.0.0.1:9092'], sasl: appKafkaSasl(), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    try {
      const run = supervised('coupon-service', await freePort());
      run.startService('services/coupon', { kafka: { topicPrefix: prefix }, coupon: { writeBack: { intervalMs: 200 } } });
      await eventually(async () => ready(run.port), 60_000);
      const url = `http://127.0.0.1:${run.port}`;
      const ADMIN = asUser('coupon-service', 1, 'ADMIN');
      const now = Date.now();
      const created = await http('POST', `${url}/coupons`, {
        headers: ADMIN,
        body: {
          title: 'Supervised',
          totalQuantity: 10,
          discountAmount: 1000,
          minOrderAmount: 0,
          issueStartAt: new Date(now - 3600_000).toISOString(),
          issueEndAt: new Date(now + 3600_000).toISOString(),
        },
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const id = created.body.id as number;
      const event = (userId: number) => ({ key: String(id), value: JSON.stringify({ eventId: crypto.randomUUID(), couponId: id, userId, issuedAt: new Date().toISOString() }) });
      const rows = async () => (await http('GET', `${url}/coupons/${id}/reconciliation`, { headers: ADMIN })).body?.rows;
      const total = (offsets: Array<{ offset: string }>) => offsets.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      const logEnd = async (t: string) => total(await admin.fetchTopicOffsets(t));
      const committed = async () => total((await admin.fetchOffsets({ groupId: `${prefix}coupon-service`, topics: [topic] }))[0].partitions);
      const caughtUp = () => eventually(async () => (await committed()) === (await logEnd(topic)), 60_000, 200);

      // A poison record among the first events: replaying from the beginning would dead-letter it again.
      await producer.send({ topic, acks: -1, messages: [event(1), { key: String(id), value: '{not json' }, event(2)] });
      await eventually(async () => (await rows()) === 2, 30_000);
      await caughtUp();
      expect(await logEnd(`${topic}.dlt`)).to.equal(1);

      // Counted from here: a start can already have failed and been restarted (a broker that does
      // not yet know a topic just created).
      const before = run.state();
      process.kill(Number(before.child_pid), 'SIGKILL');
      const killedAt = Date.now();
      await producer.send({ topic, acks: -1, messages: [event(3), event(4)] });
      // The new consumer's join waits for the broker to drop the dead member (its session times
      // out), and the service listens only once it has joined.
      await eventually(async () => run.state().restarts === String(Number(before.restarts) + 1) && (await ready(run.port)), 90_000, 200);
      console.log(`      coupon-service ready again ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
      await eventually(async () => (await rows()) === 4, 30_000, 200);
      await caughtUp();
      expect(await committed()).to.equal(5);
      expect(await logEnd(`${topic}.dlt`)).to.equal(1);

      run.stop();
      expect(run.groupAlive()).to.equal(false);
      expect(run.state()).to.include({ state: 'stopped', restarts: String(Number(before.restarts) + 1) });
    } finally {
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    }
  });
});
