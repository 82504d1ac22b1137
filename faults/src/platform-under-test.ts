import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { deepMerge } from '@coupon-rush/platform';
import { spawnService } from '@coupon-rush/testkit';
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
 * One service process on a fixed port, brought back after it dies, with the backoff and restart
 * count a supervisor keeps (`npm start` runs services the same way). A stop is not a crash.
 */
export class ServiceProcess {
  restarts = 0;
  private child?: ChildProcess;
  private stopping = false;

  constructor(
    readonly name: string,
    private readonly dir: string,
    readonly port: number,
    private readonly overrides: Record<string, unknown>,
    private readonly logLines: string[],
    /** The whole output, kept for the post-mortem of a violation. */
    private readonly logFile: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const child = spawnService(this.dir, { overrides: this.overrides, env: { PORT: String(this.port) }, logLines: this.logLines });
    this.child = child;
    const file = fs.createWriteStream(this.logFile, { flags: 'a' });
    child.stdout!.pipe(file);
    child.stderr!.pipe(file);
    child.once('exit', (code, signal) => {
      if (this.stopping || this.child !== child) return;
      this.logLines.push(`[faults] ${this.name} exited (${signal ?? code}); restarting`);
      this.restarts++;
      // Restarted at once the first time, then slower if it keeps dying.
      setTimeout(() => !this.stopping && this.start(), Math.min(5000, 250 * 2 ** (this.restarts - 1)));
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.child?.pid) throw new Error(`${this.name} is not running`);
    process.kill(this.child.pid, signal);
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

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    // A frozen process ignores TERM until it runs again.
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
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
  private constructor(readonly coupon: ServiceProcess, readonly issue: ServiceProcess[], readonly gateway: ServiceProcess) {}

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
    const make = async (name: string, dir: string) => new ServiceProcess(name, dir, await freePort(), overrides, lines, path.join(logDir, `${name}.log`));
    const platform = new PlatformUnderTest(
      await make('coupon-service', 'services/coupon'),
      [await make('issue-coupon-1', 'services/issue-coupon'), await make('issue-coupon-2', 'services/issue-coupon')],
      await make('gateway', 'gateway'),
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
