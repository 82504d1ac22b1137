import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  TraceFlags,
  SpanKind,
  type Attributes,
  type Context,
  type ContextManager,
  type Link,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import type http from 'node:http';
import { suppressTracing } from '@opentelemetry/core';
import { RandomIdGenerator, SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace';

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
 * A consumer batch, a root of its own, is sampled when one of its links is, else at the ratio.
 * Any other span without a parent (a Redis or MySQL call, a Kafka record) belongs to a request the
 * door turned away or to background work, and is not recorded.
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
    if (kind === SpanKind.CONSUMER) return this.root.shouldSample(ctx, traceId);
    return { decision: SamplingDecision.NOT_RECORD };
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

/** Trace and span id of the active span (or of `span`), for log lines; empty when nothing is traced. */
export function activeTraceIds(of: Span | undefined = trace.getActiveSpan()): { trace_id: string; span_id: string } | undefined {
  const span = of?.spanContext();
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

/** The W3C `traceresponse` value for the active span (or `span`), or undefined when nothing is traced. */
export function traceResponse(of: Span | undefined = trace.getActiveSpan()): string | undefined {
  const span = of?.spanContext();
  if (!span || !isSpanContextValid(span)) return undefined;
  return `00-${span.traceId}-${span.spanId}-0${span.traceFlags & TraceFlags.SAMPLED}`;
}

// Probes and scrapes arrive every second from Consul and Prometheus: tracing them is only noise.
const UNTRACED_PATHS = /^\/(health\/|metrics$|refresh$)/;

const UNSAMPLED = Symbol('coupon-rush.unsampled');
const REQUEST_SPAN = Symbol('coupon-rush.request-span');

let doorOpen = false;
let activateRequestSpans = true;

/**
 * Called once the SDK runs (telemetry/start): from then on requests pass the door below. With an
 * explicit context the door does not make a request's span active; the service reads it with
 * `requestSpan(req)` and passes it on itself.
 */
export function openTracingDoor(options: { explicitContext: boolean }): void {
  doorOpen = true;
  activateRequestSpans = !options.explicitContext;
}

/** The SERVER span the door started for this request; undefined when it was not sampled. */
export function requestSpan(req: http.IncomingMessage): Span | undefined {
  return (req as unknown as Record<symbol, Span | undefined>)[REQUEST_SPAN];
}

/**
 * A span under `parent`, given explicitly rather than through the active context, with the
 * traceparent that carries it to the next process.
 */
export function startChildSpan(parent: Span, name: string, kind: SpanKind, attributes: Attributes): { span: Span; traceparent?: string } {
  const span = tracer.startSpan(name, { kind, attributes }, trace.setSpan(ROOT_CONTEXT, parent));
  return { span, traceparent: traceHeaders(trace.setSpan(ROOT_CONTEXT, span)).traceparent };
}

/**
 * A context manager without async_hooks, for a process that passes its trace context explicitly
 * (the gateway): a context is active only for the synchronous extent of `with`. On Node 20,
 * AsyncLocalStorage, once entered, runs a hook for every promise and async resource of the
 * process for the rest of its life, sampled or not.
 */
export class SynchronousContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const previous = this.current;
    this.current = ctx;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const manager = this;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(ctx, () => (target as (...a: unknown[]) => unknown).apply(this, args));
    } as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.current = ROOT_CONTEXT;
    return this;
  }
}

/**
 * The door every incoming request passes (service-runtime wraps its one HTTP handler with it).
 * A request the sampler does not admit goes straight to the handler: no span, no context switch,
 * nothing bound to its emitters. The HTTP instrumentation's own server side did that work for every
 * request it then ignored (a context.with and two EventEmitter binds each), which measured more
 * than half of the gateway's throughput at any ratio. An admitted request gets a SERVER span,
 * continued from its traceparent, active while the handler runs and ended when the answer is sent.
 * `trustsInbound`, for an edge service, says whose traceparent is honoured.
 */
export function tracedRequests(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  routeOf: (req: http.IncomingMessage, res: http.ServerResponse) => string,
  trustsInbound?: (req: http.IncomingMessage) => boolean,
) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (!doorOpen) return handler(req, res);
    // At the edge a caller's trace context is a request to be traced, not a decision: from a caller
    // not trusted with it, the context is dropped and the door decides at its own ratio, in a new
    // trace (a client sending sampled flags would otherwise turn on full tracing for itself).
    if (trustsInbound && req.headers.traceparent !== undefined && !trustsInbound(req)) {
      delete req.headers.traceparent;
      delete req.headers.tracestate;
    }
    if (UNTRACED_PATHS.test(req.url ?? '') || !traceSampler.admits(req.headers.traceparent)) {
      (req as unknown as Record<symbol, boolean>)[UNSAMPLED] = true;
      return handler(req, res);
    }
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const method = req.method ?? 'GET';
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'url.path': (req.url ?? '/').split('?')[0],
          'network.peer.address': req.socket.remoteAddress ?? '',
          'server.port': req.socket.localPort ?? 0,
        },
      },
      parent,
    );
    res.once('finish', () => {
      const route = routeOf(req, res);
      if (route !== 'unmatched') span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    res.once('close', () => {
      if (res.writableFinished) return;
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'connection closed before the answer was sent' });
      span.end();
    });
    (req as unknown as Record<symbol, Span>)[REQUEST_SPAN] = span;
    if (activateRequestSpans) context.with(trace.setSpan(parent, span), () => handler(req, res));
    else handler(req, res);
  };
}

const ids = new RandomIdGenerator();

/**
 * For a call made while serving a request the door did not sample: a traceparent flagged "not
 * sampled", so the next service skips the work too instead of deciding again at its own ratio.
 * Undefined when the request is traced (the instrumentation injects the real one) or no SDK runs.
 */
export function unsampledTraceparent(req: http.IncomingMessage): string | undefined {
  if (!(req as unknown as Record<symbol, boolean | undefined>)[UNSAMPLED]) return undefined;
  // The SDK's own id source: ids need to be unique, not secret (crypto.randomBytes per request
  // was 2.2% of the gateway's CPU profile).
  return `00-${ids.generateTraceId()}-${ids.generateSpanId()}-00`;
}
