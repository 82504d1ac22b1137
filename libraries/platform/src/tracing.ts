import {
  context, isSpanContextValid, propagation, trace, TraceFlags, SpanKind,
  type Attributes, type Context, type Link, type Span, type TextMapGetter,
} from '@opentelemetry/api';
import crypto from 'node:crypto';
import { isTracingSuppressed, suppressTracing } from '@opentelemetry/core';
import { SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';

// What every process uses to trace: the OpenTelemetry API only. When no SDK was started (tests
// run services in-process, or OTEL_SDK_DISABLED=true) every call here is a cheap no-op.

export const tracer = trace.getTracer('coupon-rush');
export { SpanKind };

const sampled = (flags: number) => (flags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-([0-9a-f]{2})$/;

/**
 * Head sampling with a ratio from config (changed on refresh). The decision for an HTTP request is
 * taken at the door, before any instrumentation runs (`admits`): a request carrying a traceparent
 * follows its sampled flag, one without starts a new trace kept at the ratio. A request not kept
 * is not instrumented at all — that, not the ratio alone, is what makes tracing cheap (a
 * non-recording span still costs its attributes, context and header work on every request).
 * Other roots (a consumer batch) are sampled when one of their links is, else at the ratio.
 */
export class ConfigurableRatioSampler implements Sampler {
  private root: TraceIdRatioBasedSampler;

  constructor(private ratio = 1) {
    this.root = new TraceIdRatioBasedSampler(ratio);
  }

  setRatio(ratio: number): void {
    if (!(ratio >= 0 && ratio <= 1) || ratio === this.ratio) return;
    this.ratio = ratio;
    this.root = new TraceIdRatioBasedSampler(ratio);
  }

  /** The door's decision for an incoming request, from its traceparent header. */
  admits(traceparent: string | string[] | undefined): boolean {
    const m = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent.trim()) : null;
    if (m) return (parseInt(m[1], 16) & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
    return Math.random() < this.ratio;
  }

  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const parent = trace.getSpanContext(ctx);
    if (parent && isSpanContextValid(parent)) {
      return { decision: sampled(parent.traceFlags) ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
    }
    // A server span exists only for a request `admits` let in: it was decided already.
    if (kind === SpanKind.SERVER) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    if (links.some((l) => sampled(l.context.traceFlags))) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return this.root.shouldSample(ctx, traceId);
  }

  toString(): string {
    return `ConfigurableRatioSampler{${this.ratio}}`;
  }
}

/** The sampler the SDK uses when one is started; services set its ratio from config. */
export const traceSampler = new ConfigurableRatioSampler(Number(process.env.OTEL_TRACES_SAMPLER_ARG ?? 1));

/** Trace context of the current span as headers (W3C traceparent), for a Kafka record. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers);
  return headers;
}

type RecordHeaders = Record<string, Buffer | string | Array<Buffer | string> | undefined> | undefined;

const recordHeaderGetter: TextMapGetter<RecordHeaders> = {
  keys: (carrier) => Object.keys(carrier ?? {}),
  get: (carrier, key) => {
    const value = carrier?.[key];
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(String) : String(value);
  },
};

/** Links to the spans that produced a batch of records (one link per traced record). */
export function linksFromRecords(records: Array<{ headers?: RecordHeaders }>): Link[] {
  const links: Link[] = [];
  for (const r of records) {
    const span = trace.getSpanContext(propagation.extract(context.active(), r.headers, recordHeaderGetter));
    if (span && isSpanContextValid(span)) links.push({ context: span });
  }
  return links;
}

/** Runs `work` in a new active span, recording a thrown error, ending the span either way. */
export async function inSpan<T>(name: string, options: { kind?: SpanKind; attributes?: Attributes; links?: Link[]; root?: boolean }, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { kind: options.kind, attributes: options.attributes, links: options.links, root: options.root }, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: 2, message: String((err as Error)?.message ?? err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Trace and span id of the active span, for log lines; empty when nothing is traced. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : undefined;
}

let shutdownHooks: Array<() => Promise<void>> = [];

export function onTelemetryShutdown(hook: () => Promise<void>): void {
  shutdownHooks.push(hook);
}

/** Exports the spans still buffered; called once on graceful shutdown. */
export async function shutdownTelemetry(): Promise<void> {
  const hooks = shutdownHooks;
  shutdownHooks = [];
  await Promise.allSettled(hooks.map((h) => h()));
}

/** Runs background work (write-back, schedulers) without creating root traces every tick. */
export function untraced<T>(work: () => T): T {
  return context.with(suppressTracing(context.active()), work);
}

/** A producer span for one record under the active context, with the headers that carry it. */
export function startRecordSpan(name: string, attributes: Attributes): { span: Span; headers: Record<string, string> } {
  const span = tracer.startSpan(name, { kind: SpanKind.PRODUCER, attributes });
  return { span, headers: traceHeaders(trace.setSpan(context.active(), span)) };
}

export type { Span };

/** The W3C `traceresponse` value for the active span, or undefined when nothing is traced. */
export function traceResponse(): string | undefined {
  const span = trace.getActiveSpan()?.spanContext();
  if (!span || !isSpanContextValid(span)) return undefined;
  return `00-${span.traceId}-${span.spanId}-0${span.traceFlags & TraceFlags.SAMPLED}`;
}

/**
 * For a call made while serving a request the door did not sample: a traceparent flagged "not
 * sampled", so the next service skips the work too instead of deciding again at its own ratio.
 * Undefined when the request is traced (the instrumentation injects the real one) or no SDK runs.
 */
export function unsampledTraceparent(): string | undefined {
  if (!isTracingSuppressed(context.active())) return undefined;
  const ids = crypto.randomBytes(24).toString('hex');
  return `00-${ids.slice(0, 32)}-${ids.slice(32)}-00`;
}
