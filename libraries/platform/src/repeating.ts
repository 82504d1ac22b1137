import { untraced } from './tracing';

/** A job started by repeatEvery. */
export interface Repeating {
  /** No pass starts after this; resolves once a running pass ends, or after `waitMs` when given. */
  stop(waitMs?: number): Promise<void>;
}

/**
 * Runs `pass` every `intervalMs()` after the previous pass ended, outside any trace (a service's
 * bookkeeping is not a request, and would make a one-span trace each time). A pass handles its own
 * failures; one that throws anyway is dropped and the next runs on time. The timer never keeps the
 * process alive.
 */
export function repeatEvery(intervalMs: () => number, pass: () => Promise<unknown>): Repeating {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = untraced(pass)
        .catch(() => undefined)
        .finally(tick);
    }, intervalMs());
    timer.unref();
  };
  tick();
  return {
    async stop(waitMs) {
      stopped = true;
      clearTimeout(timer);
      if (waitMs === undefined) return void (await running);
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise((r) => (timeout = setTimeout(r, waitMs)))]);
      clearTimeout(timeout);
    },
  };
}
