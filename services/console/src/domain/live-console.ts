import type { Knex } from 'knex';
import { AppError, type Logger } from '@coupon-rush/platform';
import { compareMembers, type ClaimLedger, type LineState, type WaitingLine } from '@coupon-rush/issue-contract';
import { findCoupon, issuedUserIds, recentCoupons, rowsPerCoupon, type WatchedCoupon } from '../data/coupon-reads';
import type { CouponUsage } from '../data/coupon-usage';
import type { LiveSettings } from '../config';
import type { PlatformPulse, PlatformReading } from './platform-pulse';

export type WindowState = 'upcoming' | 'open' | 'closed';

export function windowState(c: WatchedCoupon, now = Date.now()): WindowState {
  if (now < Date.parse(c.issueStartAt)) return 'upcoming';
  return now < Date.parse(c.issueEndAt) ? 'open' : 'closed';
}

/** One second of a rush, for one coupon: what the live view draws. */
export interface CouponTick {
  at: string;
  coupon: WatchedCoupon & { state: WindowState };
  stock: { claimed: number; remaining: number | null };
  /** This coupon's new claims per second since the last tick. */
  acceptedPerSecond: number;
  /** Issue-coupon's answers per second for this coupon, by code (ACCEPTED, SOLD_OUT, …). */
  answersPerSecond: Record<string, number>;
  latency: PlatformReading['latency'];
  consumer: { lag: number | null };
  /**
   * 202s answered (claims held in Redis) against rows persisted: equal once the consumer caught up.
   * Equal counts are not enough (a failover can lose claims while others are taken without a row):
   * once they agree, the users are compared too, `claimsWithoutRow` and `rowsWithoutClaim` (null
   * until compared for these counts), and only then is it consistent.
   */
  reconciliation: { accepted: number; rows: number; pending: number; revoked: number; claimsWithoutRow: number | null; rowsWithoutClaim: number | null; consistent: boolean };
  deadLettered: number | null;
  /** The coupon's persisted rows by what became of them, counted every usageCheckMs; null until first counted. */
  usage: CouponUsage | null;
  /**
   * A queued coupon's waiting room: users waiting, admitted a second since the last tick, how long
   * the last in line has to wait at the coupon's rate, and passes that lapsed unused; null for a
   * direct coupon.
   */
  queue: { waiting: number; preQueue: number; admittedPerSecond: number; lastInLineWaitSeconds: number | null; passesOut: number; abandoned: number; perSecond: number | null; auto: boolean } | null;
  instances: PlatformReading['instances'];
  errors: string[];
}

/** A waiting room as the live view shows it; an automatic room's rate is the one its governor set (none yet: no estimate). */
function queueFigures(line: LineState, admission: number | 'auto', admittedPerSecond: number): NonNullable<CouponTick['queue']> {
  const perSecond = admission === 'auto' ? line.autoPerSecond : admission;
  return {
    waiting: line.waiting,
    preQueue: line.preQueue,
    admittedPerSecond: Math.round(admittedPerSecond * 10) / 10,
    lastInLineWaitSeconds: perSecond ? Math.ceil(line.waiting / perSecond) : null,
    passesOut: line.passesOut,
    abandoned: line.abandoned,
    perSecond,
    auto: admission === 'auto',
  };
}

/** What the console counts of itself: the cost of the live view. */
export interface ConsoleMeters {
  tick(seconds: number): void;
  streams(open: number, coupons: number): void;
}

/** Where a tick goes: one open page. */
export interface TickSink {
  send(tick: CouponTick): void;
}

interface Watch {
  coupon: WatchedCoupon;
  sinks: Set<TickSink>;
  claims?: { count: number; at: number };
  last?: CouponTick;
  /** Claims and rows while the ticks count them equal: the same object for as long as they hold. */
  agreed?: { claims: number; rows: number };
  /** The users compared while the counts were `agreed`. */
  members?: { agreed: { claims: number; rows: number }; at: number; claimsWithoutRow: number; rowsWithoutClaim: number };
  memberError?: string;
  /** The last count of its uses, and when it was asked for (counted or not). */
  usage?: CouponUsage;
  usageAskedAt?: number;
  /** The waiting room's counters at the last tick, for the admission rate. */
  line?: { state: LineState; at: number };
}

const consoleBusy = (why: string) => new AppError('CONSOLE_BUSY', 503, `The console is at its limit: ${why}`);

/**
 * The live view's ticks. One loop samples the platform once per tick and reads each watched
 * coupon's claims and rows once, then hands the same tick to every page watching that coupon: the
 * work of a tick is bounded by the coupons watched (at most maxWatchedCoupons), not by the pages.
 * The loop runs only while a page is open. Comparing a coupon's users (up to 100k claims and
 * rows) is too slow for a tick: it runs beside the loop, one coupon at a time, only while its
 * counts agree, and again every memberCheckMs while they hold.
 */
export class LiveConsole {
  private readonly watched = new Map<number, Watch>();
  private streams = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private comparing?: Promise<void>;

  constructor(
    private readonly db: Knex,
    private readonly ledger: ClaimLedger,
    private readonly pulse: PlatformPulse,
    private readonly settings: () => LiveSettings,
    private readonly logger: Logger,
    private readonly meters: ConsoleMeters,
    private readonly countUsage: (couponId: number) => Promise<CouponUsage>,
    private readonly line: WaitingLine,
  ) {}

  /** The newest coupons with their window, stock and rows. */
  async coupons(limit = 50) {
    const coupons = await recentCoupons(this.db, limit);
    const ids = coupons.map((c) => c.id);
    const [claimed, rows] = await Promise.all([this.ledger.claimedCounts(ids), rowsPerCoupon(this.db, ids)]);
    return coupons.map((c, i) => ({
      ...c,
      state: windowState(c),
      claimed: claimed[i],
      remaining: c.totalQuantity === null ? null : Math.max(0, c.totalQuantity - claimed[i]),
      rows: rows.get(c.id) ?? 0,
    }));
  }

  /**
   * Starts sending ticks of one coupon to `sink` (from the next tick on); `stop` stops them and
   * `latest` is the tick other pages saw last, if any.
   */
  async watch(couponId: number, sink: TickSink): Promise<{ stop: () => void; latest?: CouponTick }> {
    // The coupon is read first; the bounds are checked after, with no await between the check and
    // the count it guards.
    const coupon = this.watched.get(couponId)?.coupon ?? (await findCoupon(this.db, couponId));
    if (!coupon) throw new AppError('COUPON_NOT_FOUND', 404, `Coupon ${couponId} does not exist`);
    const limits = this.settings();
    if (this.streams >= limits.maxStreams) throw consoleBusy(`${limits.maxStreams} live views are open`);
    let watch = this.watched.get(couponId);
    if (!watch) {
      if (this.watched.size >= limits.maxWatchedCoupons) throw consoleBusy(`${limits.maxWatchedCoupons} coupons are being watched`);
      watch = { coupon, sinks: new Set() };
      this.watched.set(couponId, watch);
    }
    const w = watch;
    w.sinks.add(sink);
    this.meters.streams(++this.streams, this.watched.size);
    if (!this.timer && !this.stopped) this.schedule(0);
    let open = true;
    const stop = () => {
      if (!open) return;
      open = false;
      w.sinks.delete(sink);
      if (w.sinks.size === 0 && this.watched.get(couponId) === w) this.watched.delete(couponId);
      this.meters.streams(--this.streams, this.watched.size);
    };
    return { stop, latest: w.last };
  }

  private schedule(inMs: number): void {
    this.timer = setTimeout(() => {
      const started = Date.now();
      void this.tick()
        .catch((err: unknown) => this.logger.warn('console tick failed', { err: String(err) }))
        .finally(() => {
          this.timer = undefined;
          // Idle: the next page starts the loop again, with rates measured afresh.
          if (this.streams === 0 || this.stopped) return this.pulse.reset();
          this.schedule(Math.max(0, this.settings().tickMs - (Date.now() - started)));
        });
    }, inMs);
  }

  private async tick(): Promise<void> {
    const watches = [...this.watched.values()];
    if (watches.length === 0) return;
    const started = Date.now();
    const ids = watches.map((w) => w.coupon.id);
    const errors: string[] = [];
    const usageDue = watches.filter((w) => w.usageAskedAt === undefined || started - w.usageAskedAt >= this.settings().usageCheckMs);
    const [platform, rows, counts, lines] = await Promise.all([
      this.pulse.sample(ids),
      rowsPerCoupon(this.db, ids).catch((err: unknown) => {
        errors.push(`database: ${String(err)}`);
        return undefined;
      }),
      Promise.all(
        ids.map((id) =>
          this.ledger.counts(id).catch((err: unknown) => {
            errors.push(`redis: ${String(err)}`);
            return undefined;
          }),
        ),
      ),
      Promise.all(
        watches.map((w) =>
          w.coupon.admissionPerSecond === null
            ? Promise.resolve(undefined)
            : this.line.state(w.coupon.id).catch((err: unknown) => {
                errors.push(`waiting room: ${String(err)}`);
                return undefined;
              }),
        ),
      ),
      ...usageDue.map(async (w) => {
        w.usageAskedAt = started;
        try {
          w.usage = await this.countUsage(w.coupon.id);
        } catch (err) {
          errors.push(`usage: ${String(err)}`);
        }
      }),
    ]);
    const now = Date.now();
    this.meters.tick((now - started) / 1000);
    watches.forEach((w, i) => {
      const held = counts[i];
      const persisted = rows ? (rows.get(w.coupon.id) ?? 0) : undefined;
      const previous = w.last;
      const claimed = held?.claims ?? previous?.stock.claimed ?? 0;
      const seconds = w.claims ? (now - w.claims.at) / 1000 : 0;
      const acceptedPerSecond = held && w.claims && seconds > 0 ? Math.max(0, held.claims - w.claims.count) / seconds : 0;
      if (held) w.claims = { count: held.claims, at: now };
      const rowCount = persisted ?? previous?.reconciliation.rows ?? 0;
      const line = lines[i];
      const lineSeconds = line && w.line ? (now - w.line.at) / 1000 : 0;
      const admittedPerSecond = line && w.line && lineSeconds > 0 ? Math.max(0, line.admitted - w.line.state.admitted) / lineSeconds : 0;
      if (line) w.line = { state: line, at: now };
      const agrees = held !== undefined && persisted !== undefined && claimed === rowCount;
      w.agreed = !agrees ? undefined : w.agreed?.claims === claimed && w.agreed.rows === rowCount ? w.agreed : { claims: claimed, rows: rowCount };
      if (w.members && w.members.agreed !== w.agreed) w.members = undefined;
      const members = w.members;
      if (w.memberError && !members) errors.push(`members: ${w.memberError}`);
      const tick: CouponTick = {
        at: new Date(now).toISOString(),
        coupon: { ...w.coupon, state: windowState(w.coupon, now) },
        stock: { claimed, remaining: w.coupon.totalQuantity === null ? null : Math.max(0, w.coupon.totalQuantity - claimed) },
        acceptedPerSecond: Math.round(acceptedPerSecond * 10) / 10,
        answersPerSecond: platform.answersPerSecond.get(w.coupon.id) ?? {},
        latency: platform.latency,
        consumer: { lag: platform.consumerLag },
        reconciliation: {
          accepted: claimed,
          rows: rowCount,
          pending: claimed - rowCount,
          revoked: held?.revoked ?? previous?.reconciliation.revoked ?? 0,
          claimsWithoutRow: members?.claimsWithoutRow ?? null,
          rowsWithoutClaim: members?.rowsWithoutClaim ?? null,
          consistent: members !== undefined && members.claimsWithoutRow === 0 && members.rowsWithoutClaim === 0,
        },
        deadLettered: platform.deadLettered,
        usage: w.usage ?? null,
        queue: line && w.coupon.admissionPerSecond !== null ? queueFigures(line, w.coupon.admissionPerSecond, admittedPerSecond) : null,
        instances: platform.instances,
        errors: [...platform.errors, ...errors],
      };
      w.last = tick;
      for (const sink of w.sinks) sink.send(tick);
    });
    this.compareNext(watches);
  }

  /** Starts comparing the users of the coupon most overdue for it, unless a comparison is running. */
  private compareNext(watches: Watch[]): void {
    if (this.comparing || this.stopped) return;
    const now = Date.now();
    const due = watches.filter((w) => w.agreed && (!w.members || now - w.members.at >= this.settings().memberCheckMs)).sort((a, b) => (a.members?.at ?? 0) - (b.members?.at ?? 0))[0];
    const counted = due?.agreed;
    if (!due || !counted) return;
    const id = due.coupon.id;
    this.comparing = (async () => {
      // No unpublished claim is told from a stranded one here (in flight: 0 ms): with the counts
      // equal, any claim without a row comes with a row without a claim.
      const c = await compareMembers(await issuedUserIds(this.db, id), this.ledger.claimMembers(id), 0);
      due.memberError = undefined;
      // Kept only if the counts held still meanwhile.
      if (due.agreed === counted) due.members = { agreed: counted, at: Date.now(), claimsWithoutRow: c.claimsWithoutRow.count, rowsWithoutClaim: c.rowsWithoutClaim.count };
    })()
      .catch((err: unknown) => {
        due.memberError = String(err);
        this.logger.warn('console member comparison failed', { couponId: id, err: String(err) });
      })
      .finally(() => (this.comparing = undefined));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
