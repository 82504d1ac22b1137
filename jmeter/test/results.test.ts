import { expect } from 'chai';
import { parseCsv, readJtl, summarize, type Sample } from '../src/jtl';
import { claimLateness, verify, verifyQueue } from '../src/verify';

/** A coupon's reconciliation as the API answers it when everything agrees: `quantity` issued and persisted. */
function reconciled(couponId: number, quantity: number) {
  const none = { count: 0, users: [] };
  return {
    couponId,
    totalQuantity: quantity,
    issuedQuantity: quantity,
    redisClaims: quantity,
    redisConfirmed: quantity,
    redisRevoked: 0,
    rows: quantity,
    divergence: 0,
    consistent: true,
    claimsWithoutRow: { ...none, inFlight: none, stranded: none, published: none },
    rowsWithoutClaim: none,
    accepted: quantity,
  };
}

const HEADER =
  'timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect,"userId","problemCode"';
const line = (ts: number, elapsed: number, code: string, success: boolean, userId: number, problem = '', failure = '') =>
  [ts, elapsed, 'issue', code, 'x', 'Flash crowd 1-1', 'text', success, failure, 280, 439, 1, 1, 'http://127.0.0.1:8080/api/coupons/7/issues', elapsed, 0, 1, userId, problem].join(',');

describe('JTL results and the count checks', () => {
  it('when a field is quoted with commas, quotes and line breaks, then it stays one field', () => {
    expect(parseCsv('a,"b,""c""\nd",e\r\nf,g,\n')).to.deep.equal([
      ['a', 'b,"c"\nd', 'e'],
      ['f', 'g', ''],
    ]);
  });

  it('when a JTL is summarised, then throughput spans first start to last end and outcomes are counted by problem code', () => {
    const jtl = [
      HEADER,
      line(1000, 10, '202', true, 1),
      line(1500, 20, '409', true, 2, 'SOLD_OUT'),
      line(2000, 30, '409', true, 3, 'SOLD_OUT'),
      line(2990, 10, '503', false, 4, 'ISSUE_UNAVAILABLE', '"Test failed: code expected to equal /\n\n****** received  : [[[503]]]"'),
    ].join('\n');
    const samples = readJtl(jtl);
    expect(samples[3]).to.include({ label: 'issue', responseCode: '503', success: false, userId: '4', problemCode: 'ISSUE_UNAVAILABLE' });
    const s = summarize(samples);
    expect(s).to.include({ samples: 4, throughputPerSec: 2, averageMs: 17.5, medianMs: 10, p99Ms: 30, maxMs: 30, errors: 1, errorPct: 25, durationMs: 2000 });
    expect(s.outcomes).to.deep.equal({ 202: 1, SOLD_OUT: 2, ISSUE_UNAVAILABLE: 1 });
  });

  describe('verify', () => {
    const sample = (userId: number, code: '202' | '409', problemCode = ''): Sample => ({
      label: 'issue',
      timeStamp: 0,
      elapsed: 1,
      responseCode: code,
      success: true,
      failureMessage: '',
      userId: String(userId),
      problemCode,
    });
    const crowd = [sample(1, '202'), sample(2, '202'), sample(3, '409', 'SOLD_OUT'), sample(4, '409', 'SOLD_OUT')];
    const rec = reconciled(7, 2);
    const o = { plan: 'rush' as const, users: 4, quantity: 2 };

    it('when rows, 202s, server counts and Redis agree and the stock went to the first users, then nothing is reported', () => {
      expect(verify(o, crowd, summarize(crowd), rec, [1, 2])).to.deep.equal([]);
    });

    it('when a row belongs to a user who was refused, then the disagreement is reported even though the counts match', () => {
      expect(verify(o, crowd, summarize(crowd), rec, [1, 3]).join('\n')).to.contain('1 accepted users without a row, 1 rows for users not accepted');
    });

    it('when a user holds two rows, a user got two 202s or a thread never asked, then each is reported', () => {
      const twice = [...crowd.slice(0, 3), sample(1, '202')];
      const problems = verify(o, twice, summarize(twice), { ...rec, accepted: 3 }, [1, 1, 2]).join('\n');
      expect(problems).to.contain('1 users received a second 202');
      expect(problems).to.contain('1 duplicate rows');
      expect(problems).to.contain('4 samples from 3 users, expected one from each of 4');
    });

    it('when a request was answered 503, then the assertion failure and the unexpected outcome are reported', () => {
      const refused = [...crowd.slice(0, 3), { ...sample(4, '409'), responseCode: '503', success: false, problemCode: 'ISSUE_UNAVAILABLE' }];
      const problems = verify(o, refused, summarize(refused), rec, [1, 2]).join('\n');
      expect(problems).to.contain('1 samples failed the 202-or-409 assertion');
      expect(problems).to.contain('unexpected outcomes ISSUE_UNAVAILABLE=1');
    });
  });
  describe('verifyQueue', () => {
    let t = 0;
    const step = (label: string, userId: number, code: string, problemCode = '', success = true): Sample => ({
      label,
      timeStamp: (t += 10),
      elapsed: 1,
      responseCode: code,
      success,
      failureMessage: '',
      userId: String(userId),
      problemCode,
    });
    // Users 1 and 2 are admitted and claim; 3 waits, then hears SOLD_OUT.
    const flow = () => [
      step('join', 1, '200', 'ADMITTED'),
      step('join', 2, '200', 'WAITING'),
      step('join', 3, '200', 'WAITING'),
      step('claim', 1, '202', 'ACCEPTED'),
      step('poll', 2, '200', 'ADMITTED'),
      step('claim', 2, '202', 'ACCEPTED'),
      step('poll', 3, '409', 'SOLD_OUT'),
    ];
    const rec = reconciled(7, 2);
    const o = { users: 3, quantity: 2 };

    it('when every user ends with 202 or SOLD_OUT and the 202s are the rows, then nothing is reported', () => {
      expect(verifyQueue(o, flow(), rec, [1, 2])).to.deep.equal([]);
    });

    it('when a user is still waiting at its last answer, or a poll was answered 503, then both are reported', () => {
      const samples = [...flow().slice(0, 6), step('poll', 3, '200', 'WAITING'), step('poll', 3, '503', 'ISSUE_UNAVAILABLE', false)];
      const problems = verifyQueue(o, samples, rec, [1, 2]).join('\n');
      expect(problems).to.contain('1 poll samples failed their assertion');
      expect(problems).to.contain('unexpected poll outcomes ISSUE_UNAVAILABLE=1');
      expect(problems).to.contain('users without a final 202 or SOLD_OUT, by their last answer: {"poll ISSUE_UNAVAILABLE":1}');
    });

    it('when claims follow their ADMITTED answer, then the gap is JMeter lateness', () => {
      // flow(): user 1's claim starts 29 ms after its ADMITTED join ended (samples 10 ms apart, 1 ms each); user 2's 9 ms after its poll.
      expect(claimLateness(flow())).to.deep.equal({ count: 2, p50Ms: 9, p99Ms: 29, maxMs: 29 });
    });

    it('when a row belongs to a user who never got 202, or a user never joined, then it is reported', () => {
      const problems = verifyQueue({ users: 4, quantity: 2 }, flow(), rec, [1, 3]).join('\n');
      expect(problems).to.contain('3 of 4 users joined');
      expect(problems).to.contain('1 accepted users without a row, 1 rows for users not accepted');
    });
  });
});
