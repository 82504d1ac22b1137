import { asProblem, authHeaders, couponStreamUrl, isAbort, Problem, problemOf, reportSessionEnded } from './api';
import { SseParser } from './sse';
import type { Tick } from './types';

export type StreamStatus = 'live' | 'reconnecting';

export interface StreamHandlers {
  tick(tick: Tick): void;
  status(status: StreamStatus): void;
  /** A failed attempt; retrying says whether the stream will try again. */
  problem(problem: Problem | null, retrying: boolean): void;
}

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 5000;
/** Ticks come about once a second: past this the figures on screen are stale. */
const STALE_MS = 3000;
/** Not even a heartbeat for this long: the connection is dead without having closed, so drop it. */
const SILENT_MS = 15000;

/**
 * Follows a coupon's tick stream until signal aborts: one connection at a time, reconnecting
 * after 1 s, 2 s, 4 s, then every 5 s while it keeps failing, and from 1 s again once ticks flow.
 */
export async function followCoupon(couponId: number, handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
  const parser = new SseParser();
  let retryMs = FIRST_RETRY_MS;
  while (!signal.aborted) {
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal.addEventListener('abort', stop);
    try {
      const headers: Record<string, string> = { ...authHeaders(), accept: 'text/event-stream' };
      if (parser.lastEventId) headers['last-event-id'] = parser.lastEventId;
      const res = await fetch(couponStreamUrl(couponId), { headers, signal: attempt.signal, cache: 'no-store' });
      if (!res.ok || !res.body) {
        const problem = await problemOf(res);
        if (problem.endsSession) return reportSessionEnded(problem);
        // A 4xx (unknown coupon, bad id) would answer the same again; 408/429 and 5xx may not.
        const retrying = problem.status >= 500 || problem.status === 408 || problem.status === 429;
        handlers.problem(problem, retrying);
        if (!retrying) return;
      } else {
        await read(res.body, parser, attempt, {
          ...handlers,
          tick(tick) {
            retryMs = FIRST_RETRY_MS;
            handlers.problem(null, true);
            handlers.tick(tick);
          },
        });
      }
    } catch (err) {
      if (signal.aborted) return;
      // An attempt the silence watchdog aborted is a dropped stream like any other.
      if (!isAbort(err)) handlers.problem(asProblem(err), true);
    } finally {
      signal.removeEventListener('abort', stop);
    }
    handlers.status('reconnecting');
    await sleep(retryMs, signal);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }
}

async function read(body: ReadableStream<BufferSource>, parser: SseParser, attempt: AbortController, handlers: StreamHandlers): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let stale = 0;
  let silent = 0;
  const heard = () => {
    clearTimeout(silent);
    silent = window.setTimeout(() => attempt.abort(), SILENT_MS);
  };
  heard();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      heard();
      for (const event of parser.push(value)) {
        if (event.type !== 'tick') continue;
        clearTimeout(stale);
        stale = window.setTimeout(() => handlers.status('reconnecting'), STALE_MS);
        let tick: Tick;
        try {
          tick = JSON.parse(event.data) as Tick;
        } catch {
          // One garbled tick is not worth dropping a healthy stream for.
          handlers.problem(new Problem(0, 'BAD_TICK', 'A tick could not be read'), true);
          continue;
        }
        // Figures first, then "live": whoever sees "live" sees the figures of that tick.
        handlers.tick(tick);
        handlers.status('live');
      }
    }
  } finally {
    clearTimeout(stale);
    clearTimeout(silent);
    reader.releaseLock();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
