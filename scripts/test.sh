#!/usr/bin/env bash
# npm test: the typed lint, the same preparation as npm start, then the whole mocha suite. Tests start
# their own service instances on ephemeral ports with their own database, topics and key prefixes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# The typed lint first (eslint.config.mjs; it needs the node modules, not the build or components),
# so that a floating or misused promise, or an unformatted file, fails the run before anything starts.
ensure_node_modules
say "lint: eslint (typed, every workspace; about a minute), prettier, declared imports, the API document and its generated types"
progress_begin "eslint"
npx eslint . || die "eslint found problems (npm run lint:eslint runs it alone)"
progress_begin "prettier --check"
npx prettier --check . || die "prettier: the files above are not formatted (npx prettier --write . formats them)"
progress_end
node scripts/check-imports.mjs || die "the imports above are not declared in their workspace's package.json"
# The API document served at /api/docs, against Redocly's recommended rules (redocly.yaml); the
# linter runs offline: no usage telemetry, no update check.
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx redocly lint --format=stylish || die "gateway/openapi.yaml has the problems above (npx redocly lint)"
# The typed client the e2e suites call the API with (libraries/api-client) is generated from that
# document and committed: a document changed without regenerating it would leave the suites
# compiling against the old API.
npm run --silent api:types:check --workspace @coupon-rush/api-client || die "libraries/api-client/src/openapi.ts is stale against gateway/openapi.yaml (npm run api:types regenerates it)"
prepare
# The strategy lab's test drives its load with wrk, as npm run bench does; the walk-through test
# runs the README's and docs' curl and jq commands as written.
apt_install wrk curl jq
# The trace UI and console tests drive Debian's Chromium; where it cannot be installed they say so and skip.
( apt_install chromium ) || say "chromium could not be installed: the trace UI and console browser tests will skip"
npx mocha "$@"
