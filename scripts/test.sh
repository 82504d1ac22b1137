#!/usr/bin/env bash
# npm test: the same preparation as npm start, then the whole mocha suite. Tests start their own
# service instances on ephemeral ports with their own database, topics and key prefixes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
prepare
npx mocha "$@"
