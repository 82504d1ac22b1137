#!/usr/bin/env bash
# npm run status: one line per service (its supervisor's view: up/restarting/down, pid, whether the
# port answers /health/ready, restarts, uptime of the current process), then the components.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

state_of() { sed -n "s/^$2=//p" "$1" 2>/dev/null; }

duration() {
  local s=$1
  if [ "$s" -ge 3600 ]; then printf '%dh%02dm' $((s / 3600)) $((s % 3600 / 60))
  elif [ "$s" -ge 60 ]; then printf '%dm%02ds' $((s / 60)) $((s % 60))
  else printf '%ds' "$s"; fi
}

printf '%-22s %-11s %-8s %-6s %-10s %-9s %s\n' service state pid port ready restarts uptime
for entry in "${SERVICES[@]}"; do
  IFS=: read -r name _ port <<<"$entry"
  file="$PID_DIR/$name.state" state=down pid=- restarts=- uptime=- ready=no
  [ -f "$file" ] && port=$(state_of "$file" port)
  if supervised "$name" && [ -f "$file" ]; then
    restarts=$(state_of "$file" restarts)
    pid=$(state_of "$file" child_pid)
    state=$(state_of "$file" state)
    if [ "$state" = running ] && [ -n "$pid" ] && running "$pid"; then
      state=up
      uptime=$(duration $(($(date +%s) - $(state_of "$file" child_started_at))))
    else
      pid=-
    fi
  fi
  service_ready "$port" && ready=yes
  printf '%-22s %-11s %-8s %-6s %-10s %-9s %s\n' "$name" "$state" "$pid" "$port" "$ready" "$restarts" "$uptime"
done
echo
bash "$INFRA_DIR/infra.sh" status
