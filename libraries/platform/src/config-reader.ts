const DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration of Go's syntax, as `ConfigReader.duration` accepts it. */
export function durationMillis(duration: string): number {
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(amount) * DURATION_UNITS_MS[unit];
  return total;
}

/**
 * Typed access to a raw config object that collects every problem and fails once, at boot, with
 * the full list: bad config stops a service before it takes traffic.
 */
export class ConfigReader {
  private readonly problems: string[] = [];

  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly source: string,
  ) {}

  private get(path: string): unknown {
    return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), this.raw);
  }

  private fail<T>(path: string, expected: string, fallback: T): T {
    this.problems.push(`${path}: expected ${expected}, got ${JSON.stringify(this.get(path))}`);
    return fallback;
  }

  // No fallbacks: every default is written once, in config-repo/, and a missing value is a problem.
  string(path: string): string {
    const v = this.get(path);
    return typeof v === 'string' && v.length > 0 ? v : this.fail(path, 'a non-empty string', '');
  }

  optionalString(path: string): string | undefined {
    const v = this.get(path);
    return v === undefined || v === null || v === '' ? undefined : this.string(path);
  }

  number(path: string, { min = -Infinity, max = Infinity } = {}): number {
    const raw = this.get(path);
    const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : this.fail(path, `a number in [${min}, ${max}]`, 0);
  }

  optionalNumber(path: string, range: { min?: number; max?: number } = {}): number | undefined {
    const v = this.get(path);
    return v === undefined || v === null || v === '' ? undefined : this.number(path, range);
  }

  /** A duration in Go's syntax (`500ms`, `5s`, `1m30s`), the form Consul reads. */
  duration(path: string): string {
    const v = this.get(path);
    return typeof v === 'string' && /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v) ? v : this.fail(path, 'a duration such as 500ms, 5s or 1m', '');
  }

  boolean(path: string): boolean {
    const v = this.get(path);
    if (v === 'true' || v === 'false') return v === 'true';
    return typeof v === 'boolean' ? v : this.fail(path, 'a boolean', false);
  }

  /** Each entry read by `item`, which returns undefined for an invalid one or throws with the reason. */
  list<T>(path: string, item: (value: unknown, at: string) => T | undefined): T[] {
    const v = this.get(path);
    if (!Array.isArray(v)) return this.fail(path, 'a list', []);
    return v.flatMap((entry, i) => {
      let parsed: T | undefined;
      try {
        parsed = item(entry, `${path}[${i}]`);
      } catch (err) {
        this.problems.push(`${path}[${i}]: ${(err as Error).message}`);
        return [];
      }
      if (parsed === undefined) {
        this.problems.push(`${path}[${i}]: invalid entry ${JSON.stringify(entry)}`);
        return [];
      }
      return [parsed];
    });
  }

  /** The entries of a map (an object of named entries); absent is empty. */
  optionalMap(path: string): Record<string, unknown> {
    const v = this.get(path);
    if (v === undefined || v === null) return {};
    return typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : this.fail(path, 'a map of named entries', {});
  }

  /** A problem found by the caller's own check, reported with the others. */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Like `list`, but an absent value is an empty list (so is null: how an empty YAML list comes out of the property sources). */
  optionalList<T>(path: string, item: (value: unknown, at: string) => T | undefined): T[] {
    const v = this.get(path);
    return v === undefined || v === null ? [] : this.list(path, item);
  }

  /** Throws with every problem found, or returns the value built from this reader. */
  done<T>(value: T): T {
    if (this.problems.length > 0) throw new Error(`invalid configuration (${this.source}):\n  - ${this.problems.join('\n  - ')}`);
    return value;
  }
}
