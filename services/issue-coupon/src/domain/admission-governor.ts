import { repeatEvery, type Logger, type Repeating, type RouteLatency } from '@coupon-rush/platform';
import type { WaitingLine } from '@coupon-rush/issue-contract';

/** How automatic rooms choose their rate (issue.queue.auto in config-repo). */
export interface AutoAdmission {
  /** The issue route's p99 (at the gateway) the rate is held under. */
  targetP99Ms: number;
  startPerSecond: number;
  minPerSecond: number;
  maxPerSecond: number;
  /** How often a rate is reconsidered, and over how many seconds of the gateway's histograms. */
  intervalMs: number;
  windowSeconds: number;
}

/**
 * The next rate of an automatic room from the issue route's p99 over the last window: down by 30%
 * once it is over the target, up by a fifth (and one) while it is under 70% of it, kept in between
 * and while the route saw no request (no evidence either way). Within [min, max].
 */
export function nextRate(rate: number, latency: RouteLatency, s: AutoAdmission): number {
  if (latency.requests === 0 || latency.p99Ms === null) return rate;
  if (latency.p99Ms > s.targetP99Ms) return Math.max(s.minPerSecond, Math.floor(rate * 0.7));
  if (latency.p99Ms < s.targetP99Ms * 0.7) return Math.min(s.maxPerSecond, Math.ceil(rate * 1.2) + 1);
  return rate;
}

/**
 * Sets the rates of the automatic waiting rooms that were asked in the last minute: every
 * intervalMs, each instance reads the gateway's histograms, and whichever instance takes a room's
 * lease for the period moves its rate (one writer per room per period, however many instances).
 */
export class AdmissionGovernor {
  private readonly asked = new Map<number, number>();
  private job?: Repeating;

  constructor(
    private readonly line: WaitingLine,
    private readonly issueLatency: () => Promise<RouteLatency>,
    private readonly settings: () => AutoAdmission,
    private readonly instanceId: string,
    private readonly logger: Logger,
    private readonly governed: (couponId: number, perSecond: number) => void = () => {},
  ) {}

  /** A turn was taken in this automatic room: it is governed for the next minute. */
  asking(couponId: number): void {
    this.asked.set(couponId, Date.now());
  }

  start(): void {
    this.job = repeatEvery(
      () => this.settings().intervalMs,
      () => this.step(),
    );
  }

  stop(): Promise<void> {
    return this.job?.stop() ?? Promise.resolve();
  }

  async step(): Promise<void> {
    const s = this.settings();
    const since = Date.now() - 60_000;
    for (const [id, at] of this.asked) if (at < since) this.asked.delete(id);
    let latency: RouteLatency;
    try {
      // Read even with no room to govern, so the window is warm when one comes.
      latency = await this.issueLatency();
    } catch (err) {
      this.logger.warn('admission governor could not read the gateway', { err: String(err) });
      return;
    }
    for (const couponId of this.asked.keys()) {
      try {
        if (!(await this.line.governs(couponId, Math.max(100, s.intervalMs - 100), this.instanceId))) continue;
        const rate = (await this.line.state(couponId)).autoPerSecond ?? s.startPerSecond;
        const next = nextRate(rate, latency, s);
        if (next !== rate) {
          await this.line.setAutoRate(couponId, next);
          this.logger.info('automatic admission rate', { couponId, from: rate, to: next, p99Ms: latency.p99Ms, requests: latency.requests });
        }
        this.governed(couponId, next);
      } catch (err) {
        this.logger.warn('admission governor could not set a rate', { couponId, err: String(err) });
      }
    }
  }
}
