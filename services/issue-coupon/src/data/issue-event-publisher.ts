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
 * Publishes issue events acknowledged by all in-sync replicas through idempotent producers.
 * kafkajs has no linger and an idempotent producer allows one request in flight, so requests that
 * arrive while every producer is sending wait and leave together in the next send: under a crowd
 * one round trip carries hundreds of claims; alone, a request is sent at once. With more than one
 * producer a batch does not wait for the one before it to be acknowledged (an `acks=all` send is
 * mostly waiting for the followers, not work): events of one coupon may then reach the topic out of
 * claim order, which nothing reads into (each is its own claim, and the consumer keys rows by user).
 */
export class IssueEventPublisher {
  private queue: Pending[] = [];
  private readonly idle: RenewingProducer[];
  private scheduled = false;
  constructor(
    private readonly producers: RenewingProducer[],
    private readonly topic: string,
    private readonly settings: () => PublisherSettings,
    private readonly metrics?: PublisherMetrics,
  ) {
    this.idle = [...producers];
  }

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
    if (this.idle.length === 0 || this.scheduled) return;
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
    const producer = this.idle.pop();
    if (!producer) return;
    // Requests already answered (timed out) are dropped: their claims were revoked.
    const batch = this.queue.splice(0, this.settings().maxBatch).filter((p) => !p.settled);
    if (batch.length === 0) {
      this.idle.push(producer);
      return;
    }
    this.metrics?.batchSize.observe(batch.length);
    const timer = this.metrics?.sendSeconds.startTimer();
    // Another producer, if one is idle, takes whatever arrives meanwhile.
    if (this.queue.length > 0) this.schedule();
    try {
      await producer.send({
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
      this.idle.push(producer);
      if (this.queue.length > 0) this.schedule();
    }
  }

  async close(): Promise<void> {
    await this.drain();
    await Promise.all(this.producers.map((p) => p.disconnect()));
  }

  /** Waits for queued events to be sent or timed out; used on shutdown. */
  async drain(deadlineMs = 5000): Promise<void> {
    const end = Date.now() + deadlineMs;
    while ((this.queue.length > 0 || this.idle.length < this.producers.length) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }
}
