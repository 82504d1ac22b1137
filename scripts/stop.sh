#!/usr/bin/env bash
# npm stop: the services this checkout started, then the components. A service's supervisor gets the
# SIGTERM and forwards it (the service deregisters from Consul) without restarting it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for ((i=${#SERVICES[@]}-1; i>=0; i--)); do
  IFS=: read -r name _ _ <<<"${SERVICES[i]}"
  stop_pid "$name"
  rm -f "$PID_DIR/$name.state"
done
bash "$INFRA_DIR/infra.sh" down
