#!/usr/bin/env bash
# npm run bench [-- --users N --quantity N --connections N --duration S --threads N --rounds N
#                   --target gateway,console,floor,direct,issue-floor,redeem --workload claims,refusals --gateway URL --direct URL]
# npm run bench -- --target queue [--users N --quantity N --burst-seconds S --admit-per-second N|auto --burst queued,direct ...]
# Starts the platform if it is not running (as npm start does), then drives a flash crowd with wrk
# (the queue target: with its own Node generator, bench/src/queue-burst.ts).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# The options are read from the sources as they are (bench/src/command-line.ts, parseArgs) before
# anything is installed, started or built: --help answers at once, a bad option fails at once.
usage=$(node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON bench/src/command-line.ts "$@")
[ -z "$usage" ] || { printf '%s\n' "$usage"; exit 0; }
# wrk (C, from Debian) leaves more CPU to the platform than a Node load generator on 2 cores.
apt_install wrk
# --target console opens the live console in Debian's Chromium during its load.
[[ " $* " == *console* ]] && apt_install chromium
bash "$ROOT_DIR/scripts/start.sh" >/dev/null
platform_secrets
node bench/dist/src/main.js "$@"
