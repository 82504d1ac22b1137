/** One link the suite can fault: a toxiproxy listener in front of one server port. */
export interface Link {
  name: string;
  /** The server's own port, as Sentinel or the broker announces it. */
  upstream: number;
  /** The proxy's port, where the faulted client connects instead. */
  listen: number;
  /** What is behind it, so faults can pick links by kind. */
  kind: 'redis' | 'sentinel' | 'kafka';
}

type Toxic = { type: 'latency'; attributes: { latency: number; jitter: number } } | { type: 'timeout'; attributes: { timeout: number } };

/**
 * The links between the issue-coupon instances and Redis (data nodes and Sentinels) and Kafka,
 * each through a toxiproxy listener of this run's own. Only issue-coupon goes through them, so a
 * fault here is a network fault of that service alone: Sentinels still see the master, brokers
 * still see each other and the consumer still reads.
 */
export class NetworkLinks {
  constructor(
    private readonly api: string,
    readonly links: Link[],
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<void> {
    const res = await fetch(`${this.api}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`toxiproxy ${method} ${path} -> ${res.status} ${await res.text()}`);
  }

  /** Creates every link (replacing any of the same name from an earlier run). */
  async create(): Promise<void> {
    for (const l of this.links) {
      await this.call('DELETE', `/proxies/${l.name}`).catch(() => {});
      await this.call('POST', '/proxies', { name: l.name, listen: `127.0.0.1:${l.listen}`, upstream: `127.0.0.1:${l.upstream}`, enabled: true });
    }
  }

  /** `announced → connect` pairs for the services' `redis.addressMap` and `kafka.addressMap`. */
  addressMap(kinds: Array<Link['kind']>): Array<{ announced: string; connect: string }> {
    return this.of(kinds).map((l) => ({ announced: `127.0.0.1:${l.upstream}`, connect: `127.0.0.1:${l.listen}` }));
  }

  private of(kinds: Array<Link['kind']>): Link[] {
    return this.links.filter((l) => kinds.includes(l.kind));
  }

  private async addToxic(links: Link[], name: string, toxic: Toxic): Promise<void> {
    await Promise.all(
      links.flatMap((l) => (['upstream', 'downstream'] as const).map((stream) => this.call('POST', `/proxies/${l.name}/toxics`, { name: `${name}-${stream}`, stream, toxicity: 1, ...toxic }))),
    );
  }

  private async removeToxic(links: Link[], name: string): Promise<void> {
    await Promise.all(links.flatMap((l) => ['upstream', 'downstream'].map((stream) => this.call('DELETE', `/proxies/${l.name}/toxics/${name}-${stream}`))));
  }

  /** Every byte each way waits `latencyMs` ± `jitterMs`. */
  delay(kinds: Array<Link['kind']>, latencyMs: number, jitterMs: number): Promise<void> {
    return this.addToxic(this.of(kinds), 'delay', { type: 'latency', attributes: { latency: latencyMs, jitter: jitterMs } });
  }

  undelay(kinds: Array<Link['kind']>): Promise<void> {
    return this.removeToxic(this.of(kinds), 'delay');
  }

  /**
   * A partition, not a refusal: connections stay open and every byte each way is dropped (no RST,
   * no FIN), so a request in flight is neither answered nor failed, as when packets vanish. When
   * the cut heals, toxiproxy closes those connections (their streams lost bytes) and the clients
   * reconnect.
   */
  cut(kinds: Array<Link['kind']>): Promise<void> {
    return this.addToxic(this.of(kinds), 'cut', { type: 'timeout', attributes: { timeout: 0 } });
  }

  heal(kinds: Array<Link['kind']>): Promise<void> {
    return this.removeToxic(this.of(kinds), 'cut');
  }

  /** Every link enabled and without toxics, whatever a failed fault left. */
  reset(): Promise<void> {
    return this.call('POST', '/reset');
  }
}
