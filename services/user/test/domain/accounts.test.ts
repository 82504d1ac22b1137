import path from 'node:path';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { openDatabase, type RunningService } from '@coupon-rush/platform';
import { http, isolatedOverrides, RUN_ID } from '@coupon-rush/testkit';
import type { UserServiceConfig } from '../../src/config';
import { insertUser } from '../../src/data/user-repository';
import { start as startUser } from '../../src/main';

/**
 * Hashes written by bcryptjs before the switch to native bcrypt, kept as they were stored:
 * bcryptjs 2.x wrote the `$2a$` prefix, 3.x writes `$2b$` (generated once with bcryptjs 3.0.3, the
 * `$2a$` one from a salt given that prefix, as bcryptjs 2.x made them).
 */
const BCRYPTJS_HASHES = {
  $2a$: '$2a$10$6uCcUskP/W9N1BlrOGClTen5YKyzCcq1pCAsggZxkV2izNytn92V6',
  $2b$: '$2b$10$em4EqR5pOVkPxUJ2m7A9K.zJQ2xIrGANafczcUbsIY2RAT0lj/EAi',
};
const BCRYPTJS_PASSWORD = 'signed-up-with-bcryptjs';

describe('user accounts', function () {
  let user: RunningService<UserServiceConfig>;
  let db: Knex;

  before(async () => {
    user = await startUser({ port: 0, configServerUrl: null, overrides: isolatedOverrides({ consul: { register: false } }) });
    db = await openDatabase(user.config().mysql, { directory: path.join(__dirname, '../../src/data/migrations'), ledger: 'knex_migrations_user' });
  });

  after(async () => {
    await db?.destroy();
    await user?.stop();
  });

  const logIn = (email: string, password: string) => http('POST', `${user.url}/users/login`, { body: { email, password } });

  for (const [prefix, hash] of Object.entries(BCRYPTJS_HASHES)) {
    it(`when an account was signed up under bcryptjs (a ${prefix} hash), then its password still logs in and a wrong one does not`, async () => {
      const email = `bcryptjs-${prefix.replace(/\$/g, '')}-${RUN_ID}@example.com`;
      await insertUser(db, email, hash, 'USER');
      const ok = await logIn(email, BCRYPTJS_PASSWORD);
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
      expect(ok.body).to.include({ tokenType: 'Bearer' });
      const wrong = await logIn(email, 'not-the-password');
      expect([wrong.status, wrong.body.code]).to.deep.equal([401, 'BAD_CREDENTIALS']);
    });
  }

  it('when a user signs up, then a bcrypt hash of the configured cost is stored and the password logs in', async () => {
    const email = `native-${RUN_ID}@example.com`;
    expect((await http('POST', `${user.url}/users/signup`, { body: { email, password: 'secret-pass-1' } })).status).to.equal(201);
    const row = await db('users').where({ email }).first();
    expect(row.password_hash).to.match(new RegExp(`^\\$2b\\$${String(user.config().bcryptRounds).padStart(2, '0')}\\$[./A-Za-z0-9]{53}$`));
    expect((await logIn(email, 'secret-pass-1')).status).to.equal(200);
  });

  it('when 32 users sign up at once, then /health/ready answers while their passwords are still being hashed', async () => {
    const done: string[] = [];
    const signUps = Array.from({ length: 32 }, (_, i) =>
      http('POST', `${user.url}/users/signup`, { body: { email: `crowd-${i}-${RUN_ID}@example.com`, password: 'secret-pass-1' } }).then((res) => {
        done.push(`signup ${res.status}`);
      }),
    );
    // Let the 32 requests reach the service and start hashing before readiness is asked.
    await new Promise((r) => setTimeout(r, 20));
    const ready = await http('GET', `${user.url}/health/ready`);
    const finishedBeforeReady = done.length;
    await Promise.all(signUps);
    expect(ready.status).to.equal(200);
    expect(done).to.deep.equal(Array(32).fill('signup 201'));
    // bcryptjs hashed on the event loop: readiness came back only after (nearly) every sign-up.
    expect(finishedBeforeReady, 'sign-ups finished before /health/ready answered').to.be.below(16);
  });
});
