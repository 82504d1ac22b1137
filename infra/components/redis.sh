# Redis 7 master (6379) + two replicas (6380, 6381) + three Sentinels (26379-26381, quorum 2), from
# Debian packages. Two replicas: a claim counts once one of them holds it (WAIT), and after a
# failover the new master still has a replica, so claims stay durable while the old one is away.
REDIS_MASTER_NAME="${REDIS_MASTER_NAME:-coupon-master}"
# Other base ports (with another COUPON_RUSH_RUN) run a second set, e.g. the fault suite's own.
REDIS_PORT="${REDIS_PORT:-6379}"
SENTINEL_PORT="${SENTINEL_PORT:-26379}"
REDIS_PORTS="$REDIS_PORT $((REDIS_PORT + 1)) $((REDIS_PORT + 2))"
SENTINEL_PORTS="$SENTINEL_PORT $((SENTINEL_PORT + 1)) $((SENTINEL_PORT + 2))"

# Key and channel prefixes the application user may touch: the platform's own (cr:) and the
# throwaway ones of tests, the fault suite, the strategy lab (whose mutex strategy adds mutex:) and
# the bench's issue floor.
REDIS_APP_KEYS="~cr:* ~test:* ~faults:* ~lab:* ~mutex:* ~bench-floor:*"
REDIS_APP_CHANNELS="&cr:* &test:* &faults:* &lab:*"

redis_install() { apt_install redis-server redis-sentinel redis-tools; }

# redis_cli ARGS... — redis-cli as the admin user (the password passes in the environment, not argv).
redis_cli() { REDISCLI_AUTH="$REDIS_ADMIN_PASSWORD" redis-cli --user admin --no-auth-warning "$@"; }

# ACL users of the data nodes (not replicated: every node gets the same). No one gets in without a
# password (default off). app: the services, every command but the @dangerous ones (INFO back:
# ioredis's ready check and the claim scripts' timeline check read it); replication: what a replica
# needs of its master; sentinel: the commands Sentinel sends (Redis Sentinel documentation);
# admin: operators, test cleanup and these scripts.
redis_data_users() {
  : "${REDIS_PASSWORD:?}" "${REDIS_ADMIN_PASSWORD:?}" "${REDIS_REPLICATION_PASSWORD:?}" "${REDIS_SENTINEL_PASSWORD:?}"
  cat <<CONF
user default off
user app on >$REDIS_PASSWORD resetkeys $REDIS_APP_KEYS resetchannels $REDIS_APP_CHANNELS +@all -@dangerous +info
user replication on >$REDIS_REPLICATION_PASSWORD -@all +psync +replconf +ping
user sentinel on >$REDIS_SENTINEL_PASSWORD allchannels -@all +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill
user admin on >$REDIS_ADMIN_PASSWORD ~* &* +@all
masteruser replication
masterauth $REDIS_REPLICATION_PASSWORD
CONF
}

# ACL users of the Sentinels: app may only find the master, its replicas and the other Sentinels
# and follow the failover events (what ioredis and the services' fence probe send).
redis_sentinel_users() {
  : "${REDIS_SENTINEL_PEER_PASSWORD:?}"
  cat <<CONF
sentinel auth-user $REDIS_MASTER_NAME sentinel
sentinel auth-pass $REDIS_MASTER_NAME $REDIS_SENTINEL_PASSWORD
user default off
user sentinel-peer on >$REDIS_SENTINEL_PEER_PASSWORD allchannels +@all
sentinel sentinel-user sentinel-peer
sentinel sentinel-pass $REDIS_SENTINEL_PEER_PASSWORD
user app on >$REDIS_PASSWORD allchannels -@all +@connection +sentinel|get-master-addr-by-name +sentinel|sentinels +sentinel|replicas +sentinel|slaves +subscribe +unsubscribe
user admin on >$REDIS_ADMIN_PASSWORD allchannels +@all
CONF
}

# The master the Sentinels elected, when they run: after a failover a restarted node rejoins as
# its replica instead of coming back as a second master with stale claims.
redis_elected_master() {
  local port elected
  for port in $SENTINEL_PORTS; do
    elected=$(redis_cli -p "$port" sentinel get-master-addr-by-name "$REDIS_MASTER_NAME" 2>/dev/null | sed -n 2p)
    [ -n "$elected" ] && { echo "$elected"; return 0; }
  done
  return 1
}

redis_start() {
  local dir="$DATA_DIR/redis" port log master
  mkdir -p "$dir"
  master=$(redis_elected_master || true)
  master=${master:-$REDIS_PORT}
  for port in $REDIS_PORTS; do
    port_open "$port" && { say "redis already listening on $port"; continue; }
    log="$LOG_DIR/redis-$port.log"
    {
      echo "port $port"; echo "bind 127.0.0.1"; echo "dir $dir"
      echo "dbfilename dump-$port.rdb"; echo "appendfilename appendonly-$port.aof"
      # Claims live in Redis: keep them across a restart (AOF, fsync every second).
      echo "appendonly yes"; echo "appenddirname aof-$port"; echo "appendfsync everysec"
      echo "save 60 1000"
      # A master refuses writes when no replica follows it: a claim is durable only once copied.
      echo "min-replicas-to-write 1"; echo "min-replicas-max-lag 10"
      [ "$port" != "$master" ] && echo "replicaof 127.0.0.1 $master"
      redis_data_users
    } > "$dir/redis-$port.conf"
    chmod 600 "$dir/redis-$port.conf"
    start_bg "redis-$port" "$log" redis-server "$dir/redis-$port.conf"
    wait_until "redis $port" "$log" 30 redis_cli -p "$port" ping
  done
  for port in $SENTINEL_PORTS; do
    port_open "$port" && { say "sentinel already listening on $port"; continue; }
    log="$LOG_DIR/sentinel-$port.log"
    # Sentinel rewrites its own file; regenerate it so a fresh start monitors the current master.
    cat > "$dir/sentinel-$port.conf" <<CONF
port $port
bind 127.0.0.1
dir $dir
sentinel resolve-hostnames no
sentinel monitor $REDIS_MASTER_NAME 127.0.0.1 $master 2
sentinel down-after-milliseconds $REDIS_MASTER_NAME 2000
sentinel failover-timeout $REDIS_MASTER_NAME 10000
sentinel parallel-syncs $REDIS_MASTER_NAME 1
$(redis_sentinel_users)
CONF
    chmod 600 "$dir/sentinel-$port.conf"
    start_bg "sentinel-$port" "$log" redis-server "$dir/sentinel-$port.conf" --sentinel
    wait_until "sentinel $port" "$log" 30 redis_cli -p "$port" sentinel get-master-addr-by-name "$REDIS_MASTER_NAME"
  done
}

redis_stop() {
  local port
  for port in $SENTINEL_PORTS; do stop_pid "sentinel-$port"; done
  for port in $REDIS_PORTS; do stop_pid "redis-$port"; done
}

redis_status() {
  local port v role master
  for port in $REDIS_PORTS; do
    v=$(redis_cli -p "$port" info server 2>/dev/null | tr -d '\r' | sed -n 's/^redis_version://p')
    role=$(redis_cli -p "$port" info replication 2>/dev/null | tr -d '\r' | sed -n 's/^role://p')
    [ -n "$v" ]; status_line "redis-$port" "$port" "${v:-?} ${role}" $?
  done
  for port in $SENTINEL_PORTS; do
    master=$(redis_cli -p "$port" sentinel get-master-addr-by-name "$REDIS_MASTER_NAME" 2>/dev/null | paste -sd: -)
    [ -n "$master" ]; status_line "sentinel-$port" "$port" "master $REDIS_MASTER_NAME=${master:-?}" $?
  done
}
