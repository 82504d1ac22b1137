import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Reads config files from a git repository at a label (branch, tag or commit), never the work tree. */
export class GitConfigRepository {
  // Files at a commit never change, so they are cached by commit id.
  private readonly files = new Map<string, Map<string, string | undefined>>();

  constructor(
    private readonly repoDir: string,
    private readonly searchPath: string,
  ) {}

  /** The commit a label points at, or undefined when git does not know the label. */
  async resolve(label: string): Promise<string | undefined> {
    if (!/^[\w./-]+$/.test(label) || label.includes('..')) return undefined;
    try {
      const { stdout } = await run('git', ['-C', this.repoDir, 'rev-parse', '--verify', '--quiet', `${label}^{commit}`]);
      return stdout.trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** Every file of the search path at a commit, read in one `git archive`-free pass. */
  async snapshot(commit: string): Promise<Map<string, string | undefined>> {
    const cached = this.files.get(commit);
    if (cached) return cached;
    const { stdout } = await run('git', ['-C', this.repoDir, 'ls-tree', '--name-only', commit, `${this.searchPath}/`]);
    const files = new Map<string, string | undefined>();
    for (const entry of stdout.split('\n').filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))) {
      const { stdout: text } = await run('git', ['-C', this.repoDir, 'show', `${commit}:${entry}`], { maxBuffer: 4 * 1024 * 1024 });
      files.set(entry.slice(this.searchPath.length + 1), text);
    }
    this.files.set(commit, files);
    return files;
  }
}
