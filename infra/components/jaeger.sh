# Jaeger v2 (an OpenTelemetry Collector distribution) with in-memory trace storage, which also
# forwards every span to Zipkin (components/zipkin.sh), whose Lens UI is the trace page an operator
# opens. Sourced after lib.sh. Ports, each overridable so a second instance can run beside the
# default one: JAEGER_OTLP_HTTP_PORT 4318 and JAEGER_OTLP_GRPC_PORT 4317 OTLP in, JAEGER_QUERY_PORT
# 16686 query HTTP API (the tests read traces there), JAEGER_QUERY_GRPC_PORT 16685, JAEGER_HEALTH_PORT
# 13133, JAEGER_METRICS_PORT 8889 its own Prometheus metrics (the collector default 8888 is the
# config-server's port). The web UI assets are not part of the Go module: the query API works,
# the UI page at the query port is a placeholder.
JAEGER_OTLP_GRPC_PORT="${JAEGER_OTLP_GRPC_PORT:-4317}"
JAEGER_OTLP_HTTP_PORT="${JAEGER_OTLP_HTTP_PORT:-4318}"
JAEGER_QUERY_PORT="${JAEGER_QUERY_PORT:-16686}"
JAEGER_QUERY_GRPC_PORT="${JAEGER_QUERY_GRPC_PORT:-16685}"
JAEGER_HEALTH_PORT="${JAEGER_HEALTH_PORT:-13133}"
JAEGER_METRICS_PORT="${JAEGER_METRICS_PORT:-8889}"
ZIPKIN_PORT="${ZIPKIN_PORT:-9411}"

# Jaeger's v2.x tags are not usable by the go command (the module path has no /v2 suffix), so a
# release is pinned by its Go module version, which points at the release's commit. v1.76.0 is
# the commit tagged v2.13.0. The proxy reachable here serves only canonical versions (no commit
# hashes, no branches); to move to a later v2 release set JAEGER_MODULE_VERSION to that release
# commit's pseudo-version (v1.76.1-0.<commit time>-<12-char hash>) and the other three to match.
JAEGER_VERSION=2.13.0
JAEGER_MODULE_VERSION=v1.76.0
JAEGER_COMMIT=63b27e1810a710ac54dc4522da0538e540bdc545
JAEGER_COMMIT_DATE=2025-12-03T16:07:08Z
# The release's own components have no Zipkin exporter; infra/jaeger/zipkin-exporter.patch adds the
# contrib one at the contrib version Jaeger's go.mod already uses. The binary has its own name so
# the plain jaeger-$JAEGER_VERSION other checkouts built stays valid in the shared cache.
JAEGER_CONTRIB_VERSION=v0.140.1
JAEGER_BIN="$CACHE_DIR/bin/jaeger-$JAEGER_VERSION-zipkin"

jaeger_install() {
  [ -x "$JAEGER_BIN" ] && return 0
  local log="$LOG_DIR/jaeger-build.log" build pkg=github.com/jaegertracing/jaeger/internal/version
  go_build_begin "Jaeger $JAEGER_VERSION" "$log" "several minutes"
  build=$(go_module_source "jaeger-$JAEGER_VERSION" "github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION" "$log") || exit 1
  # The patch fails loudly (no fuzz) if a new release moved the components list.
  if ! (
    cd "$build/src" && patch -p1 -F0 <"$INFRA_DIR/jaeger/zipkin-exporter.patch" &&
      go mod edit -require="github.com/open-telemetry/opentelemetry-collector-contrib/exporter/zipkinexporter@$JAEGER_CONTRIB_VERSION"
  ) >>"$log" 2>&1; then
    rm -rf "$build"
    die "jaeger: adding the Zipkin exporter failed, see $log"
  fi
  # Built as the main module rather than with `go install pkg@version`, which refuses modules
  # with replace directives (releases up to v2.13 pin sarama with one); this way they apply.
  # -mod=mod lets go.sum take the exporter's few dependencies that Jaeger itself has not.
  if ! (
    cd "$build/src" &&
      GOTMPDIR="$build/tmp" CGO_ENABLED=0 nice go build -mod=mod -trimpath -o "$JAEGER_BIN.tmp" -ldflags "-s -w \
        -X $pkg.latestVersion=v$JAEGER_VERSION -X $pkg.commitSHA=$JAEGER_COMMIT \
        -X $pkg.date=$JAEGER_COMMIT_DATE" ./cmd/jaeger
  ) >>"$log" 2>&1; then
    rm -rf "$build" "$JAEGER_BIN.tmp"
    die "jaeger: build failed, see $log"
  fi
  go_build_done "$JAEGER_BIN" "$build"
}

jaeger_up() { curl -sf --max-time 1 "http://127.0.0.1:$JAEGER_QUERY_PORT/api/services" >/dev/null; }

jaeger_start() {
  if port_open "$JAEGER_QUERY_PORT"; then
    say "jaeger: port $JAEGER_QUERY_PORT already serving, using it"
    return 0
  fi
  jaeger_install
  local dir="$DATA_DIR/jaeger" log="$LOG_DIR/jaeger.log"
  mkdir -p "$dir"
  # Derived from cmd/jaeger/internal/all-in-one.yaml: OTLP receiver only, memory storage, every
  # listener on 127.0.0.1, and no sampling/zpages/expvar/pprof extensions. The zipkin exporter has
  # its own queue and retries: while Zipkin is down or starting, spans still reach memstore.
  cat >"$dir/config.yaml" <<EOF
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter, zipkin]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: basic
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: $JAEGER_METRICS_PORT
    logs:
      level: info

extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    enable_tracing: false
    http:
      endpoint: 127.0.0.1:$JAEGER_QUERY_PORT
    grpc:
      endpoint: 127.0.0.1:$JAEGER_QUERY_GRPC_PORT
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:$JAEGER_HEALTH_PORT

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$JAEGER_OTLP_GRPC_PORT
      http:
        endpoint: 127.0.0.1:$JAEGER_OTLP_HTTP_PORT

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
  zipkin:
    endpoint: http://127.0.0.1:$ZIPKIN_PORT/api/v2/spans
    format: proto
EOF
  start_bg jaeger "$log" "$JAEGER_BIN" --config "$dir/config.yaml"
  wait_until jaeger "$log" 60 jaeger_up
  say "jaeger: up, OTLP on 127.0.0.1:$JAEGER_OTLP_HTTP_PORT (http) and :$JAEGER_OTLP_GRPC_PORT (grpc), query API on http://127.0.0.1:$JAEGER_QUERY_PORT, spans also to Zipkin on :$ZIPKIN_PORT"
}

jaeger_stop() { stop_pid jaeger; }

jaeger_status() {
  local version up=1
  jaeger_up && up=0
  # The collector's own metrics carry the running build's version.
  version=$(curl -sf --max-time 1 "http://127.0.0.1:$JAEGER_METRICS_PORT/metrics" \
    | sed -n 's/^target_info{.*service_version="\([^"]*\)".*/\1/p' | head -n1)
  status_line jaeger "$JAEGER_OTLP_GRPC_PORT,$JAEGER_OTLP_HTTP_PORT,$JAEGER_QUERY_PORT" "${version:-v$JAEGER_VERSION}" $up
}
