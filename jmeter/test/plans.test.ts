import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { REPO_ROOT } from '@coupon-rush/platform';
import { jmeterProperties, parseOptions, type Plan } from '../src/options';

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, 'jmeter', file), 'utf8');

/** Every element of a JMX by its tag, with its typed properties by name (stringProp, boolProp, intProp). */
function elements(xml: string): Record<string, Array<Record<string, string>>> {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, isArray: () => true });
  const found: Record<string, Array<Record<string, string>>> = {};
  const visit = (node: any) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    for (const [tag, children] of Object.entries<any>(node)) {
      for (const el of Array.isArray(children) ? children : [children]) {
        if (el && typeof el === 'object' && el.testclass) {
          const props: Record<string, string> = {};
          for (const kind of ['stringProp', 'boolProp', 'intProp']) for (const p of el[kind] ?? []) props[p.name] = p['#text'] ?? '';
          (found[tag] ??= []).push(props);
        }
        visit(el);
      }
    }
  };
  visit(parser.parse(xml));
  return found;
}

const propertiesRead = (xml: string) => new Map([...xml.matchAll(/\$\{__P\((\w+),([^)]*)\)\}/g)].map((m) => [m[1], m[2]]));

describe('JMeter plans', () => {
  for (const plan of ['rush', 'steady'] as Plan[]) {
    const xml = read(`${plan}.jmx`);

    it(`when ${plan}.jmx is parsed, then it is well-formed and POSTs the issue path through the gateway with the CSV user's token, passing only 202 or 409`, () => {
      expect(XMLValidator.validate(xml)).to.equal(true);
      const el = elements(xml);
      expect(el.HTTPSamplerProxy).to.have.length(2);
      const [warmUp, issue] = el.HTTPSamplerProxy;
      expect(warmUp).to.include({ 'HTTPSampler.method': 'GET', 'HTTPSampler.path': '/health/live' });
      // The runner summarises the samples labelled issue only.
      expect(xml).to.contain('testclass="HTTPSamplerProxy" testname="issue"');
      expect(issue).to.include({
        'HTTPSampler.method': 'POST',
        'HTTPSampler.path': '/api/coupons/${__P(couponId,1)}/issues',
        'HTTPSampler.domain': '${__P(host,127.0.0.1)}',
        'HTTPSampler.port': '${__P(port,8080)}',
      });
      expect(xml).to.match(/<stringProp name="Header.name">Authorization<\/stringProp>\s*<stringProp name="Header.value">Bearer \$\{token\}<\/stringProp>/);
      expect(el.CSVDataSet[0]).to.include({ variableNames: 'userId,token', shareMode: 'shareMode.all', delimiter: ',', ignoreFirstLine: 'false' });
      const assertion = el.ResponseAssertion[0];
      // 8 (equals) | 32 (or): the response code equals one of the strings.
      expect(assertion).to.include({ 'Assertion.test_field': 'Assertion.response_code', 'Assertion.test_type': '40', 'Assertion.assume_success': 'true' });
      expect([...xml.matchAll(/<collectionProp name="Asserion.test_strings">([\s\S]*?)<\/collectionProp>/g)][0][1].match(/>(\d+)</g)).to.deep.equal(['>202<', '>409<']);
      expect(el.RegexExtractor[0]).to.include({ 'RegexExtractor.refname': 'problemCode', 'RegexExtractor.default_empty_value': 'true' });
    });

    it(`when npm run jmeter runs ${plan}, then it passes every property the plan reads and the plan's defaults are the runner's`, () => {
      const defaults = parseOptions(['--plan', plan])!;
      const passed = jmeterProperties(defaults, 1, 'results/tokens.csv');
      const read = propertiesRead(xml);
      expect([...read.keys()].sort()).to.deep.equal(Object.keys(passed).sort());
      for (const [name, fallback] of read) if (name !== 'couponId') expect(fallback, name).to.equal(passed[name]);
    });
  }

  it("when the rush plan is read, then it is the seeds' plan: 15,000 threads, 20 s ramp-up, one loop, one token per thread never reused", () => {
    const el = elements(read('rush.jmx'));
    expect(el.ThreadGroup[0]).to.include({ 'ThreadGroup.num_threads': '${__P(threads,15000)}', 'ThreadGroup.ramp_time': '${__P(rampup,20)}', 'ThreadGroup.scheduler': 'false' });
    expect(read('rush.jmx')).to.match(/<stringProp name="LoopController.loops">1<\/stringProp>/);
    expect(el.CSVDataSet[0]).to.include({ recycle: 'false', stopThread: 'true' });
  });

  it('when the steady plan is read, then a fixed group runs for a bounded duration paced by a shared Constant Throughput Timer', () => {
    const xml = read('steady.jmx');
    const el = elements(xml);
    expect(el.ThreadGroup[0]).to.include({ 'ThreadGroup.num_threads': '${__P(threads,50)}', 'ThreadGroup.scheduler': 'true', 'ThreadGroup.duration': '${__P(duration,30)}' });
    expect(xml).to.match(/<stringProp name="LoopController.loops">-1<\/stringProp>/);
    // calcMode 4: all active threads in this group, on one shared schedule; the timer counts per minute.
    expect(el.ConstantThroughputTimer[0]).to.include({ calcMode: '4', throughput: '${__jexl3(${__P(rate,200)} * 60)}' });
    expect(el.CSVDataSet[0]).to.include({ recycle: 'true', stopThread: 'false' });
  });

  it('when queue.jmx is parsed, then each user joins, polls after the wait the server set and claims with its pass through the gateway, bounded by its patience, without scripting', () => {
    const xml = read('queue.jmx');
    expect(XMLValidator.validate(xml)).to.equal(true);
    const el = elements(xml);
    const samplers = el.HTTPSamplerProxy.map((x) => [x['HTTPSampler.method'], x['HTTPSampler.path'], x['HTTPSampler.domain'], x['HTTPSampler.port']]);
    expect(samplers).to.deep.equal([
      ['GET', '/health/live', '${__P(host,127.0.0.1)}', '${__P(port,8080)}'],
      ['POST', '/api/coupons/${__P(couponId,1)}/queue', '${__P(host,127.0.0.1)}', '${__P(port,8080)}'],
      ['GET', '/api/coupons/${__P(couponId,1)}/queue', '${__P(host,127.0.0.1)}', '${__P(port,8080)}'],
      ['POST', '/api/coupons/${__P(couponId,1)}/issues', '${__P(host,127.0.0.1)}', '${__P(port,8080)}'],
    ]);
    for (const label of ['join', 'poll', 'claim']) expect(xml).to.contain(`testclass="HTTPSamplerProxy" testname="${label}"`);
    expect(xml).to.match(/<stringProp name="Header.name">X-Queue-Pass<\/stringProp>\s*<stringProp name="Header.value">\$\{pass\}<\/stringProp>/);
    expect(el.ThreadGroup[0]).to.include({ 'ThreadGroup.num_threads': '${__P(threads,2000)}', 'ThreadGroup.ramp_time': '${__P(rampup,5)}' });
    expect(el.CSVDataSet[0]).to.include({ variableNames: 'userId,token', recycle: 'false', stopThread: 'true' });
    // Every step waits what the last answer said (Retry-After, pollAfterMs or nothing), read by extractors: no scripting.
    const wait = '${__jexl3(${lastCode} == 429 || ${lastCode} == 503 ? ${retryAfter} * 1000 : ("${problemCode}" == "WAITING" ? ${pollAfterMs} : 0))}';
    expect(el.ConstantTimer.map((t) => t['ConstantTimer.delay'])).to.deep.equal([wait, wait, wait]);
    expect(el.JSR223PostProcessor).to.equal(undefined);
    const extracted = el.RegexExtractor.map((r) => `${r['RegexExtractor.refname']}<${r['RegexExtractor.useHeaders']}`);
    expect(extracted.slice(0, 6)).to.deep.equal(['lastCode<code', 'lastKind<URL', 'problemCode<false', 'pollAfterMs<false', 'retryAfter<true', 'pass<false']);
    // The claim keeps the pass it was sent with (a 429/503 claim is asked again with it).
    expect(extracted.slice(12)).to.deep.equal(['lastCode<code', 'lastKind<URL', 'problemCode<false', 'pollAfterMs<false', 'retryAfter<true']);
    expect(el.UserParameters[0]).to.include({ 'UserParameters.per_iteration': 'false' });
    expect(xml).to.contain('${__longSum(${__time()},${__P(patience,120)}000)}');
    // One step a turn, chosen by the last answer, until a final answer or the user's patience is spent.
    const [join, poll, claim] = el.IfController.map((c) => c['IfController.condition']);
    expect(join).to.equal('${__jexl3("${lastKind}" == "" || ("${lastKind}" == "queue" && (${lastCode} == 429 || ${lastCode} == 503)) || "${problemCode}" == "EXPIRED")}');
    expect(poll).to.equal('${__jexl3("${lastKind}" == "queue" && ${lastCode} == 200 && "${problemCode}" == "WAITING")}');
    expect(claim).to.equal(
      '${__jexl3(("${lastKind}" == "queue" && ${lastCode} == 200 && "${problemCode}" == "ADMITTED") || ("${lastKind}" == "issues" && (${lastCode} == 429 || ${lastCode} == 503)))}',
    );
    expect(el.WhileController[0]['WhileController.condition']).to.contain('${__time()} < ${giveUpAt})}');
    const codes = [...xml.matchAll(/<collectionProp name="Asserion.test_strings">([\s\S]*?)<\/collectionProp>/g)].map((m) => m[1].match(/>(\d+)</g)?.join(''));
    expect(codes).to.deep.equal(['>200<>409<', '>200<>409<', '>202<>409<']);
  });

  it("when npm run jmeter runs queue, then it passes every property the plan reads and the plan's defaults are the runner's", () => {
    const xml = read('queue.jmx');
    const passed = jmeterProperties(parseOptions(['--plan', 'queue'])!, 1, 'results/tokens.csv');
    const readProps = propertiesRead(xml);
    expect([...readProps.keys()].sort()).to.deep.equal(Object.keys(passed).sort());
    for (const [name, fallback] of readProps) if (name !== 'couponId') expect(fallback, name).to.equal(passed[name]);
  });

  it('when queue options are given to another plan, or threads and users disagree, then the runner refuses them', () => {
    expect(parseOptions(['--plan', 'queue', '--threads', '300', '--admit-per-second', '30'])).to.include({ users: 300, threads: 300, admitPerSecond: 30, quantity: 200, patience: 120 });
    expect(() => parseOptions(['--plan', 'rush', '--admit-per-second', '30'])).to.throw('--plan queue');
    expect(() => parseOptions(['--plan', 'queue', '--users', '10', '--threads', '20'])).to.throw('one user per thread');
  });

  it('when the JTL settings are read, then each sample carries the CSV user and the problem code the runner counts by', () => {
    const props = Object.fromEntries(
      read('results.properties')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split('=') as [string, string]),
    );
    expect(props).to.include({ 'jmeter.save.saveservice.output_format': 'csv', 'jmeter.save.saveservice.timestamp_format': 'ms', sample_variables: 'userId,problemCode' });
  });
});
