import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT, deepMerge } from '@coupon-rush/platform';
import { isolatedOverrides, supervisorState } from '@coupon-rush/testkit';
import type { OwnComponents } from './own-components';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function answersReady(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * One service on a fixed port under the project's supervisor (scripts/supervise.js, as `npm start`
 * runs every service): a killed service is started again by it, with its backoff and restart count.
 */
export class ServiceProcess {
  private supervisor?: ChildProcess;

  constructor(
    readonly name: string,
    private readonly dir: string,
    readonly port: number,
    private readonly overrides: Record<string, unknown>,
    private readonly logLines: string[],
    /** The whole output (supervisor and service), kept for the post-mortem of a violation. */
    private readonly logFile: string,
    private readonly stateFile: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private state(): Record<string, string> {
    return supervisorState(this.stateFile);
  }

  get restarts(): number {
    return Number(this.state().restarts ?? 0);
  }

  start(): void {
    const supervisor = spawn(
      process.execPath,
      [
        path.join(REPO_ROOT, 'scripts/supervise.js'),
        '--name',
        this.name,
        '--state',
        this.stateFile,
        '--port',
        String(this.port),
        '--',
        process.execPath,
        path.join(REPO_ROOT, this.dir, 'dist/src/main.js'),
      ],
      {
        env: { ...process.env, PORT: String(this.port), CONFIG_SERVER_URL: 'http://127.0.0.1:9', APP_CONFIG_JSON: JSON.stringify(isolatedOverrides(this.overrides)) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.supervisor = supervisor;
    const file = fs.createWriteStream(this.logFile, { flags: 'a' });
    let rest = '';
    const collect = (chunk: Buffer) => {
      file.write(chunk);
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      this.logLines.push(...parts.filter(Boolean));
      if (this.logLines.length > 5000) this.logLines.splice(0, this.logLines.length - 5000);
    };
    supervisor.stdout!.on('data', collect);
    supervisor.stderr!.on('data', collect);
  }

  /** Signals the service itself (not its supervisor). */
  kill(signal: NodeJS.Signals): void {
    const pid = Number(this.state().child_pid);
    if (!pid) throw new Error(`${this.name} has no running child`);
    process.kill(pid, signal);
  }

  ready(): Promise<boolean> {
    return answersReady(this.port);
  }

  async waitReady(timeoutMs: number): Promise<number> {
    const started = Date.now();
    while (!(await this.ready())) {
      if (Date.now() - started > timeoutMs) throw new Error(`${this.name} not ready within ${timeoutMs} ms; last lines:\n${this.logLines.slice(-15).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return Date.now() - started;
  }

  /** TERM to the supervisor: it stops the service (which deregisters) and restarts nothing. */
  async stop(): Promise<void> {
    const supervisor = this.supervisor;
    if (!supervisor || supervisor.exitCode !== null || supervisor.signalCode !== null) return;
    const exited = new Promise<void>((r) => supervisor.once('exit', () => r()));
    supervisor.kill('SIGTERM');
    const timer = setTimeout(() => supervisor.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The platform's request path on the run's own components: coupon-service (the consumer), two
 * issue-coupon instances and the gateway, each its own process, found through Consul under this
 * run's suffix. No user-service: the rush's tokens are signed with the platform's key directly.
 */
export class PlatformUnderTest {
  readonly logLines: string[] = [];
  private constructor(
    readonly coupon: ServiceProcess,
    readonly issue: ServiceProcess[],
    readonly gateway: ServiceProcess,
  ) {}

  get services(): ServiceProcess[] {
    return [this.coupon, ...this.issue, this.gateway];
  }

  /** `isolation` names the run's database, topics, keys and Consul services (deep-merged last). */
  static async start(components: OwnComponents, isolation: Record<string, unknown>): Promise<PlatformUnderTest> {
    const lines: string[] = [];
    const overrides = deepMerge(
      deepMerge<Record<string, unknown>>(components.serviceOverrides(), {
        // Fast write-back, so issuedQuantity is checked seconds after the rush; stranded claims
        // (an issue-coupon killed between claim and publish) released within the run.
        coupon: { writeBack: { intervalMs: 500 }, strandedClaims: { intervalMs: 1000, staleAfterMs: 10_000 } },
      }),
      isolation,
    );
    const logDir = path.join(components.runDir, 'logs');
    const make = async (name: string, dir: string, own: Record<string, unknown> = {}) =>
      new ServiceProcess(name, dir, await freePort(), deepMerge(overrides, own), lines, path.join(logDir, `${name}.log`), path.join(components.runDir, 'pids', `${name}.state`));
    // Only issue-coupon reaches Redis and Kafka through the run's toxiproxy: the network faults are its own.
    const issue = components.issueCouponOverrides();
    const platform = new PlatformUnderTest(
      await make('coupon-service', 'services/coupon'),
      [await make('issue-coupon-1', 'services/issue-coupon', issue), await make('issue-coupon-2', 'services/issue-coupon', issue)],
      // Its management port is an ephemeral one of its own, not the 8090 of npm start's gateway.
      await make('gateway', 'gateway', { management: { port: 0 } }),
    );
    (platform as { logLines: string[] }).logLines = lines;
    // The coupon service creates the schema and the topics; the others wait for it.
    platform.coupon.start();
    await platform.coupon.waitReady(90_000);
    for (const s of [...platform.issue, platform.gateway]) s.start();
    await Promise.all([...platform.issue, platform.gateway].map((s) => s.waitReady(90_000)));
    return platform;
  }

  /** Every service answers ready; the time it took. */
  async allReady(timeoutMs: number): Promise<number> {
    const started = Date.now();
    await Promise.all(this.services.map((s) => s.waitReady(timeoutMs)));
    return Date.now() - started;
  }

  async stop(): Promise<void> {
    await Promise.all([this.gateway, ...this.issue].map((s) => s.stop()));
    await this.coupon.stop();
  }
}
