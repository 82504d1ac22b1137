import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '@coupon-rush/platform';
import { eventually, http, passingInstances, RUN_ID, spawnService, tokenFor } from '@coupon-rush/testkit';

// Every service of the platform in its own process, started the way `npm start` starts them
// (OpenTelemetry preloaded), tracing every request, exporting to the real Jaeger, registered in
// the real Consul where the real Prometheus finds them.
const SERVICES = [
  ['config-server', 'services/config-server'],
  ['user-service', 'services/user'],
  ['coupon-service', 'services/coupon'],
  ['issue-coupon-service', 'services/issue-coupon'],
  ['gateway', 'gateway'],
] as const;

const JAEGER = 'http://127.0.0.1:16686';
// The gateway honours a caller's traceparent with this header (gateway.traceTrust).
const TRACE_KEY = 'observability-test-trace-key';
const PROMETHEUS = 'http://127.0.0.1:9090';

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  processID: string;
  references: Array<{ refType: string; traceID: string; spanID: string }>;
  tags: Array<{ key: string; value: unknown }>;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

const tag = (span: JaegerSpan, ...keys: string[]) => span.tags.find((t) => keys.includes(t.key))?.value;
const dbSystem = (span: JaegerSpan) => tag(span, 'db.system.name', 'db.system');
const serviceOf = (t: JaegerTrace, span: JaegerSpan) => t.processes[span.processID]?.serviceName;

async function jaegerTrace(traceId: string): Promise<JaegerTrace | undefined> {
  const res = await fetch(`${JAEGER}/api/traces/${traceId}`);
  if (!res.ok) return undefined;
  return ((await res.json()) as { data: JaegerTrace[] }).data[0];
}

/** One sample value of a metric in Prometheus text format, summed over the label sets that match. */
function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? ([^ ]+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (!Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) continue;
    total = (total ?? 0) + Number(m[3]);
  }
  return total;
}

describe('observability: one trace per request, metrics on every process, Prometheus through Consul', function () {
  this.timeout(120_000);
  const children: ChildProcess[] = [];
  const ports: Record<string, number> = {};
  /** Where each service's /metrics and detailed readiness are: the gateway's management port, the others' own. */
  const managementPorts: Record<string, number> = {};
  const instanceIds: string[] = [];
  const logs: Record<string, string[]> = {};
  const scrape = async (service: string) => (await fetch(`http://127.0.0.1:${managementPorts[service]}/metrics`)).text();

  before(async () => {
    for (const [name, dir] of SERVICES) {
      logs[name] = [];
      children.push(
        spawnService(dir, {
          telemetry: true,
          overrides: { tracing: { sampleRatio: 1 }, gateway: { traceTrust: { header: 'X-Trace-Key', value: TRACE_KEY } } },
          env: { LOG_LEVEL: 'info' },
          logLines: logs[name],
        }),
      );
      const [instance] = await eventually(
        async () => {
          const list = await passingInstances(name);
          return list.length > 0 && list;
        },
        30_000,
        200,
      );
      ports[name] = instance.port;
      managementPorts[name] = instance.metricsPort;
      instanceIds.push(instance.id);
    }
  });
  after(() => children.forEach((c) => c.kill('SIGTERM')));

  it('when a coupon is issued through the gateway, then Jaeger holds one trace of gateway, issue-coupon, Redis and the Kafka record, linked from the consumer batch that inserted the row', async () => {
    const gateway = `http://127.0.0.1:${ports.gateway}`;
    const now = Date.now();
    const created = await http('POST', `${gateway}/api/coupons`, {
      token: tokenFor(1, 'ADMIN'),
      body: { title: 'traced', totalQuantity: 10, discountAmount: 1000, minOrderAmount: 0, issueStartAt: new Date(now - 60_000).toISOString(), issueEndAt: new Date(now + 3_600_000).toISOString() },
    });
    expect(created.status).to.equal(201);
    const userId = 4242;
    const token = tokenFor(userId);
    const issued = await http('POST', `${gateway}/api/coupons/${created.body.id}/issues`, { token });
    expect(issued.status, JSON.stringify(issued.body)).to.equal(202);
    const [, traceId] = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(issued.headers.get('traceresponse') ?? '') ?? [];
    expect(traceId, 'traceresponse header').to.be.a('string');

    // Spans arrive from three processes, each exporting in its own batch.
    const request = await eventually(
      async () => {
        const t = await jaegerTrace(traceId);
        const services = new Set(t?.spans.map((s) => serviceOf(t, s)));
        const complete = t && services.has('gateway') && services.has('issue-coupon-service') && t.spans.some((s) => s.operationName.startsWith('create '));
        return complete && t;
      },
      20_000,
      300,
    );
    const names = request.spans.map((s) => `${serviceOf(request, s)}: ${s.operationName}`);
    expect(names).to.include.members(['gateway: POST', 'issue-coupon-service: POST']);
    expect(
      request.spans.some((s) => serviceOf(request, s) === 'issue-coupon-service' && dbSystem(s) === 'redis'),
      `redis span in ${names}`,
    ).to.equal(true);
    const record = request.spans.find((s) => s.operationName.startsWith('create '))!;
    expect(tag(record, 'messaging.system')).to.equal('kafka');
    expect(tag(record, 'coupon.publish.outcome')).to.equal('ACKED');

    // The gateway's access line names the route, status and trace; no line carries the token.
    const access = await eventually(async () => logs.gateway.map((l) => JSON.parse(l)).find((l) => l.message === 'access' && l.path === `/api/coupons/${created.body.id}/issues`));
    expect(access).to.include({ service: 'gateway', level: 'info', method: 'POST', route: 'coupon-issue', status: 202, trace_id: traceId });
    expect(access.span_id).to.match(/^[0-9a-f]{16}$/);
    expect(access.durationMs).to.be.a('number');
    for (const [name, lines] of Object.entries(logs)) {
      for (const line of lines) expect(line, name).not.to.include(token.split('.')[2]);
    }

    // The consumer's batch span is a trace of its own with a link to the record's span; the
    // MySQL insert of the row is inside it.
    const topic = String(tag(record, 'messaging.destination.name'));
    const consumer = await eventually(
      async () => {
        const params = new URLSearchParams({ service: 'coupon-service', operation: `process ${topic}`, start: String((now - 60_000) * 1000), end: String((Date.now() + 60_000) * 1000), limit: '50' });
        const res = await fetch(`${JAEGER}/api/traces?${params}`);
        const traces = ((await res.json()) as { data: JaegerTrace[] | null }).data ?? [];
        return traces.find((t) => t.spans.some((s) => s.references.some((r) => r.spanID === record.spanID && r.traceID === traceId)));
      },
      20_000,
      500,
    );
    const inserts = consumer.spans.filter((s) => dbSystem(s) === 'mysql' && /insert/i.test(String(tag(s, 'db.query.text', 'db.statement') ?? s.operationName)));
    expect(inserts.length, `mysql insert among ${consumer.spans.map((s) => s.operationName)}`).to.be.greaterThan(0);
  });

  it("when a caller the gateway does not trust sends a traceparent, then the gateway's own decision and trace hold; an operator's admin token makes it honoured", async () => {
    const gateway = `http://127.0.0.1:${ports.gateway}`;
    const callerTrace = 'ef'.repeat(16);
    const traceOf = (res: Response) => /^00-([0-9a-f]{32})-[0-9a-f]{16}-(0[01])$/.exec(res.headers.get('traceresponse') ?? '')?.slice(1);
    // A user's (or nobody's) sampled flags: a new trace at the gateway's ratio (1 here), not theirs.
    for (const authorization of [undefined, `Bearer ${tokenFor(7, 'USER')}`]) {
      const res = await fetch(`${gateway}/api/coupons?page=0&size=1`, { headers: { traceparent: `00-${callerTrace}-${'12'.repeat(8)}-01`, ...(authorization ? { authorization } : {}) } });
      expect(res.status).to.equal(200);
      const [traceId, flags] = traceOf(res) ?? [];
      expect(flags, authorization ?? 'no token').to.equal('01');
      expect(traceId, authorization ?? 'no token').to.not.equal(callerTrace);
    }
    // An admin's: the caller's trace continues through the gateway.
    const trusted = await fetch(`${gateway}/api/coupons?page=0&size=1`, { headers: { traceparent: `00-${callerTrace}-${'12'.repeat(8)}-01`, authorization: `Bearer ${tokenFor(1, 'ADMIN')}` } });
    expect(traceOf(trusted)).to.deep.equal([callerTrace, '01']);
    // As does the configured header with its value; a wrong value is nobody's.
    const keyed = await fetch(`${gateway}/api/coupons?page=0&size=1`, { headers: { traceparent: `00-${callerTrace}-${'34'.repeat(8)}-01`, 'x-trace-key': TRACE_KEY } });
    expect(traceOf(keyed)).to.deep.equal([callerTrace, '01']);
    const wrong = await fetch(`${gateway}/api/coupons?page=0&size=1`, { headers: { traceparent: `00-${callerTrace}-${'34'.repeat(8)}-01`, 'x-trace-key': `${TRACE_KEY}x` } });
    expect(traceOf(wrong)?.[0]).to.not.equal(callerTrace);
  });

  it('when a trusted request arrives with a traceparent flagged not sampled, then no process records it, although every request is sampled here', async () => {
    const gateway = `http://127.0.0.1:${ports.gateway}`;
    const traceId = 'ab'.repeat(16);
    const res = await fetch(`${gateway}/api/coupons?page=0&size=1`, { headers: { traceparent: `00-${traceId}-${'cd'.repeat(8)}-00`, authorization: `Bearer ${tokenFor(1, 'ADMIN')}` } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('traceresponse')).to.equal(null);
    // A sampled request sent after it: once its trace is in Jaeger, the first one would be too.
    const sampled = await fetch(`${gateway}/api/coupons?page=0&size=1`);
    const [, sampledId] = /^00-([0-9a-f]{32})-/.exec(sampled.headers.get('traceresponse') ?? '') ?? [];
    await eventually(
      async () => {
        const t = await jaegerTrace(sampledId);
        return t?.spans.some((s) => serviceOf(t, s) === 'coupon-service');
      },
      20_000,
      300,
    );
    expect(await jaegerTrace(traceId)).to.equal(undefined);
  });

  it('when traffic has flowed, then every /metrics shows the named metrics moving, and Prometheus scrapes every service it found in Consul', async () => {
    const gateway = `http://127.0.0.1:${ports.gateway}`;
    const before = { gateway: await scrape('gateway'), issue: await scrape('issue-coupon-service'), coupon: await scrape('coupon-service') };
    const now = Date.now();
    const created = await http('POST', `${gateway}/api/coupons`, {
      token: tokenFor(1, 'ADMIN'),
      body: { title: 'metered', totalQuantity: 3, discountAmount: 1000, minOrderAmount: 0, issueStartAt: new Date(now - 60_000).toISOString(), issueEndAt: new Date(now + 3_600_000).toISOString() },
    });
    for (let user = 1; user <= 5; user++) await http('POST', `${gateway}/api/coupons/${created.body.id}/issues`, { token: tokenFor(5000 + user) });
    expect((await http('GET', `${gateway}/api/coupons/${created.body.id}`)).status).to.equal(200);
    await eventually(async () => metricValue(await scrape('coupon-service'), 'coupon_rows_persisted_total')! >= (metricValue(before.coupon, 'coupon_rows_persisted_total') ?? 0) + 3, 15_000);
    const after = { gateway: await scrape('gateway'), issue: await scrape('issue-coupon-service'), coupon: await scrape('coupon-service') };

    const moved = (name: string, labels: Record<string, string>, side: 'gateway' | 'issue' | 'coupon') =>
      (metricValue(after[side], name, labels) ?? 0) - (metricValue(before[side], name, labels) ?? 0);
    expect(moved('http_server_request_duration_seconds_count', { route: 'coupon-issue', status: '202' }, 'gateway')).to.equal(3);
    expect(moved('http_server_request_duration_seconds_count', { route: 'coupon-issue', status: '409' }, 'gateway')).to.equal(2);
    expect(moved('http_server_request_duration_seconds_count', { route: '/coupons/:id/issues' }, 'issue')).to.equal(5);
    expect(moved('coupon_issue_requests_total', { code: 'ACCEPTED' }, 'issue')).to.equal(3);
    expect(moved('coupon_issue_requests_total', { code: 'SOLD_OUT' }, 'issue')).to.equal(2);
    expect(moved('issue_event_batch_size_sum', {}, 'issue')).to.equal(3);
    expect(moved('issue_event_send_seconds_count', { result: 'acked' }, 'issue')).to.be.greaterThan(0);
    expect(moved('coupon_policy_cache_requests_total', {}, 'issue')).to.be.greaterThan(0);
    expect(moved('coupon_rows_persisted_total', {}, 'coupon')).to.equal(3);
    expect(moved('http_server_request_duration_seconds_count', { route: '/coupons/:id', status: '200' }, 'coupon')).to.be.greaterThan(0);
    expect(metricValue(after.issue, 'coupon_stock_remaining', { coupon_id: String(created.body.id) })).to.equal(0);
    expect(metricValue(after.coupon, 'coupon_consumer_lag')).to.equal(0);
    expect(metricValue(after.coupon, 'coupon_events_dead_lettered_total')).to.be.a('number');
    expect(metricValue(after.gateway, 'gateway_upstream_instances', { service: `issue-coupon-service-test-${RUN_ID}`, state: 'in_rotation' })).to.equal(1);
    for (const [name] of SERVICES) {
      const text = await scrape(name);
      expect(metricValue(text, 'process_cpu_seconds_total'), `${name} default metrics`).to.be.greaterThan(0);
      expect(metricValue(text, 'nodejs_eventloop_lag_seconds'), `${name} event loop`).to.be.a('number');
    }

    const ready = await http('GET', `http://127.0.0.1:${ports['coupon-service']}/health/ready`);
    expect(ready.body).to.deep.include({ status: 'UP', checks: { mysql: 'UP', redis: 'UP', kafka: 'UP', config: 'UP' } });
    expect((await http('GET', `http://127.0.0.1:${ports['issue-coupon-service']}/health/ready`)).body.checks).to.deep.equal({ redis: 'UP', kafka: 'UP', config: 'UP' });

    // Prometheus discovers the instances through Consul (refresh 5 s) and scrapes them (5 s).
    // Other instances of this run may be down on purpose (another test SIGKILLs one).
    const targets = await eventually(
      async () => {
        const res = (await (await fetch(`${PROMETHEUS}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Array<{ labels: Record<string, string>; health: string }> } };
        const ours = res.data.activeTargets.filter((t) => instanceIds.includes(t.labels.instance));
        return ours.length === instanceIds.length && ours.every((t) => t.health === 'up') && ours;
      },
      40_000,
      1000,
    );
    expect(targets.map((t) => t.labels.job).sort()).to.deep.equal(SERVICES.map(([name]) => `${name}-test-${RUN_ID}`).sort());
    const query = (await (await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(`sum(coupon_issue_requests_total{job="issue-coupon-service-test-${RUN_ID}"})`)}`)).json()) as {
      status: string;
    };
    expect(query.status).to.equal('success');
  });

  it('when the Grafana dashboard is loaded, then each of its queries is valid PromQL over metrics the services expose', async () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'infra/grafana/dashboards/coupon-rush.json'), 'utf8'));
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: Array<{ expr: string }> }) => p.targets.map((t) => t.expr));
    expect(exprs.length).to.be.greaterThan(8);
    const exposed = (await Promise.all(SERVICES.map(([name]) => scrape(name)))).join('\n');
    for (const expr of exprs) {
      const query = expr.replaceAll('$__rate_interval', '1m');
      const res = (await (await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as { status: string; error?: string };
      expect(res.status, `${query}: ${res.error}`).to.equal('success');
      for (const metric of query.match(/\b[a-z_]+_(total|seconds|bucket|sum|count|size|remaining|lag|instances)(?=[\[{)\s])/g) ?? []) {
        // Declared by a process (a labelled counter has no sample before its first increment).
        const family = metric.replace(/_(bucket|sum|count)$/, '');
        expect(exposed, `${metric} in /metrics`).to.match(new RegExp(`^# HELP (${metric}|${family}) `, 'm'));
      }
    }
  });
});
