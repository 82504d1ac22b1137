import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';

describe('the kafkajs idle-loop fix (platform kafka.ts)', () => {
  it('when the platform is imported, then kafkajs is left as it is; once the platform makes a Kafka client, then an idle queue no longer re-arms its check', () => {
    // A process of its own: the suite's other files have made clients already.
    const platform = path.join(__dirname, '../src/index.js');
    const script = `
      const platform = require(${JSON.stringify(platform)});
      const RequestQueue = require('kafkajs/src/network/requestQueue');
      const before = RequestQueue.prototype.__idleChecksStopped === true;
      platform.kafkaClient({ brokers: ['127.0.0.1:9'], addressMap: new Map(), replicationFactor: 1, topicPrefix: '', username: 'app', password: 'unused' }, 'probe');
      const after = RequestQueue.prototype.__idleChecksStopped === true;
      let rearmed = 0;
      const idle = Object.create(RequestQueue.prototype, { pending: { value: [] } });
      idle.checkPendingRequests = () => {};
      global.setTimeout = ((set) => (fn, ms) => { rearmed++; return set(fn, ms); })(global.setTimeout);
      idle.scheduleCheckPendingRequests();
      console.log(JSON.stringify({ before, after, rearmed }));`;
    const run = spawnSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '../../../..'), encoding: 'utf8', timeout: 20_000 });
    expect(run.status, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).to.deep.equal({ before: false, after: true, rearmed: 0 });
  });
});
