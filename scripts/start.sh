#!/usr/bin/env bash
# npm start: components, then config-server, services and gateway (each under a supervisor that
# restarts it when it dies), then the demo data.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
started=$SECONDS
prepare

for entry in "${SERVICES[@]}"; do
  IFS=: read -r name dir port <<<"$entry"
  if service_ready "$port"; then
    supervised "$name" && say "$name already running on $port" \
      || say "$name already answers on $port, but no supervisor of this checkout restarts it"
    continue
  fi
  log="$LOG_DIR/$name.log"
  # A supervisor still alive is bringing its service back (or backing off): wait for it instead.
  if supervised "$name"; then
    say "$name is being restarted by its supervisor"
  else
    [ -f "$log" ] && mv "$log" "$log.1"
    start_supervised "$name" "$port" "$log" node --require "./$TELEMETRY_PRELOAD" "$dir/dist/src/main.js"
  fi
  wait_until "$name" "$log" 60 service_ready "$port"
done

node scripts/seed-demo.js
say "everything up in $((SECONDS - started))s"
cat <<EOF2

  Gateway         http://127.0.0.1:8080   (e.g. curl http://127.0.0.1:8080/api/coupons)
  Live console    http://127.0.0.1:8080/console/   (admin login below; docs/observability.md)
  Config server   http://127.0.0.1:8888/gateway/dev
  Consul          http://127.0.0.1:8500/v1/health/state/any
  Traces (UI)     http://127.0.0.1:${ZIPKIN_PORT:-9411}/zipkin/   (Zipkin Lens, fed by Jaeger; docs/observability.md)
  Jaeger (API)    http://127.0.0.1:${JAEGER_QUERY_PORT:-16686}/api/services
  Prometheus      http://127.0.0.1:9090/api/v1/targets
  Admin login     admin@coupon.local / admin1234!
  Logs            $LOG_DIR
  Stop with       npm stop

EOF2
