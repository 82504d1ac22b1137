#!/usr/bin/env bash
# npm test: the typed lint, the same preparation as npm start, then the whole mocha suite. Tests start
# their own service instances on ephemeral ports with their own database, topics and key prefixes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# The typed lint first (eslint.config.mjs; it needs the node modules, not the build or components),
# so that a floating or misused promise, or an unformatted file, fails the run before anything starts.
ensure_node_modules
npx eslint . || die "eslint found problems (npm run lint:eslint runs it alone)"
npx prettier --check . || die "prettier: the files above are not formatted (npx prettier --write . formats them)"
prepare
# The strategy lab's test drives its load with wrk, as npm run bench does; the walk-throughs'
# walk-through test runs its curl and jq commands as written.
apt_install wrk curl jq
# The trace UI and console tests drive Debian's Chromium; where it cannot be installed they say so and skip.
( apt_install chromium ) || say "chromium could not be installed: the trace UI and console browser tests will skip"
npx mocha "$@"
