#!/usr/bin/env bash
# npm stop: the services this checkout started (SIGTERM deregisters them from Consul), then the components.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for ((i=${#SERVICES[@]}-1; i>=0; i--)); do
  IFS=: read -r name _ _ <<<"${SERVICES[i]}"
  stop_pid "$name"
done
bash "$INFRA_DIR/infra.sh" down
