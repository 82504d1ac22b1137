import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';

/** Runs runFromCommandLine in a child process with the given start function's body. */
function runMain(startBody: string): { status: number | null; lines: Array<Record<string, string>> } {
  const runtime = path.join(__dirname, '../src/service-runtime.js');
  const script = `require(${JSON.stringify(runtime)}).runFromCommandLine(async () => { ${startBody} });`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  const lines = child.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  return { status: child.status, lines };
}

describe('a service process (runFromCommandLine)', () => {
  it('when a promise rejects with nobody to handle it, then the process logs it as a JSON line and exits 1', () => {
    const { status, lines } = runMain(`setTimeout(() => Promise.reject(new Error('lost reply')), 10); return new Promise(() => {});`);
    expect(status).to.equal(1);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ level: 'error', message: 'unhandled rejection' });
    expect(lines[0].err).to.match(/lost reply/);
  });

  it('when an exception escapes every handler, then the process logs it as a JSON line and exits 1', () => {
    const { status, lines } = runMain(`setTimeout(() => { throw new Error('boom'); }, 10); return new Promise(() => {});`);
    expect(status).to.equal(1);
    expect(lines[0]).to.include({ level: 'error', message: 'uncaught exception' });
    expect(lines[0].err).to.match(/boom/);
  });

  it('when the service cannot start, then it says so and exits 1', () => {
    const { status, lines } = runMain(`throw new Error('no config');`);
    expect(status).to.equal(1);
    expect(lines[0]).to.include({ level: 'error', message: 'startup failed' });
    expect(lines[0].err).to.match(/no config/);
  });
});
