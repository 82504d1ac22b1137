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
  local log="$LOG_DIR/consul-build.log" build
  go_build_begin "Consul $CONSUL_VERSION" "$log" "several minutes"
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
  go_build_done "$CONSUL_BIN" "$build"
}

# The services, node name and policy rules, shared with compose's init container.
source "$INFRA_DIR/config/consul-acl.sh"

# consul_api METHOD PATH [BODY] — the HTTP API as the management token; prints the body, fails on >= 400.
consul_api() {
  local out code
  out=$(curl -sS --max-time 5 -X "$1" -H "X-Consul-Token: $CONSUL_MANAGEMENT_TOKEN" ${3:+--data "$3"} -w '\n%{http_code}' "http://$CONSUL_HTTP$2") || return 1
  code=${out##*$'\n'}
  printf '%s' "${out%$'\n'*}"
  [ "$code" -lt 400 ]
}

# The secret of the token a service registers with: CONSUL_TOKEN_<NAME> (user-service → CONSUL_TOKEN_USER_SERVICE).
consul_service_token() { local v; v=$(consul_service_token_variable "$1"); echo "${!v}"; }

consul_policy() {
  local name=$1 rules=${2//\"/\\\"}
  rules=${rules//$'\n'/\\n}
  consul_api GET "/v1/acl/policy/name/$name" >/dev/null 2>&1 && return 0
  consul_api PUT /v1/acl/policy "{\"Name\":\"$name\",\"Rules\":\"$rules\"}" >/dev/null \
    || die "consul: policy $name could not be made"
}

# consul_token SECRET DESCRIPTION JSON-FIELDS — made with a chosen SecretID, so clients keep theirs across restarts.
consul_token() {
  curl -sf --max-time 5 -H "X-Consul-Token: $1" "http://$CONSUL_HTTP/v1/acl/token/self" >/dev/null && return 0
  consul_api PUT /v1/acl/token "{\"SecretID\":\"$1\",\"Description\":\"$2\",$3}" >/dev/null || die "consul: token $2 could not be made"
}

# A dev agent keeps its ACL state in memory: after every start, the agent's token first (without it
# deregistrations are silently blocked), then a policy and a token per service, and the read token
# of Prometheus, the scripts and the tests.
consul_bootstrap_acl() {
  local name
  consul_token "$CONSUL_AGENT_TOKEN" agent "\"NodeIdentities\":[{\"NodeName\":\"$CONSUL_NODE\",\"Datacenter\":\"dc1\"}]"
  consul_policy catalogue-read "$CONSUL_CATALOGUE_READ_RULES"
  consul_token "$CONSUL_READ_TOKEN" catalogue-read '"Policies":[{"Name":"catalogue-read"}]'
  for name in $CONSUL_SERVICES; do
    consul_policy "$name" "$(consul_service_rules "$name")"
    consul_token "$(consul_service_token "$name")" "$name" "\"Policies\":[{\"Name\":\"$name\"},{\"Name\":\"catalogue-read\"}]"
  done
}

consul_up() { curl -sf --max-time 1 "http://$CONSUL_HTTP/v1/status/leader" | grep -q '^"[^"]'; }

consul_start() {
  : "${CONSUL_MANAGEMENT_TOKEN:?}" "${CONSUL_AGENT_TOKEN:?}" "${CONSUL_READ_TOKEN:?}"
  if port_open 8500; then
    curl -sf --max-time 2 -H "X-Consul-Token: $CONSUL_MANAGEMENT_TOKEN" "http://$CONSUL_HTTP/v1/acl/token/self" >/dev/null \
      || die "consul: the agent on 8500 does not know this run's management token (another checkout's, or one without ACLs): stop it first (npm run infra:down consul)"
    say "consul: port 8500 already serving, using it"
    consul_bootstrap_acl
    return 0
  fi
  consul_install
  local log="$LOG_DIR/consul.log" config="$DATA_DIR/consul-acl.hcl"
  mkdir -p "$DATA_DIR/consul"
  # ACLs on, default deny: nothing is read or written without a token. Tokens are not persisted
  # (a dev agent forgets its ACL state when it stops; kept tokens would outlive it, see
  # consul_bootstrap_acl); the management and agent tokens are rebuilt from this file at start.
  ( umask 077; cat > "$config" <<HCL
acl {
  enabled                  = true
  default_policy           = "deny"
  enable_token_persistence = false
  tokens {
    initial_management = "$CONSUL_MANAGEMENT_TOKEN"
    agent              = "$CONSUL_AGENT_TOKEN"
  }
}
HCL
  )
  # Dev mode keeps state in memory; -data-dir only holds the node id and checkpoint files.
  # WAN gossip (multi-datacenter federation) and gRPC-TLS (Envoy with TLS) are not used: switched off.
  start_bg consul "$log" "$CONSUL_BIN" agent -dev \
    -node "$CONSUL_NODE" -client 127.0.0.1 -bind 127.0.0.1 \
    -http-port 8500 -grpc-port 8502 -grpc-tls-port -1 -dns-port 8600 -serf-wan-port -1 \
    -data-dir "$DATA_DIR/consul" -config-file "$config" -log-level info
  wait_until consul "$log" 60 consul_up
  consul_bootstrap_acl
  say "consul: up on http://$CONSUL_HTTP (ACLs on, default deny)"
}

consul_stop() { stop_pid consul; }

consul_status() {
  local version up=1
  version=$(curl -sf --max-time 1 -H "X-Consul-Token: $CONSUL_MANAGEMENT_TOKEN" "http://$CONSUL_HTTP/v1/agent/self" \
    | grep -o '"Version": *"[^"]*"' | head -n1 | sed 's/.*"\([^"]*\)"$/\1/')
  if [ -n "$version" ]; then up=0; else version=$CONSUL_VERSION; fi
  status_line consul "8500,8502,8600" "$version" $up
}
