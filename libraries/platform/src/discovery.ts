import crypto from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'winston';

export interface ConsulSettings {
  host: string;
  port: number;
  /** This service's ACL token (a secret): it may register only this service and read the catalogue. */
  token: string;
  /** The address registered for this instance and probed by its health check. */
  advertiseAddress?: string;
  /** How often Consul probes each instance's health endpoint (a Go duration: 1s, 500ms). */
  checkInterval: string;
  /**
   * How long a probe may take before the instance counts as failing. A process that is busy but
   * alive must fit in it: a surge can delay the answer by whole seconds.
   */
  checkTimeout: string;
  deregisterCriticalAfter: string;
}

export interface ServiceInstance {
  id: string;
  address: string;
  port: number;
  /** The port of its /metrics when that is not `port` (a management port). */
  metricsPort?: number;
}

/** The calls of Consul's agent API an instance makes: register, list, ask after one, deregister. */
export class ConsulAgent {
  constructor(private readonly s: Pick<ConsulSettings, 'host' | 'port' | 'token'>) {}

  private async call<T>(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`http://${this.s.host}:${this.s.port}/v1/agent/${path}`, {
      method,
      headers: { 'x-consul-token': this.s.token, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`consul ${method} /v1/agent/${path} -> ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  register(definition: Record<string, unknown>): Promise<void> {
    return this.call('PUT', 'service/register', definition);
  }

  services(): Promise<Record<string, { ID: string; Service: string; Address: string; Port: number }>> {
    return this.call('GET', 'services');
  }

  /** Whether the agent holds a registration of this id (a dev agent forgets all when it restarts). */
  async knows(id: string): Promise<boolean> {
    const res = await fetch(`http://${this.s.host}:${this.s.port}/v1/agent/service/${encodeURIComponent(id)}`, { headers: { 'x-consul-token': this.s.token }, signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    if (res.status === 404) return false;
    if (!res.ok) throw new Error(`consul GET /v1/agent/service/${id} -> ${res.status}`);
    return true;
  }

  deregister(id: string): Promise<void> {
    return this.call('PUT', `service/deregister/${encodeURIComponent(id)}`);
  }
}

/**
 * Registers one instance with an HTTP health check; the returned function deregisters it. A dev
 * agent forgets every registration when it restarts, so the registration is checked every
 * `recheckMs` and made again when Consul no longer knows it.
 */
export async function registerInstance(
  settings: ConsulSettings,
  name: string,
  port: number,
  healthPath: string,
  logger: Logger,
  recheckMs = 10_000,
  /** Where /metrics is served when not on `port` (Prometheus relabels to it; the console reads it). */
  metricsPort?: number,
): Promise<{ id: string; deregister: () => Promise<void> }> {
  const consul = new ConsulAgent(settings);
  const id = `${name}-${os.hostname()}-${port}-${crypto.randomBytes(3).toString('hex')}`;
  const address = settings.advertiseAddress ?? '127.0.0.1';
  const register = () =>
    consul.register({
      Name: name,
      ID: id,
      Address: address,
      Port: port,
      // Prometheus finds what to scrape through Consul: every instance of the platform carries the tag.
      Tags: ['coupon-rush'],
      Meta: { pid: String(process.pid), metrics_path: '/metrics', ...(metricsPort === undefined ? {} : { metrics_port: String(metricsPort) }) },
      Check: {
        Name: `${name} ready`,
        HTTP: `http://${address}:${port}${healthPath}`,
        Interval: settings.checkInterval,
        Timeout: settings.checkTimeout,
        // Registration happens once the instance is ready; starting "critical" would hide it for a
        // whole check interval.
        Status: 'passing',
        DeregisterCriticalServiceAfter: settings.deregisterCriticalAfter,
      },
    });
  // An instance killed without deregistering (kill -9, a crash) stays registered; once a restarted
  // one holds its port, the dead one's check probes the new one and passes, so it would never be
  // reaped. The port is ours now: whatever was registered on it under this name is dead.
  const stale = Object.values(await consul.services()).filter((s) => s.Service === name && s.Address === address && s.Port === port);
  for (const s of stale) {
    await consul.deregister(s.ID);
    logger.warn('removed the registration of a dead instance on this port', { id: s.ID, port });
  }
  await register();
  logger.info('registered in consul', { id, port });

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const recheck = async () => {
    try {
      if (!(await consul.knows(id)) && !stopped) {
        await register();
        logger.warn('consul had lost this instance, registered it again', { id });
      }
    } catch {
      // Consul unreachable: ask again at the next tick.
    }
    if (!stopped) timer = setTimeout(() => void recheck(), recheckMs).unref();
  };
  // recheck never rejects (it catches every failure itself), so its timers fire and forget it.
  timer = setTimeout(() => void recheck(), recheckMs).unref();
  return {
    id,
    deregister: async () => {
      stopped = true;
      clearTimeout(timer);
      await consul.deregister(id).catch((err: unknown) => logger.warn('consul deregister failed', { id, err: String(err) }));
    },
  };
}

interface HealthEntry {
  Service: { ID: string; Address: string; Port: number; Meta?: Record<string, string> | null };
  Checks: Array<{ Status: string }>;
}

/** Where a service's traffic goes: its passing instances, or in panic every registered one. */
interface Membership {
  instances: ServiceInstance[];
  panic: boolean;
}

/**
 * The instances of a set of services, kept current by Consul blocking queries, so a request never
 * waits on Consul. Round-robin over passing instances; an instance that refused a connection is
 * skipped until Consul reports it again (a later index) or the pause expires.
 *
 * Panic mode, like Envoy's panic threshold: when every registered instance of a service fails its
 * check at once, the checks are more likely wrong about the instances (a surge delaying every
 * answer past the timeout) than every instance dead, so traffic goes to all registered instances
 * instead of a 503 to everyone. A deregistered instance leaves at once; panic ends as soon as any
 * instance passes again.
 */
export class ServiceDirectory {
  private readonly members = new Map<string, Membership>();
  private readonly cursors = new Map<string, number>();
  private readonly benched = new Map<string, number>();
  private readonly watches = new Map<string, AbortController>();
  private stopped = false;

  constructor(
    private readonly consul: Pick<ConsulSettings, 'host' | 'port' | 'token'>,
    private readonly logger: Logger,
    private readonly benchMillis = 5000,
  ) {}

  /** Starts watching a service; resolves once the first answer from Consul arrived. */
  async watch(service: string): Promise<void> {
    if (this.watches.has(service)) return;
    const abort = new AbortController();
    this.watches.set(service, abort);
    let first!: () => void;
    const firstAnswer = new Promise<void>((resolve) => (first = resolve));
    void this.loop(service, abort.signal, first);
    await Promise.race([firstAnswer, new Promise((r) => setTimeout(r, 3000))]);
  }

  private async loop(service: string, signal: AbortSignal, first: () => void): Promise<void> {
    let index = '0';
    let failures = 0;
    while (!this.stopped && !signal.aborted) {
      try {
        // Every registered instance with its checks, not `?passing`: panic mode needs the failing ones too.
        const url = `http://${this.consul.host}:${this.consul.port}/v1/health/service/${encodeURIComponent(service)}?index=${index}&wait=30s`;
        // Without a valid token Consul answers an empty list, not a refusal: an empty answer here
        // may mean a lost token (the agent restarted and its ACLs were not made again).
        const res = await fetch(url, { headers: { 'x-consul-token': this.consul.token }, signal: AbortSignal.any([signal, AbortSignal.timeout(40_000)]) });
        if (!res.ok) {
          // 403 "ACL not found": the agent restarted; its index starts again too.
          index = '0';
          throw new Error(`consul answered ${res.status}`);
        }
        const next = res.headers.get('x-consul-index') ?? '0';
        const body = (await res.json()) as HealthEntry[];
        // A reset index (Consul restarted) must not turn into a busy loop of immediate answers.
        index = Number(next) < Number(index) ? '0' : next;
        // An instance Consul finds passing is worth another try; one that refused in panic is not.
        for (const inst of this.update(service, body)) this.benched.delete(inst.id);
        failures = 0;
        first();
      } catch (err) {
        if (signal.aborted || this.stopped) return;
        failures++;
        if (failures === 1) this.logger.warn('consul watch failed, keeping last known instances', { service, err: String(err) });
        first();
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * failures)));
      }
    }
  }

  /** Applies one answer from Consul; returns the passing instances. */
  private update(service: string, entries: HealthEntry[]): ServiceInstance[] {
    const toInstance = (e: HealthEntry): ServiceInstance => {
      const metricsPort = Number(e.Service.Meta?.metrics_port);
      return { id: e.Service.ID, address: e.Service.Address || '127.0.0.1', port: e.Service.Port, ...(metricsPort > 0 ? { metricsPort } : {}) };
    };
    // What Consul's `?passing` means: every check of the instance, its node's included, passes.
    const passing = entries.filter((e) => e.Checks.every((c) => c.Status === 'passing')).map(toInstance);
    const panic = passing.length === 0 && entries.length > 0;
    const instances = panic ? entries.map(toInstance) : passing;
    const was = this.members.get(service)?.panic ?? false;
    this.members.set(service, { instances, panic });
    if (panic && !was) this.logger.warn('every instance fails its health check: routing to all registered instances (panic mode)', { service, registered: entries.length });
    if (!panic && was)
      this.logger.info(passing.length > 0 ? 'an instance passes its health check again: panic mode over' : 'no instance registered any more: panic mode over', {
        service,
        passing: passing.length,
        registered: entries.length,
      });
    return passing;
  }

  /** The instances traffic goes to (passing ones, or all registered in panic), including benched ones. */
  known(service: string): ServiceInstance[] {
    return this.members.get(service)?.instances ?? [];
  }

  pick(service: string): ServiceInstance | undefined {
    const all = this.known(service);
    if (all.length === 0) return undefined;
    const now = Date.now();
    const start = this.cursors.get(service) ?? 0;
    for (let i = 0; i < all.length; i++) {
      const inst = all[(start + i) % all.length];
      const until = this.benched.get(inst.id);
      if (until !== undefined && until > now) continue;
      this.cursors.set(service, (start + i + 1) % all.length);
      return inst;
    }
    return undefined;
  }

  /** Per watched service: instances in rotation, instances benched after a refusal, and whether it is in panic. */
  rotation(): Array<{ service: string; inRotation: number; benched: number; panic: boolean }> {
    const now = Date.now();
    return [...this.watches.keys()].map((service) => {
      const all = this.known(service);
      const benched = all.filter((i) => (this.benched.get(i.id) ?? 0) > now).length;
      return { service, inRotation: all.length - benched, benched, panic: this.members.get(service)?.panic ?? false };
    });
  }

  /** Takes an instance out of rotation after it refused a connection. */
  bench(instance: ServiceInstance): void {
    this.benched.set(instance.id, Date.now() + this.benchMillis);
  }

  stop(): void {
    this.stopped = true;
    for (const abort of this.watches.values()) abort.abort();
    this.watches.clear();
  }
}
