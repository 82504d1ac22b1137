#!/usr/bin/env bash
# infra.sh up|down|status|install|wipe [component...]
# Installs what is missing and runs every real component of the platform on 127.0.0.1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_COMPONENTS=(mariadb redis kafka consul zipkin jaeger prometheus)
# Started only when named: the fault suite's network proxy.
ON_REQUEST_COMPONENTS=(toxiproxy)
for c in "${ALL_COMPONENTS[@]}" "${ON_REQUEST_COMPONENTS[@]}"; do
  [ -f "$INFRA_DIR/components/$c.sh" ] && source "$INFRA_DIR/components/$c.sh"
done
# The components' credentials (the caller's environment, else the run folder's generated ones).
load_secrets

cmd=${1:-status}; shift || true
components=("$@"); [ ${#components[@]} -eq 0 ] && components=("${ALL_COMPONENTS[@]}")

install_all() {
  # apt and Maven first (they share the network and dpkg lock), the two Go builds side by side.
  local c pids=() failed=0
  for c in "${components[@]}"; do
    case $c in consul|jaeger|toxiproxy) ( "${c}_install" ) & pids+=($!) ;; esac
  done
  for c in "${components[@]}"; do
    case $c in consul|jaeger|toxiproxy) ;; *) "${c}_install" ;; esac
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ $failed = 0 ] || die "a component failed to install (see above)"
}

case $cmd in
  install) install_all ;;
  up)
    started=$SECONDS
    install_all
    for c in "${components[@]}"; do "${c}_start"; done
    say "components up in $((SECONDS - started))s"
    ;;
  down)
    for ((i=${#components[@]}-1; i>=0; i--)); do "${components[i]}_stop"; done
    ;;
  status)
    for c in "${components[@]}"; do "${c}_status" || true; done
    ;;
  wipe)
    for ((i=${#components[@]}-1; i>=0; i--)); do "${components[i]}_stop"; done
    rm -rf "$DATA_DIR" "$LOG_DIR"
    say "removed $DATA_DIR and $LOG_DIR (the download cache $CACHE_DIR is kept)"
    ;;
  *) die "usage: infra.sh up|down|status|install|wipe [component...]" ;;
esac
