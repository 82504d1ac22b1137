#!/usr/bin/env bash
# npm run faults [-- --quantity N --users N --rush-seconds S --rounds N --only a,b --short]
# A rush with a fault injected mid-rush into components of this run's own (own MariaDB, Redis with
# Sentinels and Kafka cluster on their own ports), checked user by user. Exits non-zero on any
# violation. Stops everything it started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_node_modules
build
load_secrets
node faults/dist/src/main.js "$@"
