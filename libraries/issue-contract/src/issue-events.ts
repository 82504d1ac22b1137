/** The record on `coupon.issued`: one accepted claim, keyed by coupon id. */
export interface IssueEvent {
  eventId: string;
  couponId: number;
  userId: number;
  issuedAt: string;
}

export const ISSUED_TOPIC = 'coupon.issued';
export const ISSUED_DEAD_LETTER_TOPIC = 'coupon.issued.dlt';

export function topicName(prefix: string, topic: string): string {
  return `${prefix}${topic}`;
}

/**
 * The issue topics and their partitions, created by whichever service boots first. Events are
 * keyed by coupon id, so one coupon's events stay in order on one partition.
 */
export function issueTopics(prefix: string): { issued: string; deadLetter: string; specs: Array<{ topic: string; numPartitions: number }> } {
  const issued = topicName(prefix, ISSUED_TOPIC);
  const deadLetter = topicName(prefix, ISSUED_DEAD_LETTER_TOPIC);
  return {
    issued,
    deadLetter,
    specs: [
      { topic: issued, numPartitions: 3 },
      { topic: deadLetter, numPartitions: 1 },
    ],
  };
}

const positive = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** Parses a record value; throws with the reason when it is not a valid event (a poison record). */
export function parseIssueEvent(value: Buffer | null): IssueEvent {
  if (!value) throw new Error('empty record value');
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(value.toString('utf8'));
  } catch {
    throw new Error('record value is not JSON');
  }
  if (typeof e !== 'object' || e === null) throw new Error('record value is not an object');
  if (typeof e.eventId !== 'string' || e.eventId.length === 0 || e.eventId.length > 64) throw new Error('eventId missing or invalid');
  if (!positive(e.couponId)) throw new Error('couponId missing or invalid');
  if (!positive(e.userId)) throw new Error('userId missing or invalid');
  if (typeof e.issuedAt !== 'string' || Number.isNaN(Date.parse(e.issuedAt))) throw new Error('issuedAt missing or invalid');
  return { eventId: e.eventId, couponId: e.couponId as number, userId: e.userId as number, issuedAt: e.issuedAt };
}

/**
 * The Redis pub/sub channel on which issue-coupon asks for a coupon's claim sets to be rebuilt
 * (the message is the coupon id) and coupon-service, which holds the rows, rebuilds them.
 */
export function ledgerRebuildChannel(keyPrefix: string): string {
  return `${keyPrefix}ledger-rebuild`;
}
