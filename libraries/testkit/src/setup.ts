import crypto from 'node:crypto';

// Loaded by mocha before any test. The components' credentials come from the run's secrets
// (npm test and npm run test:only load them, as npm start does); without them nothing could
// connect, so the run stops here with the reason instead of failing test by test.
const missing = ['DB_PASSWORD', 'REDIS_PASSWORD', 'KAFKA_PASSWORD', 'CONSUL_MANAGEMENT_TOKEN', 'INTERNAL_TOKEN_SECRET'].filter((name) => !process.env[name]);
if (missing.length > 0) {
  throw new Error(`missing ${missing.join(', ')}: run the suite with npm test or npm run test:only (they load .run/secrets.env)`);
}
// Each run signs its users' tokens with its own secret unless the environment says otherwise.
process.env.JWT_SECRET ||= crypto.randomBytes(32).toString('hex');
process.env.LOG_LEVEL ||= 'error';
