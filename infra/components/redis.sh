# Redis 7 master (6379) + replica (6380) + three Sentinels (26379-26381, quorum 2), Debian packages.
REDIS_MASTER_NAME="${REDIS_MASTER_NAME:-coupon-master}"
REDIS_PORTS="6379 6380"
SENTINEL_PORTS="26379 26380 26381"

redis_install() { apt_install redis-server redis-sentinel redis-tools; }

redis_start() {
  local dir="$DATA_DIR/redis" port log
  mkdir -p "$dir"
  for port in $REDIS_PORTS; do
    port_open "$port" && { say "redis already listening on $port"; continue; }
    log="$LOG_DIR/redis-$port.log"
    {
      echo "port $port"; echo "bind 127.0.0.1"; echo "dir $dir"
      echo "dbfilename dump-$port.rdb"; echo "appendfilename appendonly-$port.aof"
      # Claims live in Redis: keep them across a restart (AOF, fsync every second).
      echo "appendonly yes"; echo "appenddirname aof-$port"; echo "appendfsync everysec"
      echo "save 60 1000"
      [ "$port" != 6379 ] && echo "replicaof 127.0.0.1 6379"
    } > "$dir/redis-$port.conf"
    start_bg "redis-$port" "$log" redis-server "$dir/redis-$port.conf"
    wait_until "redis $port" "$log" 30 redis-cli -p "$port" ping
  done
  for port in $SENTINEL_PORTS; do
    port_open "$port" && { say "sentinel already listening on $port"; continue; }
    log="$LOG_DIR/sentinel-$port.log"
    # Sentinel rewrites its own file; regenerate it so a fresh start always monitors 6379.
    cat > "$dir/sentinel-$port.conf" <<CONF
port $port
bind 127.0.0.1
dir $dir
sentinel resolve-hostnames no
sentinel monitor $REDIS_MASTER_NAME 127.0.0.1 6379 2
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
