import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Knex } from 'knex';
import type { Counter } from 'prom-client';
import { SpanKind, inSpan, linksFromRecords, type Logger, type RenewingProducer } from '@coupon-rush/platform';
import { parseIssueEvent, type ClaimLedger, type IssueEvent } from '@coupon-rush/issue-contract';
import { persistIssued } from '../domain/persist-issued';

export interface ConsumerDeps {
  consumer: Consumer;
  deadLetters: RenewingProducer;
  topic: string;
  deadLetterTopic: string;
  db: Knex;
  ledger: ClaimLedger;
  logger: Logger;
  retries: number;
  onPersisted(couponIds: number[], rows: number): void;
  deadLettered: Counter;
  /** Attempts to persist a batch that failed and were tried again. */
  persistRetries: Counter;
}

/**
 * Kafka entry point of the coupon service: each fetched batch is parsed, persisted in one pass and
 * only then its offset committed, so a crash replays events rather than losing them (persisting is
 * idempotent). Records that can never be persisted go to the dead-letter topic with the reason.
 */
export async function runIssueEventConsumer(d: ConsumerDeps): Promise<void> {
  await d.consumer.subscribe({ topic: d.topic, fromBeginning: true });
  await d.consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 3,
    eachBatch: async (payload) => {
      const { batch, isRunning, isStale } = payload;
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      // One span per batch, linked to the request behind every record in it (a batch has many parents).
      await inSpan(
        `process ${batch.topic}`,
        {
          kind: SpanKind.CONSUMER,
          root: true,
          links: linksFromRecords(batch.messages),
          attributes: {
            'messaging.system': 'kafka',
            'messaging.destination.name': batch.topic,
            'messaging.destination.partition.id': String(batch.partition),
            'messaging.operation.type': 'process',
            'messaging.batch.message_count': batch.messages.length,
          },
        },
        () => persistBatch(d, payload),
      );
    },
  });
}

async function persistBatch(d: ConsumerDeps, { batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
  const valid: IssueEvent[] = [];
  const sourceOf = new Map<IssueEvent, KafkaMessage>();
  const poison: Array<{ message: KafkaMessage; reason: string }> = [];
  for (const message of batch.messages) {
    try {
      const event = parseIssueEvent(message.value);
      valid.push(event);
      sourceOf.set(event, message);
    } catch (err) {
      poison.push({ message, reason: (err as Error).message });
    }
  }
  const result = await withRetries(d, () => persistIssued(d.db, d.ledger, valid));
  const dead = [...poison, ...result.rejected.map((r) => ({ message: sourceOf.get(r.event)!, reason: r.reason }))];
  if (dead.length > 0) {
    await d.deadLetters.send({
      topic: d.deadLetterTopic,
      acks: -1,
      messages: dead.map(({ message, reason }) => ({
        key: message.key,
        value: message.value,
        headers: { reason, 'source-topic': batch.topic, 'source-partition': String(batch.partition), 'source-offset': message.offset },
      })),
    });
    d.deadLettered.inc(dead.length);
    d.logger.warn('events dead-lettered', { count: dead.length, reasons: [...new Set(dead.map((x) => x.reason))] });
  }
  const last = batch.messages[batch.messages.length - 1].offset;
  resolveOffset(last);
  await d.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
  await heartbeat();
  d.onPersisted(result.touchedCoupons, result.persisted);
}

/** Transient failures (a MySQL or Redis restart) are retried; after that the batch is replayed. */
async function withRetries<T>(d: ConsumerDeps, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      // Past the retries the batch is thrown back to kafkajs uncommitted: it is fetched again.
      if (attempt > d.retries) throw err;
      d.persistRetries.inc();
      d.logger.warn('persisting a batch failed, retrying', { attempt, err: String(err) });
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
  }
}
