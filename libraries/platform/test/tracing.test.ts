import { expect } from 'chai';
import { SpanKind, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { ConfigurableRatioSampler, SynchronousContextManager } from '../src';

describe('head sampling', () => {
  const traceparent = (flags: string) => `00-${'a'.repeat(32)}-${'b'.repeat(16)}-${flags}`;

  it('when a request carries a traceparent, then its sampled flag decides; without one, the ratio does', () => {
    const sampler = new ConfigurableRatioSampler(0);
    expect(sampler.admits(traceparent('01'))).to.equal(true);
    expect(sampler.admits(traceparent('00'))).to.equal(false);
    expect(sampler.admits(undefined)).to.equal(false);
    expect(sampler.admits('garbage')).to.equal(false);
    sampler.setRatio(1);
    expect(sampler.admits(undefined)).to.equal(true);
    expect(sampler.admits(traceparent('00'))).to.equal(false);
    sampler.setRatio(0.25);
    const kept = Array.from({ length: 20_000 }, () => sampler.admits(undefined)).filter(Boolean).length;
    expect(kept).to.be.within(4_500, 5_500);
  });

  it('when a root span has a sampled link, then it is sampled whatever the ratio; a server span the door let in is always kept', () => {
    const sampler = new ConfigurableRatioSampler(0);
    const link = { context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED } };
    expect(sampler.shouldSample(ROOT_CONTEXT, 'c'.repeat(32), 'process', SpanKind.CONSUMER, {}, [link]).decision).to.equal(SamplingDecision.RECORD_AND_SAMPLED);
    expect(sampler.shouldSample(ROOT_CONTEXT, 'c'.repeat(32), 'process', SpanKind.CONSUMER, {}, []).decision).to.equal(SamplingDecision.NOT_RECORD);
    expect(sampler.shouldSample(ROOT_CONTEXT, 'c'.repeat(32), 'POST', SpanKind.SERVER, {}, []).decision).to.equal(SamplingDecision.RECORD_AND_SAMPLED);
    const unsampledParent = trace.setSpanContext(ROOT_CONTEXT, { ...link.context, traceFlags: TraceFlags.NONE });
    expect(sampler.shouldSample(unsampledParent, 'a'.repeat(32), 'evalsha', SpanKind.CLIENT, {}, []).decision).to.equal(SamplingDecision.NOT_RECORD);
  });

  it('when a span has no parent, then only a consumer batch may start a trace at the ratio; a call or record of a request the door turned away is not recorded', () => {
    const sampler = new ConfigurableRatioSampler(1);
    expect(sampler.shouldSample(ROOT_CONTEXT, 'c'.repeat(32), 'process', SpanKind.CONSUMER, {}, []).decision).to.equal(SamplingDecision.RECORD_AND_SAMPLED);
    for (const kind of [SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.INTERNAL]) {
      expect(sampler.shouldSample(ROOT_CONTEXT, 'c'.repeat(32), 'evalsha', kind, {}, []).decision, SpanKind[kind]).to.equal(SamplingDecision.NOT_RECORD);
    }
  });

  it('when the synchronous context manager runs work in a context, then it is active exactly for that call, nested calls included, and a bound function brings it back', () => {
    const manager = new SynchronousContextManager();
    const key = Symbol('k');
    const outer = ROOT_CONTEXT.setValue(key, 'outer');
    const inner = ROOT_CONTEXT.setValue(key, 'inner');
    const seen: unknown[] = [];
    manager.with(outer, () => {
      seen.push(manager.active().getValue(key));
      expect(() =>
        manager.with(inner, () => {
          throw new Error('boom');
        }),
      ).to.throw('boom');
      seen.push(manager.active().getValue(key));
    });
    seen.push(manager.active().getValue(key));
    const bound = manager.bind(inner, (x: number) => [x, manager.active().getValue(key)]);
    expect(seen).to.deep.equal(['outer', 'outer', undefined]);
    expect(bound(7)).to.deep.equal([7, 'inner']);
    expect(manager.active()).to.equal(ROOT_CONTEXT);
  });
});
