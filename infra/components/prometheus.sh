# Prometheus 2.53 LTS, built from the Go module proxy: Debian's 2.42 package is compiled without
# consul_sd_configs, and scrape targets come from Consul (config/prometheus.yml). Port 9090.
# Only the Consul discovery plugin is compiled in (Prometheus' own plugins.yml mechanism), which
# cuts the build from the whole cloud-SDK tree to about a minute and a half. The web UI's React
# assets are not in the Go module: the HTTP API (/api/v1/...) is what is served.

PROMETHEUS_VERSION=2.53.3
# Prometheus 2.x is published as module version 0.<minor>.<patch>.
PROMETHEUS_MODULE_VERSION=v0.53.3
PROMETHEUS_BIN="$CACHE_DIR/bin/prometheus-$PROMETHEUS_VERSION"

prometheus_install() {
  [ -x "$PROMETHEUS_BIN" ] && return 0
  local log="$LOG_DIR/prometheus-build.log" build
  go_build_begin "Prometheus $PROMETHEUS_VERSION" "$log" "a minute or two"
  build=$(go_module_source "prometheus-$PROMETHEUS_VERSION" "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION" "$log") || exit 1
  printf 'package plugins\n\nimport (\n\t_ "github.com/prometheus/prometheus/discovery/consul"\n)\n' > "$build/src/plugins/plugins.go"
  if ! (
    cd "$build/src" || exit 1
    GOTMPDIR="$build/tmp" CGO_ENABLED=0 nice go build -mod=mod -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION -X github.com/prometheus/common/version.Branch=release-2.53" \
      -o "$PROMETHEUS_BIN.tmp" ./cmd/prometheus
  ) >>"$log" 2>&1; then
    rm -rf "$build" "$PROMETHEUS_BIN.tmp"
    die "prometheus: build failed, see $log"
  fi
  go_build_done "$PROMETHEUS_BIN" "$build"
}

prometheus_start() {
  if port_open 9090; then say "prometheus already listening on 9090"; return 0; fi
  prometheus_install
  local dir="$DATA_DIR/prometheus" log="$LOG_DIR/prometheus.log"
  mkdir -p "$dir"
  : "${CONSUL_READ_TOKEN:?}"
  ( umask 077; printf '%s' "$CONSUL_READ_TOKEN" > "$DATA_DIR/prometheus-consul-token" )
  sed "s|@CONSUL_TOKEN_FILE@|$DATA_DIR/prometheus-consul-token|" "$INFRA_DIR/config/prometheus.yml" > "$DATA_DIR/prometheus.yml"
  start_bg prometheus "$log" "$PROMETHEUS_BIN" --config.file="$DATA_DIR/prometheus.yml" \
    --storage.tsdb.path="$dir" --storage.tsdb.retention.time=2d \
    --web.listen-address=127.0.0.1:9090 --web.enable-lifecycle
  wait_until prometheus "$log" 60 curl -sf --max-time 1 http://127.0.0.1:9090/-/ready
}

prometheus_stop() { stop_pid prometheus; }

prometheus_status() {
  local v
  v=$(curl -sf --max-time 1 http://127.0.0.1:9090/api/v1/status/buildinfo | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
  local up=1; [ -n "$v" ] && up=0
  status_line prometheus 9090 "${v:-$PROMETHEUS_VERSION}" $up
}
