import { expect } from 'chai';
import type { Answer } from '../src/answer-contract';
import { check, type Holdings } from '../src/set-checker';

// The set checker's judgement of users' stories against what they hold, story by story.
const told = (...answers: Array<[number, string?]>): Answer[] => answers.map(([status, code], i) => ({ status, code, sentAt: 1_000 * i, ms: 10 }));

function judge(answers: Answer[], rows: number, deadLettered = false) {
  const held: Holdings = { quantity: 10, rows: new Map(rows > 0 ? [[1, rows]] : []), deadLettered: new Set(deadLettered ? [1] : []), issuedQuantity: rows, reconciliationConsistent: true };
  return check([{ userId: 1, answers }], held);
}

describe('the set checker', () => {
  it('when a user told 202 holds one row, then nothing is a lie', () => {
    const v = judge(told([202]), 1);
    expect([v.stated, v.lies, v.violations]).to.deep.equal([1, 0, []]);
  });

  it('when a user told 202 holds no row, then the 202 is a lie and a loss', () => {
    const v = judge(told([202]), 0);
    expect([v.lies, v.lost]).to.deep.equal([1, 1]);
  });

  it('when a user told 202 was dead-lettered, then the 202 is a lie', () => {
    const v = judge(told([202]), 0, true);
    expect([v.lies, v.deadLettered202]).to.deep.equal([1, 1]);
  });

  it('when a 504 is followed by SOLD_OUT and the user holds a row, then SOLD_OUT is a lie', () => {
    const v = judge(told([504, 'ISSUE_OUTCOME_UNKNOWN'], [409, 'SOLD_OUT']), 1);
    expect([v.stated, v.lies, v.gatewayTimeouts, v.invented]).to.deep.equal([1, 1, 1, 0]);
    expect(v.liars[0].answers).to.match(/^504 ISSUE_OUTCOME_UNKNOWN at .*, 409 SOLD_OUT at /);
  });

  it('when a 504 is followed by ALREADY_ISSUED and the user holds a row, then nothing is a lie', () => {
    const v = judge(told([504], [409, 'ALREADY_ISSUED']), 1);
    expect([v.stated, v.lies]).to.deep.equal([1, 0]);
  });

  it('when a 202 is followed by SOLD_OUT, then one of them is a lie whatever the user holds', () => {
    expect(judge(told([202], [409, 'SOLD_OUT']), 1).lies).to.equal(1);
    expect(judge(told([202], [409, 'SOLD_OUT']), 0).lies).to.equal(1);
  });

  it('when a user was told SOLD_OUT and holds a row, then the SOLD_OUT is a lie and the row invented', () => {
    const v = judge(told([409, 'SOLD_OUT']), 1);
    expect([v.lies, v.invented]).to.deep.equal([1, 1]);
  });

  it('when every answer was 503 and the user holds a row, then a 503 lied, once', () => {
    const v = judge(told([503], [503], [503]), 1);
    expect([v.stated, v.unstated, v.open, v.lies, v.invented]).to.deep.equal([0, 1, 0, 1, 1]);
  });

  it('when a 503 is followed by a dead connection, then a row or none is no lie: the outcome is open', () => {
    for (const rows of [0, 1]) {
      const v = judge(told([503], [0]), rows);
      expect([v.unstated, v.open, v.openIssued, v.lies, v.deadConnections]).to.deep.equal([1, 1, rows, 0, 1]);
    }
  });

  it('when a 504 is followed by a 503 and the user holds a row, then the 504 claimed it: no lie', () => {
    const v = judge(told([504], [503]), 1);
    expect([v.lies, v.invented, v.openIssued]).to.deep.equal([0, 0, 1]);
  });

  it('when a user holds a row and was only refused before any claim (401), then the row is invented but no answer lied', () => {
    const v = judge(told([401]), 1);
    expect([v.stated, v.lies, v.invented]).to.deep.equal([0, 0, 1]);
  });
});
