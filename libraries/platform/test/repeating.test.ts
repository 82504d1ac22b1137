import { expect } from 'chai';
import { repeatEvery } from '../src/repeating';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('platform: a repeating bookkeeping job', () => {
  it('when passes run, then each starts an interval after the last ended, a throwing one does not stop the next, and none starts after stop, which waits for the running one', async () => {
    const started: number[] = [];
    let finished = 0;
    const job = repeatEvery(
      () => 20,
      async () => {
        started.push(Date.now());
        if (started.length === 1) throw new Error('a failing pass');
        await sleep(30);
        finished++;
      },
    );
    await sleep(120);
    await job.stop();
    const count = started.length;
    expect(count).to.be.at.least(2);
    expect(finished, 'stop waited for the pass it found running').to.equal(count - 1);
    for (let i = 1; i < count; i++) expect(started[i] - started[i - 1]).to.be.at.least(i === 1 ? 19 : 49);
    await sleep(60);
    expect(started.length, 'nothing after stop').to.equal(count);
  });

  it('when stop is given a bound, then it does not wait longer for a stuck pass', async () => {
    const job = repeatEvery(
      () => 1,
      () => new Promise(() => {}),
    );
    await sleep(20);
    const before = Date.now();
    await job.stop(50);
    expect(Date.now() - before).to.be.below(1000);
  });
});
