import type { Producer } from 'kafkajs';
import type { Histogram } from 'prom-client';
import type { IssueEvent } from '@coupon-rush/platform';

export type PublishOutcome = 'ACKED' | 'FAILED' | 'TIMED_OUT';

interface Pending {
  event: IssueEvent;
  done: (outcome: PublishOutcome) => void;
  settled: boolean;
}

export interface PublisherSettings {
  maxBatch: number;
  lingerMs: number;
  timeoutMs: number;
}

/**
 * Publishes issue events acknowledged by all in-sync replicas through an idempotent producer.
 * kafkajs has no linger and the idempotent producer allows one request in flight, so requests
 * that arrive while a send is in flight wait and leave together in the next send: under a crowd
 * one round trip carries hundreds of claims; alone, a request is sent at once.
 */
export class IssueEventPublisher {
  private queue: Pending[] = [];
  private sending = false;
  private scheduled = false;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly settings: () => PublisherSettings,
    private readonly batchSizes?: Histogram,
  ) {}

  /** Resolves once the outcome is known; TIMED_OUT means the record may still be written later. */
  publish(event: IssueEvent): Promise<PublishOutcome> {
    return new Promise((resolve) => {
      const pending: Pending = { event, settled: false, done: resolve };
      const timer = setTimeout(() => this.settle(pending, 'TIMED_OUT'), this.settings().timeoutMs);
      pending.done = (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      this.queue.push(pending);
      this.schedule();
    });
  }

  private settle(p: Pending, outcome: PublishOutcome): void {
    if (p.settled) return;
    p.settled = true;
    p.done(outcome);
  }

  private schedule(): void {
    if (this.sending || this.scheduled) return;
    this.scheduled = true;
    const linger = this.settings().lingerMs;
    const go = () => {
      this.scheduled = false;
      void this.flush();
    };
    if (linger > 0) setTimeout(go, linger);
    else setImmediate(go);
  }

  private async flush(): Promise<void> {
    // Requests already answered (timed out) are dropped: their claims were revoked.
    const batch = this.queue.splice(0, this.settings().maxBatch).filter((p) => !p.settled);
    if (batch.length === 0) return;
    this.sending = true;
    this.batchSizes?.observe(batch.length);
    try {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: batch.map((p) => ({ key: String(p.event.couponId), value: JSON.stringify(p.event) })),
      });
      for (const p of batch) this.settle(p, 'ACKED');
    } catch {
      for (const p of batch) this.settle(p, 'FAILED');
    } finally {
      this.sending = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** Waits for queued events to be sent or timed out; used on shutdown. */
  async drain(deadlineMs = 5000): Promise<void> {
    const end = Date.now() + deadlineMs;
    while ((this.queue.length > 0 || this.sending) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }
}
