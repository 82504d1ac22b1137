import crypto from 'node:crypto';

// Loaded by mocha before any test: each run signs with its own secret and reaches MariaDB with
// the account infra/ provisions, unless the environment already says otherwise.
process.env.JWT_SECRET ||= crypto.randomBytes(32).toString('hex');
process.env.DB_PASSWORD ||= 'coupon';
process.env.LOG_LEVEL ||= 'error';
