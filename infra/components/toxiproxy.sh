# Toxiproxy: a TCP proxy whose links can be slowed or cut through its HTTP API. Only the fault
# suite runs it (`infra.sh up toxiproxy` with its own ports): the platform never goes through it.
# Sourced after lib.sh. Port: TOXIPROXY_PORT (HTTP API); the proxies' own ports are created over it.

TOXIPROXY_VERSION=2.5.0
TOXIPROXY_BIN="$CACHE_DIR/bin/toxiproxy-$TOXIPROXY_VERSION"
TOXIPROXY_PORT=${TOXIPROXY_PORT:-8474}

toxiproxy_install() {
  [ -x "$TOXIPROXY_BIN" ] && return 0
  command -v go >/dev/null || die "toxiproxy: go is needed to build Toxiproxy $TOXIPROXY_VERSION"
  local log="$LOG_DIR/toxiproxy-build.log" gobin
  mkdir -p "$CACHE_DIR/bin"
  gobin=$(mktemp -d "$CACHE_DIR/bin/.toxiproxy.XXXXXX")
  say "building Toxiproxy $TOXIPROXY_VERSION from the Go module proxy; log: $log"
  progress_begin "building Toxiproxy $TOXIPROXY_VERSION"
  if ! GOBIN="$gobin" CGO_ENABLED=0 nice go install -trimpath -ldflags "-s -w" \
      "github.com/Shopify/toxiproxy/v2/cmd/server@v$TOXIPROXY_VERSION" >"$log" 2>&1; then
    rm -rf "$gobin"
    die "toxiproxy: build failed, see $log"
  fi
  progress_end
  mv "$gobin/server" "$TOXIPROXY_BIN"
  rm -rf "$gobin"
  say "toxiproxy: built $TOXIPROXY_BIN"
}

toxiproxy_up() { curl -sf --max-time 1 "http://127.0.0.1:$TOXIPROXY_PORT/version" >/dev/null; }

toxiproxy_start() {
  if toxiproxy_up; then return 0; fi
  port_open "$TOXIPROXY_PORT" && die "toxiproxy: port $TOXIPROXY_PORT is taken by something else"
  toxiproxy_install
  local log="$LOG_DIR/toxiproxy.log"
  start_bg toxiproxy "$log" "$TOXIPROXY_BIN" -host 127.0.0.1 -port "$TOXIPROXY_PORT"
  wait_until toxiproxy "$log" 20 toxiproxy_up
  say "toxiproxy: up on http://127.0.0.1:$TOXIPROXY_PORT"
}

toxiproxy_stop() { stop_pid toxiproxy; }

toxiproxy_status() {
  local up=1
  toxiproxy_up && up=0
  status_line toxiproxy "$TOXIPROXY_PORT" "$TOXIPROXY_VERSION" $up
}
