#!/usr/bin/env bash
# npm run faults [-- --quantity N --users N --rush-seconds S --rounds N --only a,b --short]
# A rush with a fault injected mid-rush into components of this run's own (own MariaDB, Redis with
# Sentinels and Kafka cluster on their own ports), checked user by user. Exits non-zero on any
# violation. Stops everything it started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Node reads the options from the sources as they are (faults/src/command-line.ts, parseArgs)
# before anything is installed or built: --help answers at once, a bad option fails at once. The
# file is ESM syntax in a CommonJS package (tsc compiles it to CommonJS), which Node warns about.
usage=$(node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON faults/src/command-line.ts "$@")
[ -z "$usage" ] || { printf '%s\n' "$usage"; exit 0; }
ensure_node_modules
build
load_secrets
node faults/dist/src/main.js "$@"
