#!/usr/bin/env bash
# Shared helpers for the infra scripts: paths, logging, background processes, readiness waits.
# Sourced, never run. Every component file in components/ defines <name>_install, <name>_start,
# <name>_stop and <name>_status and relies only on what is defined here.

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$INFRA_DIR/.." && pwd)"
# Downloaded and built artefacts live outside the checkout so a fresh clone reuses them.
CACHE_DIR="${COUPON_RUSH_CACHE:-$HOME/.cache/coupon-rush}"
# Runtime data, logs and pids of this checkout: one git-ignored folder.
RUN_DIR="${COUPON_RUSH_RUN:-$ROOT_DIR/.run}"
LOG_DIR="$RUN_DIR/logs"
DATA_DIR="$RUN_DIR/data"
PID_DIR="$RUN_DIR/pids"
mkdir -p "$CACHE_DIR" "$LOG_DIR" "$DATA_DIR" "$PID_DIR"

# Every credential of the platform: the components are started with them and the services and tools
# connect with them. Each comes from the environment when set there (compose, a deployment); a local
# run generates the missing ones once into the run folder (mode 0600), so a restart keeps them.
# UUIDs where Consul demands them (its tokens' SecretIDs), random text otherwise.
SECRET_NAMES=(JWT_SECRET INTERNAL_TOKEN_SECRET DB_PASSWORD
  REDIS_PASSWORD REDIS_ADMIN_PASSWORD REDIS_REPLICATION_PASSWORD REDIS_SENTINEL_PASSWORD REDIS_SENTINEL_PEER_PASSWORD
  KAFKA_PASSWORD KAFKA_ADMIN_PASSWORD
  CONSUL_MANAGEMENT_TOKEN CONSUL_AGENT_TOKEN CONSUL_READ_TOKEN CONSUL_TOKEN_CONFIG_SERVER CONSUL_TOKEN_USER_SERVICE
  CONSUL_TOKEN_COUPON_SERVICE CONSUL_TOKEN_ISSUE_COUPON_SERVICE CONSUL_TOKEN_CONSOLE_SERVICE CONSUL_TOKEN_GATEWAY)

new_secret() {
  case $1 in
    CONSUL_*) cat /proc/sys/kernel/random/uuid ;;
    *) head -c 36 /dev/urandom | base64 | tr -d '/+=\n' ;;
  esac
}

# The run folder whose Redis master answers on this run's port, found from the server's working
# directory (redis-server moves into its `dir`, <run folder>/data/redis): components another
# checkout started are used as they are, and they know only that checkout's secrets.
running_run_dir() {
  local pid dir
  pid=$(ss -ltnpH "sport = :${REDIS_PORT:-6379}" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  [ -n "$pid" ] && dir=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
  [[ $dir == */data/redis ]] && echo "${dir%/data/redis}"
}

load_secrets() {
  local file="$RUN_DIR/secrets.env" name value other
  other=$(running_run_dir || true)
  if [ -n "$other" ] && [ "$other" != "$RUN_DIR" ]; then
    [ -r "$other/secrets.env" ] || die "the components on this machine run from $other, whose secrets this checkout cannot read: stop them there (npm stop) or run this from there"
    say "the components on this machine run from $other: using its secrets"
    file="$other/secrets.env"
  fi
  ( umask 077; touch "$file" )
  chmod 600 "$file"
  # Earlier versions wrote the constant database password; it is replaced by a generated one.
  sed -i '/^DB_PASSWORD=coupon$/d' "$file"
  for name in "${SECRET_NAMES[@]}"; do
    [ -n "${!name:-}" ] && continue
    grep -q "^$name=." "$file" && continue
    printf '%s=%s\n' "$name" "$(new_secret "$name")" >> "$file"
  done
  # What the environment sets wins over the file.
  local preset=()
  for name in "${SECRET_NAMES[@]}"; do [ -n "${!name:-}" ] && preset+=("$name=${!name}"); done
  set -a; source "$file"; set +a
  for value in "${preset[@]}"; do export "${value?}"; done
}

say() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# Long steps (Go builds, apt-get, Maven resolves, npm ci, the typed lint) say every PROGRESS_SECONDS
# that they are still going and for how long, so nothing runs silent for minutes. progress_begin
# WHAT starts a ticker beside this shell and progress_end stops it; the ticker also ends within a
# second of this shell's exit (a die, set -e), so a failed step leaves no ticker behind. One at a
# time per shell: a subshell (a Go build run beside another) has its own.
PROGRESS_SECONDS=${PROGRESS_SECONDS:-10}
PROGRESS_PID=
progress_begin() {
  progress_end
  local what=$1 owner=$BASHPID
  (
    started=$SECONDS next=$((SECONDS + PROGRESS_SECONDS))
    while kill -0 "$owner" 2>/dev/null; do
      sleep 1
      if [ $SECONDS -ge $next ]; then
        say "... $what ($((SECONDS - started))s)"
        next=$((next + PROGRESS_SECONDS))
      fi
    done
  ) &
  PROGRESS_PID=$!
}
progress_end() {
  [ -n "$PROGRESS_PID" ] || return 0
  kill "$PROGRESS_PID" 2>/dev/null || true
  wait "$PROGRESS_PID" 2>/dev/null || true
  PROGRESS_PID=
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_bg NAME LOGFILE CMD... — runs CMD detached from this shell, records its pid.
start_bg() {
  local name=$1 logfile=$2; shift 2
  setsid nohup "$@" >>"$logfile" 2>&1 < /dev/null &
  echo $! > "$PID_DIR/$name.pid"
}

# running PID — the process exists and is not a zombie (this machine's init reaps orphans only
# every second or two, and kill -0 succeeds on a zombie).
running() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $s != Z* ]]; }

# group_running PGID — some live process is in that process group.
group_running() { ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'; }

# stop_pid NAME — TERM then KILL the process recorded by start_bg, if it is still ours. setsid made
# it the leader of its own process group, so the group is it and whatever it started (a supervisor's
# service): only the leader gets the TERM (a supervisor forwards it once; a second TERM would cut a
# service's graceful stop short), then the group is waited for and what remains is killed. A leader
# that is already gone may have left members behind (a supervisor killed -9 leaves its service).
stop_pid() {
  local name=$1 pidfile="$PID_DIR/$1.pid" pid i
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if running "$pid"; then
    kill "$pid" 2>/dev/null || true
  elif group_running "$pid"; then
    kill -- "-$pid" 2>/dev/null || true
  fi
  for i in $(seq 1 100); do group_running "$pid" || running "$pid" || break; sleep 0.2; done
  if group_running "$pid"; then kill -9 -- "-$pid" 2>/dev/null || true; fi
  if running "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
}

# wait_until NAME LOGFILE SECONDS CMD... — polls CMD until it succeeds; on timeout names the
# component and the log to read, with its last lines.
wait_until() {
  local name=$1 logfile=$2 seconds=$3; shift 3
  local started=$SECONDS deadline=$((SECONDS + seconds)) next=$((SECONDS + PROGRESS_SECONDS))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $next ]; then
      say "... waiting for $name ($((SECONDS - started))s of at most ${seconds}s)"
      next=$((next + PROGRESS_SECONDS))
    fi
    if [ $SECONDS -ge $deadline ]; then
      say "$name did not become ready within ${seconds}s; its log is $logfile:"
      tail -n 20 "$logfile" >&2 2>/dev/null || true
      die "$name is not up"
    fi
    sleep 0.3
  done
}

# status_line NAME PORT VERSION UP(0/1)
status_line() {
  local state=down
  [ "$4" = 0 ] && state=up
  printf '%-16s %-5s port %-24s %s\n' "$1" "$state" "$2" "$3"
}

apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  # Keep the packages' own init scripts from starting system-wide daemons: we run our own.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' > $policy; chmod +x $policy; created=1; fi
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
    progress_begin "apt-get update"
    apt-get update -qq
  fi
  progress_begin "apt-get installing ${missing[*]}; log: $LOG_DIR/apt.log"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >"$LOG_DIR/apt.log" 2>&1 \
    || { [ $created = 1 ] && rm -f $policy; die "apt-get install failed, see $LOG_DIR/apt.log"; }
  progress_end
  [ $created = 1 ] && rm -f $policy
  return 0
}

# go_build_begin WHAT LOG HOW-LONG — the start of a component's build from Go sources: go must be
# there; says what is built, how long it takes and where its log is, then keeps saying it
# (progress_begin) until go_build_done.
go_build_begin() {
  local what=$1 log=$2 how_long=$3
  command -v go >/dev/null || die "go is needed to build $what"
  mkdir -p "$CACHE_DIR/bin" "$CACHE_DIR/build"
  say "building $what from the Go module proxy ($how_long); log: $log"
  progress_begin "building $what"
  : >"$log"
}

# go_build_done BIN BUILD — the built BIN.tmp becomes BIN, the build folder goes.
go_build_done() {
  mv "$1.tmp" "$1"
  rm -rf "$2"
  progress_end
  say "built $1"
}

# go_module_source NAME MODULE@VERSION LOG — a writable copy of a Go module's source, fetched
# through the Go module proxy (the only way to its code here) into a fresh build folder under the
# cache; prints the folder, which holds the source in src/ and a GOTMPDIR in tmp/. Call it as
# build=$(go_module_source ...) || exit 1: die in a command substitution ends only that subshell.
go_module_source() {
  local name=$1 module=$2 log=$3 src build
  src=$(go mod download -json "$module" 2>>"$log" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$src" ] && [ -d "$src" ] || die "$name: module download failed, see $log"
  mkdir -p "$CACHE_DIR/build"
  build=$(mktemp -d "$CACHE_DIR/build/$name.XXXXXX")
  mkdir -p "$build/tmp" && cp -R "$src" "$build/src" && chmod -R u+w "$build/src" \
    || die "$name: cannot copy the source to $build"
  printf '%s\n' "$build"
}
