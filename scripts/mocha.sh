#!/usr/bin/env bash
# npm run test:only [-- mocha args]: the suite (or the files named) without installing, building or
# starting components (npm test does those), on the same Node.js as every other script.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_secrets
npx mocha "$@"
