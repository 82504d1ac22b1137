# Consul: a single dev-mode agent (in-memory server + client) for service discovery.
# Sourced after lib.sh. Ports: 8500 HTTP API, 8502 gRPC, 8600 DNS, 8300/8301 server RPC and LAN gossip.

CONSUL_VERSION=1.22.7
# Consul's go.mod names api v1.33.7 but really builds against its in-tree ./api (see the replace
# note below); api v1.34.2, tagged the same day as 1.22.7, has the ACL fields that tree uses.
CONSUL_API_VERSION=v1.34.2
CONSUL_BIN="$CACHE_DIR/bin/consul-$CONSUL_VERSION"
CONSUL_HTTP=127.0.0.1:8500

consul_install() {
  [ -x "$CONSUL_BIN" ] && return 0
  command -v go >/dev/null || die "consul: go is needed to build Consul $CONSUL_VERSION"
  local log="$LOG_DIR/consul-build.log" build
  mkdir -p "$CACHE_DIR/bin" "$CACHE_DIR/build"
  say "building Consul $CONSUL_VERSION from the Go module proxy (several minutes); log: $log"
  : >"$log"
  build=$(go_module_source "consul-$CONSUL_VERSION" "github.com/hashicorp/consul@v$CONSUL_VERSION" "$log") || exit 1
  # `go install consul@version` refuses a module with replace directives, and the module zip
  # lacks the nested submodules (./api, ./sdk, ...) they point to: drop them so the submodules
  # come from the proxy, with api raised to the matching release.
  if ! (
    cd "$build/src" || exit 1
    go mod edit -require="github.com/hashicorp/consul/api@$CONSUL_API_VERSION" \
      $(sed -n 's#^[[:space:]]*\(replace[[:space:]]\+\)\?\([^[:space:]]\+\)[[:space:]]\+=>[[:space:]]\+\./.*#-dropreplace=\2#p' go.mod) \
      || exit 1
    # go.sum has no hashes for the submodules (they were local), so let the build record them.
    GOTMPDIR="$build/tmp" CGO_ENABLED=0 nice go build -mod=mod -trimpath -ldflags "-s -w" -o "$CONSUL_BIN.tmp" .
  ) >>"$log" 2>&1; then
    rm -rf "$build" "$CONSUL_BIN.tmp"
    die "consul: build failed, see $log"
  fi
  mv "$CONSUL_BIN.tmp" "$CONSUL_BIN"
  rm -rf "$build"
  say "consul: built $CONSUL_BIN"
}

consul_up() { curl -sf --max-time 1 "http://$CONSUL_HTTP/v1/status/leader" | grep -q '^"[^"]'; }

consul_start() {
  if port_open 8500; then
    say "consul: port 8500 already serving, using it"
    return 0
  fi
  consul_install
  local log="$LOG_DIR/consul.log"
  mkdir -p "$DATA_DIR/consul"
  # Dev mode keeps state in memory; -data-dir only holds the node id and checkpoint files.
  # WAN gossip (multi-datacenter federation) and gRPC-TLS (Envoy with TLS) are not used: switched off.
  start_bg consul "$log" "$CONSUL_BIN" agent -dev \
    -node coupon-rush -client 127.0.0.1 -bind 127.0.0.1 \
    -http-port 8500 -grpc-port 8502 -grpc-tls-port -1 -dns-port 8600 -serf-wan-port -1 \
    -data-dir "$DATA_DIR/consul" -log-level info
  wait_until consul "$log" 60 consul_up
  say "consul: up on http://$CONSUL_HTTP"
}

consul_stop() { stop_pid consul; }

consul_status() {
  local version up=1
  version=$(curl -sf --max-time 1 "http://$CONSUL_HTTP/v1/agent/self" \
    | grep -o '"Version": *"[^"]*"' | head -n1 | sed 's/.*"\([^"]*\)"$/\1/')
  if [ -n "$version" ]; then up=0; else version=$CONSUL_VERSION; fi
  status_line consul "8500,8502,8600" "$version" $up
}
