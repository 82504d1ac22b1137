import { expect } from 'chai';
import { TickBatches } from '../src';

describe('tick batches: the calls of one event-loop turn as one', () => {
  it('when calls are made in one turn, then one send carries them in order and each gets its own answer', async () => {
    const sent: number[][] = [];
    const batches = new TickBatches<number, string>(async (inputs) => {
      sent.push(inputs);
      return inputs.map((n) => `#${n}`);
    }, 4);
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => batches.take(n)));
    expect(answers).to.deep.equal(['#1', '#2', '#3', '#4', '#5', '#6']);
    // A full batch leaves at once; the rest at the end of the turn.
    expect(sent).to.deep.equal([
      [1, 2, 3, 4],
      [5, 6],
    ]);
    await batches.take(7);
    expect(sent.at(-1)).to.deep.equal([7]);
  });

  it('when a send fails or throws, then every call of its batch is refused and the next batch is sent', async () => {
    let calls = 0;
    const batches = new TickBatches<number, number>(async (inputs) => {
      calls++;
      if (calls === 1) throw new Error('redis down');
      return inputs;
    });
    const refused = await Promise.allSettled([batches.take(1), batches.take(2)]);
    expect(refused.map((r) => r.status)).to.deep.equal(['rejected', 'rejected']);
    expect(await batches.take(3)).to.equal(3);
    const throwing = new TickBatches<number, number>(() => {
      throw new Error('sync');
    });
    expect((await Promise.allSettled([throwing.take(1)]))[0].status).to.equal('rejected');
  });
});
