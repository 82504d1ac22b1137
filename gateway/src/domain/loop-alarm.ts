import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Raised while this process's event loop runs late: a request read now waits about that long
 * before anything is done with it. The waiting room's door lets nobody in while it is up (an
 * admitted user's claim would wait in the same backlog), as AWS's waiting room pauses its inlet on
 * an alarm. Read over short windows, so the alarm follows a crowd's burst within a fraction of a
 * second and falls as soon as the backlog is gone.
 */
export class LoopDelayAlarm {
  private readonly histogram: ReturnType<typeof monitorEventLoopDelay>;
  private readonly timer: NodeJS.Timeout;
  private up = false;

  constructor(
    /** The delay (p99 over a window) above which the alarm is up; 0: never. */
    private readonly thresholdMs: () => number,
    windowMs = 100,
    private readonly changed: (up: boolean) => void = () => {},
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: 5 });
    this.histogram.enable();
    this.timer = setInterval(() => this.read(), windowMs);
    this.timer.unref();
  }

  private read(): void {
    const threshold = this.thresholdMs();
    const p99Ms = this.histogram.count > 0 ? this.histogram.percentile(99) / 1e6 : 0;
    this.histogram.reset();
    const up = threshold > 0 && p99Ms > threshold;
    if (up !== this.up) this.changed(up);
    this.up = up;
  }

  raised(): boolean {
    return this.up;
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
