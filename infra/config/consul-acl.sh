# What each Consul token may do, read by both paths that make them: infra/components/consul.sh
# (the native agent, bash) and infra/compose/consul-acl.sh (compose's init container, busybox sh).
# Sourced, never run; POSIX sh only.

# The node name both agents run under (-node): the agent token's node identity names it.
CONSUL_NODE=coupon-rush

# The platform's services, each with a token that may register only its own name (and the copies
# tests, the strategy lab and the fault suite run under <name>-test-…, -lab-…, -faults-…) and read
# the catalogue (to find the others).
CONSUL_SERVICES="config-server user-service coupon-service issue-coupon-service console-service gateway"

# The catalogue-read policy: Prometheus's discovery, the scripts, the tests, and every service.
CONSUL_CATALOGUE_READ_RULES='service_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }'

# consul_service_rules NAME — the policy of NAME's own token.
consul_service_rules() {
  printf 'service "%s" { policy = "write" }\n' "$1"
  printf 'service_prefix "%s-%s-" { policy = "write" }\n' "$1" test "$1" lab "$1" faults
}

# consul_service_token_variable NAME — the variable that holds NAME's token (user-service →
# CONSUL_TOKEN_USER_SERVICE; consulTokenVariable in libraries/platform/src/service-runtime.ts).
consul_service_token_variable() { echo "CONSUL_TOKEN_$(echo "$1" | tr 'a-z-' 'A-Z_')"; }
