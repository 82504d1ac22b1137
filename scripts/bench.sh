#!/usr/bin/env bash
# npm run bench [-- --users N --quantity N --connections N --duration S --threads N --rounds N
#                   --target gateway,console,floor,direct,issue-floor,redeem --workload claims,refusals --gateway URL --direct URL]
# npm run bench -- --target queue [--users N --quantity N --burst-seconds S --admit-per-second N|auto --burst queued,direct ...]
# Starts the platform if it is not running (as npm start does), then drives a flash crowd with wrk
# (the queue target: with its own Node generator, bench/src/queue-burst.ts).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# wrk (C, from Debian) leaves more CPU to the platform than a Node load generator on 2 cores.
apt_install wrk
# --target console opens the live console in Debian's Chromium during its load.
[[ " $* " == *console* ]] && apt_install chromium
bash "$ROOT_DIR/scripts/start.sh" >/dev/null
platform_secrets
node bench/dist/src/main.js "$@"
