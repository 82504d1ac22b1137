# Redis 7 master (6379) + two replicas (6380, 6381) + three Sentinels (26379-26381, quorum 2), from
# Debian packages. Two replicas: a claim counts once one of them holds it (WAIT), and after a
# failover the new master still has a replica, so claims stay durable while the old one is away.
REDIS_MASTER_NAME="${REDIS_MASTER_NAME:-coupon-master}"
# Other base ports (with another COUPON_RUSH_RUN) run a second set, e.g. the fault suite's own.
REDIS_PORT="${REDIS_PORT:-6379}"
SENTINEL_PORT="${SENTINEL_PORT:-26379}"
REDIS_PORTS="$REDIS_PORT $((REDIS_PORT + 1)) $((REDIS_PORT + 2))"
SENTINEL_PORTS="$SENTINEL_PORT $((SENTINEL_PORT + 1)) $((SENTINEL_PORT + 2))"

redis_install() { apt_install redis-server redis-sentinel redis-tools; }

# The master the Sentinels elected, when they run: after a failover a restarted node rejoins as
# its replica instead of coming back as a second master with stale claims.
redis_elected_master() {
  local port elected
  for port in $SENTINEL_PORTS; do
    elected=$(redis-cli -p "$port" sentinel get-master-addr-by-name "$REDIS_MASTER_NAME" 2>/dev/null | sed -n 2p)
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
    } > "$dir/redis-$port.conf"
    start_bg "redis-$port" "$log" redis-server "$dir/redis-$port.conf"
    wait_until "redis $port" "$log" 30 redis-cli -p "$port" ping
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
CONF
    start_bg "sentinel-$port" "$log" redis-server "$dir/sentinel-$port.conf" --sentinel
    wait_until "sentinel $port" "$log" 30 redis-cli -p "$port" sentinel get-master-addr-by-name "$REDIS_MASTER_NAME"
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
    v=$(redis-cli -p "$port" info server 2>/dev/null | tr -d '\r' | sed -n 's/^redis_version://p')
    role=$(redis-cli -p "$port" info replication 2>/dev/null | tr -d '\r' | sed -n 's/^role://p')
    [ -n "$v" ]; status_line "redis-$port" "$port" "${v:-?} ${role}" $?
  done
  for port in $SENTINEL_PORTS; do
    master=$(redis-cli -p "$port" sentinel get-master-addr-by-name "$REDIS_MASTER_NAME" 2>/dev/null | paste -sd: -)
    [ -n "$master" ]; status_line "sentinel-$port" "$port" "master $REDIS_MASTER_NAME=${master:-?}" $?
  done
}
