#!/usr/bin/env bash
# Writes the secrets docker-compose.yml requires (each ${NAME:?…} in it) into .env beside it, which
# compose reads by itself: each missing one generated (a UUID for Consul's tokens, which must be
# UUIDs; 48 hex digits otherwise), those already there kept. Mode 0600.
# Usage: scripts/compose-env.sh [FILE]   (FILE: another place than .env)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file=${1:-$root/.env}
(umask 077 && touch "$file")
for name in $(grep -v '^ *#' "$root/docker-compose.yml" | grep -o '\${[A-Z0-9_]*:?' | sed 's/^\${\(.*\):?$/\1/' | sort -u); do
  grep -q "^$name=." "$file" && continue
  case $name in
    CONSUL_*) value=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen | tr 'A-Z' 'a-z') ;;
    *) value=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n') ;;
  esac
  printf '%s=%s\n' "$name" "$value" >> "$file"
done
echo "compose-env: $file holds every secret docker-compose.yml requires" >&2
