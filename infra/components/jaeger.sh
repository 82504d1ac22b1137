# Jaeger v2 (an OpenTelemetry Collector distribution) with in-memory trace storage.
# Sourced after lib.sh. Ports: 4318 OTLP/HTTP in, 4317 OTLP/gRPC in, 16686 query HTTP API, 16685 query
# gRPC, 13133 health check, 8889 its own Prometheus metrics (the collector default 8888 is the
# config-server's port). The web UI assets are not part of the Go module: the query API works,
# the UI page is a placeholder.

# Jaeger's v2.x tags are not usable by the go command (the module path has no /v2 suffix), so a
# release is pinned by its Go module version, which points at the release's commit. v1.76.0 is
# the commit tagged v2.13.0. The proxy reachable here serves only canonical versions (no commit
# hashes, no branches); to move to a later v2 release set JAEGER_MODULE_VERSION to that release
# commit's pseudo-version (v1.76.1-0.<commit time>-<12-char hash>) and the other three to match.
JAEGER_VERSION=2.13.0
JAEGER_MODULE_VERSION=v1.76.0
JAEGER_COMMIT=63b27e1810a710ac54dc4522da0538e540bdc545
JAEGER_COMMIT_DATE=2025-12-03T16:07:08Z
JAEGER_BIN="$CACHE_DIR/bin/jaeger-$JAEGER_VERSION"

jaeger_install() {
  [ -x "$JAEGER_BIN" ] && return 0
  command -v go >/dev/null || die "jaeger: go is needed to build Jaeger $JAEGER_VERSION"
  local log="$LOG_DIR/jaeger-build.log" src build pkg=github.com/jaegertracing/jaeger/internal/version
  mkdir -p "$CACHE_DIR/bin" "$CACHE_DIR/build"
  say "building Jaeger $JAEGER_VERSION from the Go module proxy (several minutes); log: $log"
  : >"$log"
  src=$(go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION" 2>>"$log" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$src" ] && [ -d "$src" ] || die "jaeger: module download failed, see $log"
  build=$(mktemp -d "$CACHE_DIR/build/jaeger-$JAEGER_VERSION.XXXXXX")
  mkdir -p "$build/tmp" && cp -R "$src" "$build/src" && chmod -R u+w "$build/src" \
    || die "jaeger: cannot copy the source to $build"
  # Built as the main module rather than with `go install pkg@version`, which refuses modules
  # with replace directives (releases up to v2.13 pin sarama with one); this way they apply.
  if ! (
    cd "$build/src" &&
      GOTMPDIR="$build/tmp" CGO_ENABLED=0 nice go build -trimpath -o "$JAEGER_BIN.tmp" -ldflags "-s -w \
        -X $pkg.latestVersion=v$JAEGER_VERSION -X $pkg.commitSHA=$JAEGER_COMMIT \
        -X $pkg.date=$JAEGER_COMMIT_DATE" ./cmd/jaeger
  ) >>"$log" 2>&1; then
    rm -rf "$build" "$JAEGER_BIN.tmp"
    die "jaeger: build failed, see $log"
  fi
  mv "$JAEGER_BIN.tmp" "$JAEGER_BIN"
  rm -rf "$build"
  say "jaeger: built $JAEGER_BIN"
}

jaeger_up() { curl -sf --max-time 1 http://127.0.0.1:16686/api/services >/dev/null; }

jaeger_start() {
  if port_open 16686; then
    say "jaeger: port 16686 already serving, using it"
    return 0
  fi
  jaeger_install
  local dir="$DATA_DIR/jaeger" log="$LOG_DIR/jaeger.log"
  mkdir -p "$dir"
  # Derived from cmd/jaeger/internal/all-in-one.yaml: OTLP receiver only, memory storage, every
  # listener on 127.0.0.1, and no sampling/zpages/expvar/pprof extensions.
  cat >"$dir/config.yaml" <<'EOF'
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
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
                port: 8889
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
      endpoint: 127.0.0.1:16686
    grpc:
      endpoint: 127.0.0.1:16685
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:13133

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
      http:
        endpoint: 127.0.0.1:4318

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
EOF
  start_bg jaeger "$log" "$JAEGER_BIN" --config "$dir/config.yaml"
  wait_until jaeger "$log" 60 jaeger_up
  say "jaeger: up, OTLP on 127.0.0.1:4318 (http) and :4317 (grpc), query API on http://127.0.0.1:16686"
}

jaeger_stop() { stop_pid jaeger; }

jaeger_status() {
  local version up=1
  jaeger_up && up=0
  # The collector's own metrics carry the running build's version.
  version=$(curl -sf --max-time 1 http://127.0.0.1:8889/metrics \
    | sed -n 's/^target_info{.*service_version="\([^"]*\)".*/\1/p' | head -n1)
  status_line jaeger "4317,4318,16686" "${version:-v$JAEGER_VERSION}" $up
}
