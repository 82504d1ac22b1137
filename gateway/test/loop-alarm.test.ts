import { expect } from 'chai';
import { LoopDelayAlarm } from '../src/domain/loop-alarm';

describe('the event-loop delay alarm that pauses the door’s admissions', () => {
  const busyFor = (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until);
  };
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('when the loop is blocked past the threshold, then the alarm is up after the window, and down once the loop runs on time', async () => {
    const changes: boolean[] = [];
    const alarm = new LoopDelayAlarm(
      () => 20,
      100,
      (up) => changes.push(up),
    );
    try {
      await tick(250);
      expect(alarm.raised()).to.equal(false);
      for (let i = 0; i < 4; i++) {
        busyFor(60);
        await tick(1);
      }
      // The window read overdue right after a stall holds it.
      await tick(5);
      expect(alarm.raised(), 'after 60 ms stalls').to.equal(true);
      await tick(350);
      expect(alarm.raised(), 'after a quiet spell').to.equal(false);
      expect(changes).to.deep.equal([true, false]);
    } finally {
      alarm.stop();
    }
  });

  it('when the threshold is 0, then the alarm never rises', async () => {
    const alarm = new LoopDelayAlarm(() => 0, 50);
    try {
      busyFor(120);
      await tick(120);
      expect(alarm.raised()).to.equal(false);
    } finally {
      alarm.stop();
    }
  });
});
