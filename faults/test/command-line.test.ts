import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '@coupon-rush/platform';
import { FAULT_NAMES, parseFaultCommand } from '../src/command-line';
import { FAULTS } from '../src';

describe('npm run faults, its command line', () => {
  it('when the catalogue and the names the usage lists are compared, then they are the same faults in the same order', () => {
    expect(FAULTS.map((f) => f.name)).to.deep.equal([...FAULT_NAMES]);
  });

  it('when options are given, then they are read as numbers and names; --help asks for the usage; a bad one says what is wrong', () => {
    expect(parseFaultCommand(['--quantity', '40', '--users', '160', '--only', 'mariadb-kill,network-cut', '--short'])).to.include({ quantity: 40, users: 160, short: true });
    expect(parseFaultCommand([])).to.deep.equal({ quantity: 500, users: 2000, rushSeconds: 20, concurrency: 64, rounds: 1, only: [], short: false });
    expect(parseFaultCommand(['--help'])).to.equal(undefined);
    expect(() => parseFaultCommand(['--users', '10', '--quantity', '10'])).to.throw('--users must exceed --quantity');
    expect(() => parseFaultCommand(['--nope'])).to.throw(/Unknown option '--nope'/);
  });

  it('when scripts/faults.sh is asked for --help, then Node answers from the sources at once, before anything is installed or built', () => {
    const started = Date.now();
    const usage = execFileSync('bash', [path.join(REPO_ROOT, 'scripts/faults.sh'), '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(usage).to.match(/^npm run faults \[--/);
    expect(usage).to.include(FAULT_NAMES.join(', '));
    expect(Date.now() - started).to.be.below(3000);
  });
});
