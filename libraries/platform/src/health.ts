/** A dependency check: resolves when the dependency answers. */
export type Check = () => Promise<unknown>;

export interface Readiness {
  /** Whether every gating check passed. */
  up: boolean;
  /** UP or DOWN by dependency, gating and reported alike, and `config`. */
  checks: Record<string, string>;
}

/**
 * Consul's check of every instance, Prometheus and compose's healthcheck all ask /health/ready;
 * one round of dependency probes answers every ask within this window (and every ask made while
 * it runs), so readiness costs one query per dependency a second however often it is asked.
 */
const READINESS_REUSE_MS = 1000;

/** The last result of `produce`, reused while it runs and for `reuseMs` after it settled. */
function sharedFor<T>(reuseMs: number, produce: () => Promise<T>): () => Promise<T> {
  let current: Promise<T> | undefined;
  let staleAt = Infinity;
  return () => {
    if (!current || Date.now() >= staleAt) {
      const next = produce();
      current = next;
      staleAt = Infinity;
      void next
        .finally(() => {
          if (current === next) staleAt = Date.now() + reuseMs;
        })
        .catch(() => {});
    }
    return current;
  };
}

/** UP when `check` settles within `deadlineMs`, DOWN when it fails or is late. */
async function probe(check: Check, deadlineMs: number): Promise<'UP' | 'DOWN'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([check(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), deadlineMs)))]);
    return 'UP';
  } catch {
    return 'DOWN';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A service's /health/ready: every `readiness` check must pass; `reported` ones are shown without
 * failing it. The probe deadline is read at each round (a refresh may change it). Not shorter than
 * about 80% of Consul's check timeout: after an event loop stalled past the deadline, its timer
 * runs before the dependency's answer is read (timers come before I/O in a loop turn), so a
 * healthy dependency would count as down.
 */
export function readinessOf(parts: { readiness?: Record<string, Check>; reported?: Record<string, Check> }, deadlineMs: () => number): () => Promise<Readiness> {
  const gating = Object.entries(parts.readiness ?? {});
  const all = [...gating, ...Object.entries(parts.reported ?? {})];
  return sharedFor(READINESS_REUSE_MS, async () => {
    const deadline = deadlineMs();
    const states = await Promise.all(all.map(([, check]) => probe(check, deadline)));
    const checks: Record<string, string> = {};
    all.forEach(([name], i) => (checks[name] = states[i]));
    // A config that loaded and validated is what `config` means here: once booted, a service
    // keeps serving with it when the config server goes away.
    checks.config = 'UP';
    return { up: states.slice(0, gating.length).every((s) => s === 'UP'), checks };
  });
}
