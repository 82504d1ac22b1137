import type { Histogram } from 'prom-client';
import { startRecordSpan, type RenewingProducer, type Span } from '@coupon-rush/platform';
import { type IssueEvent } from '@coupon-rush/issue-contract';

export type PublishOutcome = 'ACKED' | 'FAILED' | 'TIMED_OUT';

interface Pending {
  event: IssueEvent;
  /** The record's own span, child of the request: its context travels in the record's headers. */
  span: Span;
  headers: Record<string, string>;
  done: (outcome: PublishOutcome) => void;
  settled: boolean;
}

export interface PublisherMetrics {
  batchSize: Histogram;
  sendSeconds: Histogram<'result'>;
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
    private readonly producer: RenewingProducer,
    private readonly topic: string,
    private readonly settings: () => PublisherSettings,
    private readonly metrics?: PublisherMetrics,
  ) {}

  /** How long a publish may take before it counts as timed out (the current setting). */
  get timeoutMs(): number {
    return this.settings().timeoutMs;
  }

  /**
   * Resolves once the outcome is known, at the latest at `deadline` (epoch ms; by default the
   * publish timeout from now); TIMED_OUT means the record may still be written later.
   */
  publish(event: IssueEvent, deadline = Date.now() + this.settings().timeoutMs): Promise<PublishOutcome> {
    return new Promise((resolve) => {
      // Messaging conventions for batched sends: a "create" span per record, ended when the
      // batch that carried it is acknowledged.
      const { span, headers } = startRecordSpan(`create ${this.topic}`, {
        'messaging.system': 'kafka',
        'messaging.destination.name': this.topic,
        'messaging.operation.type': 'create',
        'coupon.id': event.couponId,
      });
      const pending: Pending = { event, span, headers, settled: false, done: resolve };
      const timer = setTimeout(() => this.settle(pending, 'TIMED_OUT'), Math.max(0, deadline - Date.now()));
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
    p.span.setAttribute('coupon.publish.outcome', outcome);
    if (outcome !== 'ACKED') p.span.setStatus({ code: 2, message: outcome });
    p.span.end();
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
    this.metrics?.batchSize.observe(batch.length);
    const timer = this.metrics?.sendSeconds.startTimer();
    try {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: batch.map((p) => ({ key: String(p.event.couponId), value: JSON.stringify(p.event), headers: p.headers })),
      });
      timer?.({ result: 'acked' });
      for (const p of batch) {
        p.span.setAttribute('messaging.batch.message_count', batch.length);
        this.settle(p, 'ACKED');
      }
    } catch {
      timer?.({ result: 'failed' });
      for (const p of batch) this.settle(p, 'FAILED');
    } finally {
      this.sending = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  async close(): Promise<void> {
    await this.drain();
    await this.producer.disconnect();
  }

  /** Waits for queued events to be sent or timed out; used on shutdown. */
  async drain(deadlineMs = 5000): Promise<void> {
    const end = Date.now() + deadlineMs;
    while ((this.queue.length > 0 || this.sending) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }
}
