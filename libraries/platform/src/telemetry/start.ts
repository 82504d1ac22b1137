import { context, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { onTelemetryShutdown, openTracingDoor, SynchronousContextManager, traceSampler } from '../tracing';

/** Outgoing calls are traced only as part of a traced request or batch, never as roots of their own. */
const untracedCaller = () => !trace.getSpan(context.active())?.isRecording();

/**
 * Starts the OpenTelemetry SDK for this process. It must run before express, ioredis, mysql2 or
 * node:http are first required so that they are patched: `node -r .../register.js main.js`.
 *
 * Incoming requests are traced by our own door (tracing.ts, `tracedRequests`), not by the HTTP
 * instrumentation's server side, so that a request not sampled costs nothing.
 *
 * Kafka is traced by our own code (see IssueEventPublisher and the issue-event consumer) instead
 * of the kafkajs instrumentation: that one starts each record's span when `send` runs and writes
 * it over the record's traceparent, so with micro-batching every record would point at whichever
 * request happened to trigger the flush instead of the request that claimed it.
 */
export function startTelemetry(serviceName: string, options: { explicitContext: boolean } = { explicitContext: false }): void {
  if (process.env.OTEL_SDK_DISABLED === 'true') return;
  // Traces only: metrics are prom-client's /metrics and logs are winston's JSON lines. Left to its
  // defaults the SDK would also build OTLP metric and log pipelines, and every instrumented request
  // would record OTel histograms nobody reads.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const base = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318').replace(/\/$/, '');
  const exporterPort = Number(new URL(base).port || 80);
  const consulPort = Number(process.env.CONSUL_PORT ?? 8500);
  const plumbing = (port: string | number | undefined) => Number(port) === consulPort || Number(port) === exporterPort;
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.instance.id': `${serviceName}-${process.pid}` }),
    sampler: traceSampler,
    // A process that passes its trace context explicitly needs no AsyncLocalStorage (see tracing.ts).
    ...(options.explicitContext ? { contextManager: new SynchronousContextManager() } : {}),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${base}/v1/traces` }), maxQueueSize: 8192, maxExportBatchSize: 1024, scheduledDelayMillis: 1000 })],
    instrumentations: [
      new HttpInstrumentation({
        disableIncomingRequestInstrumentation: true,
        // Consul blocking queries and registrations are the platform's plumbing, not requests.
        ignoreOutgoingRequestHook: (opts) => untracedCaller() || plumbing(opts.port ?? undefined),
      }),
      // undici: fetch() between services (issue-coupon loading a policy), not the Consul watches.
      // The check comes first: the instrumentation parses the URL and headers of every request
      // it does not ignore, even when it then records nothing. A process with an explicit context
      // traces its own outgoing calls (the gateway's proxy) and does without it.
      ...(options.explicitContext ? [] : [new UndiciInstrumentation({ ignoreRequestHook: (req) => untracedCaller() || plumbing(new URL(req.origin).port) })]),
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      // Statements keep their shape, not their values (emails, password hashes).
      new MySQL2Instrumentation({ maskStatement: true }),
    ],
  });
  sdk.start();
  openTracingDoor(options);
  onTelemetryShutdown(() => sdk.shutdown());
}
