#!/bin/sh
# Compose's one-shot consul-acl container (hashicorp/consul image, busybox sh): the tokens of
# infra/components/consul.sh's consul_bootstrap_acl, made with the consul CLI from the same rules
# (infra/config/consul-acl.sh, mounted beside this script), each with the SecretID the environment
# gives, so the services' tokens are known. Runs as the management token (CONSUL_HTTP_TOKEN); what
# exists already is kept, so it can run again. A dev agent forgets its ACL state when it restarts:
# after a restart of the consul container, run it again (docker compose up consul-acl).
set -eu
. /etc/coupon-rush/consul-acl-rules.sh

policy() {
  consul acl policy read -name "$1" >/dev/null 2>&1 && return 0
  consul acl policy create -name "$1" -rules "$2" >/dev/null
}

# token SECRET DESCRIPTION FLAGS... — made unless a token with that secret exists.
token() {
  secret=$1 description=$2
  shift 2
  [ -n "$secret" ] || { echo "consul-acl: no secret for the $description token" >&2; exit 1; }
  CONSUL_HTTP_TOKEN=$secret consul acl token read -self >/dev/null 2>&1 && return 0
  consul acl token create -secret "$secret" -description "$description" "$@" >/dev/null
}

# The agent's own token first: without it deregistrations are silently blocked.
token "$CONSUL_AGENT_TOKEN" agent -node-identity "$CONSUL_NODE:dc1"
policy catalogue-read "$CONSUL_CATALOGUE_READ_RULES"
token "$CONSUL_READ_TOKEN" catalogue-read -policy-name catalogue-read
for name in $CONSUL_SERVICES; do
  policy "$name" "$(consul_service_rules "$name")"
  eval "secret=\${$(consul_service_token_variable "$name"):-}"
  token "$secret" "$name" -policy-name "$name" -policy-name catalogue-read
done
echo "consul-acl: the agent, catalogue-read and service tokens exist"
